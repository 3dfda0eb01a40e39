/*
 * Time from the ARM generic timer, at the frequency the firmware programmed into cntfrq_el0
 * (54 MHz on the Pi 4, 62.5 MHz under QEMU): never assumed.
 *
 * solo5_yield() sleeps with WFI until the EL1 virtual timer fires. Interrupts stay masked in
 * PSTATE: a pending interrupt wakes WFI without being taken, and nothing needs acknowledging.
 * For the timer to reach the core, the GIC-400 must forward INTID 27: clock_init() enables it
 * and then checks that it arrives (ISR_EL1.I). If it does not (a GIC left to the secure world,
 * enable_gic=0), solo5_yield() polls the counter with WFE and the timer's event stream instead.
 */
#include "rpi4.h"

#define NSEC_PER_SEC 1000000000ull

#define GICD_CTLR        0x000
#define GICD_ISENABLER0  0x100
#define GICD_IPRIORITYR  0x400
#define GICC_CTLR        0x000
#define GICC_PMR         0x004

#define CNTV_CTL_ENABLE  (1u << 0)
#define ISR_I            (1u << 7)
/* CNTKCTL_EL1: EVNTEN, event on the 0->1 edge of counter bit EVNTI (set below). */
#define CNTKCTL_EVNTEN   (1u << 2)
#define CNTKCTL_EVNTI(n) ((uint64_t)(n) << 4)

static uint64_t hz;
static bool wfi_wakes;

uint64_t clock_counter(void)
{
    isb(); /* not read early, out of order */
    return sysreg_read(cntvct_el0);
}

static uint64_t ticks_to_ns(uint64_t t)
{
    return (t / hz) * NSEC_PER_SEC + (t % hz) * NSEC_PER_SEC / hz;
}

static uint64_t ns_to_ticks(uint64_t ns)
{
    uint64_t s = ns / NSEC_PER_SEC;
    if (s > UINT64_MAX / hz - 1)
        return UINT64_MAX;
    return s * hz + (ns % NSEC_PER_SEC) * hz / NSEC_PER_SEC;
}

static void gic_forward_virtual_timer(void)
{
    unsigned id = TIMER_VIRT_INTID;
    uintptr_t prio = GICD_BASE + GICD_IPRIORITYR + (id / 4) * 4;
    unsigned shift = (id % 4) * 8;
    mmio_write(prio, (mmio_read(prio) & ~(0xffu << shift)) | (0x80u << shift));
    mmio_write(GICD_BASE + GICD_ISENABLER0, 1u << id);
    mmio_write(GICD_BASE + GICD_CTLR, mmio_read(GICD_BASE + GICD_CTLR) | 1);
    mmio_write(GICC_BASE + GICC_PMR, 0xf0);
    mmio_write(GICC_BASE + GICC_CTLR, mmio_read(GICC_BASE + GICC_CTLR) | 1);
    dsb(sy);
}

static void timer_arm(uint64_t deadline_ticks)
{
    sysreg_write(cntv_cval_el0, deadline_ticks);
    sysreg_write(cntv_ctl_el0, CNTV_CTL_ENABLE);
    isb();
}

static void timer_disarm(void)
{
    sysreg_write(cntv_ctl_el0, 0);
    isb();
}

/* Fire the timer at once and watch for its interrupt at the core for up to 10 ms. */
static bool timer_interrupt_arrives(void)
{
    uint64_t start = clock_counter();
    bool seen = false;
    timer_arm(start);
    while (clock_counter() - start < hz / 100) {
        if (sysreg_read(isr_el1) & ISR_I) {
            seen = true;
            break;
        }
    }
    timer_disarm();
    return seen;
}

void clock_init(void)
{
    hz = rpi4_boot.timer_hz;
    if (hz == 0)
        rpi4_fatal("rpi4: the generic timer frequency (cntfrq_el0) is 0\n");
    gic_forward_virtual_timer();
    wfi_wakes = timer_interrupt_arrives();
    if (wfi_wakes) {
        rpi4_log(LOG_INFO, "rpi4: solo5_yield sleeps with WFI (virtual timer, GIC INTID %u)\n",
                 TIMER_VIRT_INTID);
    } else {
        /* An event about every 2^(9+1) ticks: ~19 us at 54 MHz. */
        sysreg_write(cntkctl_el1, (sysreg_read(cntkctl_el1) & ~(0xfull << 4)) |
                                      CNTKCTL_EVNTEN | CNTKCTL_EVNTI(9));
        isb();
        rpi4_log(LOG_WARN, "rpi4: the timer interrupt does not reach the core (GIC not set up "
                           "for the non-secure world?): solo5_yield polls with WFE\n");
    }
}

solo5_time_t solo5_clock_monotonic(void)
{
    return ticks_to_ns(clock_counter());
}

/*
 * The Pi 4 has no battery-backed clock and the binding does not speak NTP: the wall clock is
 * the Unix epoch plus the time since the counter started (power-on). Documented in README.md.
 */
solo5_time_t solo5_clock_wall(void)
{
    return solo5_clock_monotonic();
}

void solo5_yield(solo5_time_t deadline, solo5_handle_set_t *ready_set)
{
    if (ready_set)
        *ready_set = 0; /* no devices, so never anything ready */
    uint64_t target = ns_to_ticks(deadline);
    if (clock_counter() >= target)
        return;
    timer_arm(target);
    while (clock_counter() < target) {
        if (wfi_wakes)
            __asm__ __volatile__("dsb sy\n\twfi" ::: "memory");
        else
            __asm__ __volatile__("wfe" ::: "memory");
    }
    timer_disarm();
}
