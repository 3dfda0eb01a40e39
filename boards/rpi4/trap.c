/*
 * Exception report. Every exception is fatal: interrupts stay masked, and the binding has no
 * system calls or page faults to serve. The report goes to the UART, then the unikernel ends
 * with status RPI4_EXIT_TRAP (254).
 *
 * boot.S runs the application on SP_EL0, so an exception switches to SP_EL1, a separate stack
 * in .bss: even a stack overflow (a fault on the guard page) gets a report.
 */
#include "rpi4.h"

struct trap_frame {
    uint64_t x[31];
    uint64_t sp_el0, elr, spsr, esr, far;
};
_Static_assert(sizeof(struct trap_frame) == 288, "frame layout shared with vectors.S");

static const char *const vector_kinds[4] = {"synchronous exception", "IRQ", "FIQ", "SError"};
static const char *const vector_origins[4] = {
    "EL1, application stack (SP_EL0)", "EL1, exception stack (SP_EL1)", "lower EL (AArch64)",
    "lower EL (AArch32)"};

static const char *exception_class(unsigned ec)
{
    switch (ec) {
    case 0x00: return "undefined instruction (unknown reason)";
    case 0x01: return "trapped WFI/WFE";
    case 0x07: return "trapped FP/SIMD access";
    case 0x0e: return "illegal execution state";
    case 0x15: return "SVC instruction";
    case 0x18: return "trapped system register access";
    case 0x20: return "instruction abort from a lower EL";
    case 0x21: return "instruction abort";
    case 0x22: return "PC alignment fault";
    case 0x24: return "data abort from a lower EL";
    case 0x25: return "data abort";
    case 0x26: return "SP alignment fault";
    case 0x2c: return "floating-point exception";
    case 0x2f: return "SError";
    case 0x30: case 0x31: return "breakpoint";
    case 0x32: case 0x33: return "software step";
    case 0x34: case 0x35: return "watchpoint";
    case 0x3c: return "BRK instruction";
    default: return "unexpected exception class";
    }
}

static const char *fault_status(unsigned fsc)
{
    switch (fsc & 0x3c) {
    case 0x00: return "address size fault";
    case 0x04: return "translation fault";
    case 0x08: return "access flag fault";
    case 0x0c: return "permission fault";
    }
    switch (fsc) {
    case 0x10: return "synchronous external abort";
    case 0x21: return "alignment fault";
    case 0x30: return "TLB conflict abort";
    default: return "other fault";
    }
}

static void describe_abort(const struct trap_frame *f, unsigned ec)
{
    unsigned fsc = f->esr & 0x3f;
    bool data = ec == 0x24 || ec == 0x25;
    rpi4_printf("rpi4:   %s%s", data ? (f->esr & (1u << 6) ? "write, " : "read, ") : "",
                fault_status(fsc));
    if (fsc < 0x10)
        rpi4_printf(" at level %u", fsc & 3);
    rpi4_printf(", address 0x%lx\n", f->far);
    const struct rpi4_boot *b = &rpi4_boot;
    if (f->far < PAGE_SIZE)
        rpi4_printf("rpi4:   (NULL pointer dereference?)\n");
    else if (f->far >= b->guard_page && f->far < b->stack_bottom)
        rpi4_printf("rpi4:   (stack overflow: the address is in the guard page below the %u KiB "
                    "stack)\n",
                    APP_STACK_SIZE / 1024);
}

void rpi4_trap(struct trap_frame *f, unsigned vector)
{
    static volatile bool reporting;
    if (reporting) {
        rpi4_printf("\nrpi4: FATAL: another exception (ESR 0x%lx, ELR 0x%lx) while reporting one\n",
                    f->esr, f->elr);
        rpi4_exit(RPI4_EXIT_TRAP);
    }
    reporting = true;

    unsigned ec = (f->esr >> 26) & 0x3f;
    if ((vector & 3) == 0 && ec == 0x00 && f->elr == (uintptr_t)rpi4_semihosting_hlt) {
        /* x2 holds the status (see rpi4_semihosting_exit in boot.S). */
        rpi4_printf("rpi4: --solo5:semihosting was given but semihosting is not enabled (QEMU: "
                    "-semihosting-config enable=on,target=native); halting, exit status %d "
                    "lost\n",
                    (int)f->x[2]);
        rpi4_semihosting = false;
        rpi4_exit(RPI4_EXIT_TRAP);
    }

    rpi4_printf("\nrpi4: FATAL: %s taken from %s\n", vector_kinds[vector & 3],
                vector_origins[(vector >> 2) & 3]);
    if ((vector & 3) == 0) {
        rpi4_printf("rpi4:   %s (EC 0x%x)", exception_class(ec), ec);
        if (ec == 0x3c || ec == 0x15)
            rpi4_printf(", immediate 0x%lx", f->esr & 0xffff);
        rpi4_printf("\n");
        if (ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25)
            describe_abort(f, ec);
    }
    rpi4_printf("rpi4:   ESR 0x%08lx  ELR 0x%016lx  FAR 0x%016lx\n", f->esr, f->elr, f->far);
    uint64_t sp = ((vector >> 2) & 3) == 1 ? (uintptr_t)(f + 1) : f->sp_el0;
    rpi4_printf("rpi4:   SPSR 0x%08lx  SP 0x%016lx  LR 0x%016lx\n", f->spsr, sp, f->x[30]);
    for (unsigned i = 0; i < 30; i += 3)
        rpi4_printf("rpi4:   x%-2u 0x%016lx  x%-2u 0x%016lx  x%-2u 0x%016lx\n", i, f->x[i], i + 1,
                    f->x[i + 1], i + 2, f->x[i + 2]);
    rpi4_printf("rpi4: exit status %d (trap)\n", RPI4_EXIT_TRAP);
    rpi4_exit(RPI4_EXIT_TRAP);
}
