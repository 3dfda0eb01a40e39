/*
 * Internal interfaces of the rpi4 binding (not installed; every symbol except solo5_*, _start
 * and the stack-protector pair is made local when solo5_rpi4.o is linked).
 */
#ifndef RPI4_H
#define RPI4_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "solo5.h"

#include "board.h"

#define NORETURN __attribute__((noreturn))

/* What the boot path learned; filled by rpi4_early() before the MMU is on. */
struct rpi4_boot {
    unsigned entry_el;        /* exception level _start was entered at (1-3) */
    uint64_t dtb;             /* x0 at entry: the firmware's device tree, or 0 */
    uint32_t board_revision;  /* 0 when the mailbox does not say */
    uint32_t uart_clock;      /* Hz, as used for the baud divisor */
    uint64_t mem_base, mem_size; /* "get ARM memory" */
    uint64_t timer_hz;        /* cntfrq_el0 */
    uintptr_t heap_start, heap_end; /* [start, end) handed to the application */
    uintptr_t guard_page;     /* unmapped page between heap and stack */
    uintptr_t stack_bottom, stack_top;
    const char *app_cmdline;  /* the command line after the binding's own --solo5: options */
};
extern struct rpi4_boot rpi4_boot;

/* Linker script symbols (the names Solo5's scripts use, plus our .bss bounds). */
extern char _stext[], _etext[], _erodata[], _end[];
extern char __rpi4_bss_start[], __rpi4_bss_end[];

/* Logging: errors are always printed; --solo5:quiet etc. select the rest. */
enum rpi4_log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern int rpi4_log_level;
void rpi4_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rpi4_vprintf(const char *fmt, va_list ap);
#define rpi4_log(level, ...)                                                                   \
    do {                                                                                       \
        if ((level) <= rpi4_log_level)                                                         \
            rpi4_printf(__VA_ARGS__);                                                          \
    } while (0)

/* Console: PL011 UART0. */
void uart_init(uint32_t clock_hz);
void uart_write(const char *buf, size_t len); /* '\n' goes out as "\r\n" */
void uart_flush(void);

/* VideoCore property mailbox; only used while the MMU (and so the data cache) is off. */
int mbox_board_revision(uint32_t *rev);
int mbox_arm_memory(uint32_t *base, uint32_t *size);
int mbox_clock_rate(uint32_t clock_id, uint32_t *hz);
long mbox_cmdline(char *buf, size_t size);
#define MBOX_CLOCK_UART 2

/* Identity map and MMU. */
void mmu_setup(void);

/* Command line options of the binding; returns the rest. */
const char *options_parse(const char *cmdline);
extern bool rpi4_semihosting;

/* Generic timer, GIC, solo5_yield. */
void clock_init(void);
uint64_t clock_counter(void);

/* Devices from the manifest (none are supported). */
void devices_init(void);

/* Ending: semihosting SYS_EXIT when asked for, else watchdog halt. */
void rpi4_exit(int status) NORETURN;
void rpi4_fatal(const char *fmt, ...) NORETURN __attribute__((format(printf, 1, 2)));
void rpi4_semihosting_exit(int status); /* boot.S; returns only if not trapped */
extern const char rpi4_semihosting_hlt[];

/* Entry points from boot.S. */
uintptr_t rpi4_early(unsigned entry_el, uint64_t dtb);
void rpi4_main(void) NORETURN;
struct trap_frame;
void rpi4_trap(struct trap_frame *frame, unsigned vector) NORETURN;

/* Freestanding helpers (lib.c). */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* Device registers. */
static inline uint32_t mmio_read(uintptr_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void mmio_write(uintptr_t addr, uint32_t value)
{
    *(volatile uint32_t *)addr = value;
}

#define sysreg_read(name)                                                                      \
    ({                                                                                         \
        uint64_t v_;                                                                           \
        __asm__ __volatile__("mrs %0, " #name : "=r"(v_));                                     \
        v_;                                                                                    \
    })
#define sysreg_write(name, value)                                                              \
    __asm__ __volatile__("msr " #name ", %0" ::"r"((uint64_t)(value)) : "memory")
#define isb()  __asm__ __volatile__("isb" ::: "memory")
#define dsb(o) __asm__ __volatile__("dsb " #o ::: "memory")

#endif
