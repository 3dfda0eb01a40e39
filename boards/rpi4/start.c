/*
 * From the MMU being on to solo5_app_main(), and the ELF notes that identify the binding.
 */
#include "rpi4.h"
#include "rpi4_abi.h"

bool rpi4_semihosting;

/*
 * The binding's own options lead the command line, as with Solo5's bindings:
 *   --solo5:quiet | --solo5:error | --solo5:warn | --solo5:info | --solo5:debug  (log level)
 *   --solo5:semihosting  end with a semihosting SYS_EXIT carrying the exit status. Only give it
 *                        when a debugger or QEMU (-semihosting-config enable=on) handles
 *                        semihosting: otherwise the instruction traps (the binding then falls
 *                        back to the watchdog, with a message, but the status is lost).
 * Parsing stops at the first other word; the rest is the application's command line.
 */
const char *options_parse(const char *p)
{
    static const struct {
        const char *name;
        int level; /* -1: not a log level */
    } options[] = {
        {"--solo5:quiet", LOG_ERROR}, {"--solo5:error", LOG_ERROR}, {"--solo5:warn", LOG_WARN},
        {"--solo5:info", LOG_INFO},   {"--solo5:debug", LOG_DEBUG}, {"--solo5:semihosting", -1},
    };
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = 0;
        while (p[len] && p[len] != ' ' && p[len] != '\t')
            len++;
        size_t i;
        for (i = 0; i < sizeof options / sizeof options[0]; i++) {
            if (strlen(options[i].name) == len && strncmp(p, options[i].name, len) == 0)
                break;
        }
        if (len == 0 || i == sizeof options / sizeof options[0])
            return p;
        if (options[i].level >= 0)
            rpi4_log_level = options[i].level;
        else
            rpi4_semihosting = true;
        p += len;
    }
}

static void report_layout(const struct rpi4_boot *b)
{
    rpi4_log(LOG_INFO, "rpi4: uktoolchain Solo5 binding for the Raspberry Pi 4 (ABI target RPI4 "
                       "v%u)\n",
             RPI4_ABI_VERSION);
    rpi4_log(LOG_INFO, "rpi4: entered at EL%u, running at EL1 with the MMU on; board revision "
                       "0x%x\n",
             b->entry_el, b->board_revision);
    rpi4_log(LOG_INFO, "rpi4: ARM memory 0x%lx-0x%lx (%lu MiB), timer %lu Hz, UART clock %u Hz\n",
             b->mem_base, b->mem_base + b->mem_size, b->mem_size >> 20, b->timer_hz,
             b->uart_clock);
    rpi4_log(LOG_INFO, "rpi4:   text   0x%lx-0x%lx\n", (uint64_t)(uintptr_t)_stext,
             (uint64_t)(uintptr_t)_etext);
    rpi4_log(LOG_INFO, "rpi4:   rodata 0x%lx-0x%lx\n", (uint64_t)(uintptr_t)_etext,
             (uint64_t)(uintptr_t)_erodata);
    rpi4_log(LOG_INFO, "rpi4:   data   0x%lx-0x%lx (with bss)\n", (uint64_t)(uintptr_t)_erodata,
             (uint64_t)(uintptr_t)_end);
    rpi4_log(LOG_INFO, "rpi4:   heap   0x%lx-0x%lx (%lu KiB)\n", (uint64_t)b->heap_start,
             (uint64_t)b->heap_end, (uint64_t)(b->heap_end - b->heap_start) >> 10);
    rpi4_log(LOG_INFO, "rpi4:   stack  0x%lx-0x%lx (%lu KiB, unmapped guard page below)\n",
             (uint64_t)b->stack_bottom, (uint64_t)b->stack_top,
             (uint64_t)(b->stack_top - b->stack_bottom) >> 10);
    rpi4_log(LOG_DEBUG, "rpi4: device tree from the firmware at 0x%lx\n", b->dtb);
}

void rpi4_main(void)
{
    static struct solo5_start_info start_info;
    const struct rpi4_boot *b = &rpi4_boot;

    report_layout(b);
    devices_init();
    clock_init();

    start_info.cmdline = b->app_cmdline;
    start_info.heap_start = b->heap_start;
    start_info.heap_size = b->heap_end - b->heap_start;
    solo5_exit(solo5_app_main(&start_info));
}

/*
 * ELF notes, in the layout every Solo5 binding uses: a 4-byte aligned header, the owner name
 * padded to 4 bytes, then the descriptor.
 */
struct rpi4_abi_note {
    uint32_t namesz, descsz, type;
    char name[8];
    uint32_t abi_target, abi_version, reserved0, reserved1;
};
_Static_assert(sizeof(struct rpi4_abi_note) == 36, "ABI1 note layout");

const struct rpi4_abi_note rpi4_abi_note
    __attribute__((section(".note.solo5.abi"), aligned(4), used)) = {
        .namesz = sizeof RPI4_NOTE_OWNER,
        .descsz = 16,
        .type = RPI4_NOTE_ABI1,
        .name = RPI4_NOTE_OWNER,
        .abi_target = RPI4_ABI_TARGET,
        .abi_version = RPI4_ABI_VERSION,
};

/*
 * Like Solo5's bindings: a PT_INTERP naming a file that cannot exist, so a host kernel refuses
 * to run the unikernel, and the OpenBSD identification note that makes OpenBSD honour it.
 */
const char rpi4_interp[24] __attribute__((section(".interp"), aligned(8), used)) =
    "/nonexistent/solo5/";

struct rpi4_openbsd_note {
    uint32_t namesz, descsz, type;
    char name[8];
    uint32_t desc;
};

const struct rpi4_openbsd_note rpi4_openbsd_note
    __attribute__((section(".note.solo5.not_openbsd"), aligned(4), used)) = {
        .namesz = 8, .descsz = 4, .type = 1, .name = "OpenBSD", .desc = 0};
