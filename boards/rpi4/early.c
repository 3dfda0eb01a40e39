/*
 * First C code, called by boot.S at EL1 with the MMU off, on the boot stack in .bss:
 * console, what the firmware tells us (memory, command line), the memory layout, the MMU.
 * Returns the top of the application stack, which boot.S switches to.
 */
#include "rpi4.h"

struct rpi4_boot rpi4_boot;

static char cmdline[4096];

#define UART_CLOCK_DEFAULT 48000000u /* the Pi 4 firmware's default init_uart_clock */

static uintptr_t align_down(uintptr_t x, uintptr_t a)
{
    return x & ~(a - 1);
}

static uintptr_t align_up(uintptr_t x, uintptr_t a)
{
    return align_down(x + a - 1, a);
}

static void layout(struct rpi4_boot *b)
{
    uint64_t top = b->mem_base + b->mem_size;
    if (top > RAM_MAP_LIMIT)
        top = RAM_MAP_LIMIT;
    b->stack_top = align_down(top, PAGE_SIZE);
    b->stack_bottom = b->stack_top - APP_STACK_SIZE;
    b->guard_page = b->stack_bottom - PAGE_SIZE;
    b->heap_start = align_up((uintptr_t)_end, PAGE_SIZE);
    b->heap_end = b->guard_page;
    if (b->mem_base > (uintptr_t)_stext || b->heap_end <= b->heap_start)
        rpi4_fatal("rpi4: ARM memory 0x%lx-0x%lx cannot hold the image (0x%lx-0x%lx) and a "
                   "%u KiB stack\n",
                   b->mem_base, top, (uint64_t)(uintptr_t)_stext,
                   (uint64_t)(uintptr_t)_end, APP_STACK_SIZE / 1024);
}

uintptr_t rpi4_early(unsigned entry_el, uint64_t dtb)
{
    struct rpi4_boot *b = &rpi4_boot;
    b->entry_el = entry_el;
    b->dtb = dtb;
    b->timer_hz = sysreg_read(cntfrq_el0);

    uint32_t hz;
    b->uart_clock = (mbox_clock_rate(MBOX_CLOCK_UART, &hz) == 0 && hz) ? hz : UART_CLOCK_DEFAULT;
    uart_init(b->uart_clock);

    /* Options first: they choose how a failure below ends (semihosting or watchdog). */
    bool have_cmdline = mbox_cmdline(cmdline, sizeof cmdline) >= 0;
    if (!have_cmdline)
        cmdline[0] = '\0';
    b->app_cmdline = options_parse(cmdline);
    if (!have_cmdline)
        rpi4_log(LOG_WARN, "rpi4: no command line from the mailbox (or longer than %zu bytes)\n",
                 sizeof cmdline - 1);

    if (mbox_board_revision(&b->board_revision) != 0)
        b->board_revision = 0;
    uint32_t base, size;
    if (mbox_arm_memory(&base, &size) != 0 || size == 0)
        rpi4_fatal("rpi4: the VideoCore mailbox did not report the ARM memory size\n");
    b->mem_base = base;
    b->mem_size = size;
    layout(b);
    mmu_setup();
    return b->stack_top;
}
