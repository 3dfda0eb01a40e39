/*
 * BCM2711 (Raspberry Pi 4) addresses and the binding's memory layout constants.
 * Usable from C and assembly.
 */
#ifndef RPI4_BOARD_H
#define RPI4_BOARD_H

/* The "low peripheral" window (ARM physical addresses), mapped as device memory. */
#define PERIPH_WINDOW_BASE 0xFC000000
#define PERIPH_WINDOW_END  0x100000000
#define PERIPH_BASE        0xFE000000

#define GPIO_BASE    (PERIPH_BASE + 0x200000)
#define UART0_BASE   (PERIPH_BASE + 0x201000) /* PL011 */
#define MBOX_BASE    (PERIPH_BASE + 0x00B880) /* VideoCore mailbox 0 */
#define PM_BASE      (PERIPH_BASE + 0x100000) /* power management, watchdog */
#define GICD_BASE    0xFF841000               /* GIC-400 distributor */
#define GICC_BASE    0xFF842000               /* GIC-400 CPU interface */

/* The VideoCore sees ARM RAM at bus address 0xC0000000 + physical (uncached alias). */
#define VC_BUS_ALIAS 0xC0000000

/* Generic timer interrupt used by solo5_yield: the EL1 virtual timer, PPI 11 = INTID 27. */
#define TIMER_VIRT_INTID 27

/* Memory layout (see README.md): the application stack sits at the top of RAM, below it one
 * unmapped guard page, and the heap runs from the end of the image up to that guard page. */
#define PAGE_SIZE      0x1000
#define APP_STACK_SIZE 0x400000 /* 4 MiB */
#define BOOT_STACK_SIZE 0x4000   /* early C, in .bss */
#define TRAP_STACK_SIZE 0x4000   /* exception handler (SP_EL1), in .bss */

/* Only the first GiB is covered by our tables: the mailbox reports ARM memory there. */
#define RAM_MAP_LIMIT 0x40000000

/* Exit statuses besides the application's own. */
#define RPI4_EXIT_ABORT 255 /* SOLO5_EXIT_ABORT: solo5_abort(), stack smashing */
#define RPI4_EXIT_TRAP  254 /* unexpected exception (report printed first) */

#endif
