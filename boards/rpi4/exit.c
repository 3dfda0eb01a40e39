/*
 * Ending the unikernel.
 *
 * With --solo5:semihosting: a semihosting SYS_EXIT, which hands the status to QEMU
 * (-semihosting-config enable=on,target=native) or a debugger. Otherwise, and if that returns:
 * a watchdog reset marked as a halt, the way Linux powers off a Pi: the firmware sees the
 * "halt" partition in PM_RSTS and stays down instead of booting again; QEMU started with
 * -no-reboot exits (status 0). The status is printed on the console in both cases.
 */
#include "rpi4.h"

#define PM_RSTC 0x1c
#define PM_RSTS 0x20
#define PM_WDOG 0x24
#define PM_PASSWORD 0x5a000000u
#define PM_RSTC_WRCFG_MASK 0x30u
#define PM_RSTC_WRCFG_FULL_RESET 0x20u
#define PM_RSTS_HALT 0x555u /* partition 63: the firmware's "halt" */
#define PM_WDOG_TICKS 10u   /* of ~16 us */

static void watchdog_halt(void)
{
    mmio_write(PM_BASE + PM_RSTS, PM_PASSWORD | mmio_read(PM_BASE + PM_RSTS) | PM_RSTS_HALT);
    mmio_write(PM_BASE + PM_WDOG, PM_PASSWORD | PM_WDOG_TICKS);
    uint32_t rstc = mmio_read(PM_BASE + PM_RSTC) & ~PM_RSTC_WRCFG_MASK;
    mmio_write(PM_BASE + PM_RSTC, PM_PASSWORD | rstc | PM_RSTC_WRCFG_FULL_RESET);
}

void rpi4_exit(int status)
{
    uart_flush();
    if (rpi4_semihosting)
        rpi4_semihosting_exit(status);
    watchdog_halt();
    for (;;)
        __asm__ __volatile__("wfi");
}

void rpi4_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rpi4_vprintf(fmt, ap);
    va_end(ap);
    rpi4_printf("rpi4: exit status %d (abort)\n", RPI4_EXIT_ABORT);
    rpi4_exit(RPI4_EXIT_ABORT);
}

void solo5_exit(int status)
{
    rpi4_log(LOG_INFO, "rpi4: solo5_exit(%d) called\n", status);
    rpi4_exit(status);
}

void solo5_abort(void)
{
    rpi4_printf("rpi4: solo5_abort() called\n");
    rpi4_exit(SOLO5_EXIT_ABORT);
}

/*
 * Stack protector (code built with -fstack-protector*). boot.S replaces the initial value
 * from the counter before any C runs; keeping the second byte zero stops string overflows
 * from reproducing it.
 */
uintptr_t __stack_chk_guard = 0x00000aff0d0a0000ull;

void __stack_chk_fail(void) NORETURN;
void __stack_chk_fail(void)
{
    rpi4_fatal("rpi4: stack smashing detected\n");
}
