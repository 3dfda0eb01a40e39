/*
 * Entry at 0x80000.
 *
 * The Pi 4 firmware (armstub) starts a raw kernel8.img on core 0 at EL2, with x0 = the device
 * tree; the other cores wait in the armstub's spin loop. QEMU -M raspi4b does the same for a
 * raw image, but starts an ELF at EL3 on every core. So: park cores 1-3, leave EL3/EL2 for
 * non-secure EL1 (AArch64, nothing trapped, the counter readable, FP/SIMD allowed), clear .bss,
 * set up two stacks, seed the stack protector, then C: rpi4_early() turns the MMU on and
 * returns the application stack, rpi4_main() never returns.
 *
 * Stacks: the binding and the application run on SP_EL0 ("EL1t"); exceptions switch to SP_EL1,
 * which points at a stack of their own, so even a stack overflow can be reported.
 */
#include "board.h"

#define SCR_EL3_VALUE 0x5b1      /* RW (lower ELs AArch64), HCE, SMD (no SMC), RES1, NS */
#define HCR_EL2_RW (1 << 31)     /* EL1 is AArch64; no traps, no virtual interrupts */
#define CNTHCTL_EL1_ACCESS 3     /* EL1PCTEN, EL1PCEN: EL1 reads the physical counter/timer */
#define CPTR_EL2_RES1 0x33ff     /* TFP clear: FP/SIMD not trapped */
#define SPSR_EL1H_MASKED 0x3c5   /* EL1 with SP_EL1, D A I F masked */
#define SCTLR_EL1_RES1 0x30d00800 /* MMU and caches off, little-endian */
#define CPACR_EL1_FPEN (3 << 20)

    .section .text.boot, "ax"
    .globl _start
    .type _start, %function
_start:
    mov     x19, x0                 /* device tree from the firmware, if any */
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff
    cbnz    x1, park
    mrs     x20, CurrentEL
    lsr     x20, x20, #2
    cmp     x20, #3
    b.eq    from_el3
    cmp     x20, #2
    b.eq    from_el2
    b       at_el1

from_el3:
    mov     x1, #SCR_EL3_VALUE
    msr     scr_el3, x1
    msr     cptr_el3, xzr
    bl      el2_setup
    mov     x1, #SPSR_EL1H_MASKED
    msr     spsr_el3, x1
    adr     x1, at_el1
    msr     elr_el3, x1
    eret

from_el2:
    bl      el2_setup
    mov     x1, #SPSR_EL1H_MASKED
    msr     spsr_el2, x1
    adr     x1, at_el1
    msr     elr_el2, x1
    eret

/* EL2 state for a non-secure EL1 guest that owns the machine. Leaf: no stack. */
el2_setup:
    mov     x1, #HCR_EL2_RW
    msr     hcr_el2, x1
    mov     x1, #CNTHCTL_EL1_ACCESS
    msr     cnthctl_el2, x1
    msr     cntvoff_el2, xzr        /* virtual counter = physical counter */
    mov     x1, #CPTR_EL2_RES1
    msr     cptr_el2, x1
    msr     hstr_el2, xzr
    mrs     x1, midr_el1            /* what EL1 reads as MIDR/MPIDR (UNKNOWN after reset) */
    msr     vpidr_el2, x1
    mrs     x1, mpidr_el1
    msr     vmpidr_el2, x1
    ret

at_el1:
    ldr     x1, =SCTLR_EL1_RES1
    msr     sctlr_el1, x1
    mov     x1, #CPACR_EL1_FPEN
    msr     cpacr_el1, x1
    adrp    x1, rpi4_vectors
    add     x1, x1, :lo12:rpi4_vectors
    msr     vbar_el1, x1
    isb

    /* .bss: 16-byte aligned by the linker script; MMU off, so aligned stores only. */
    adrp    x1, __rpi4_bss_start
    add     x1, x1, :lo12:__rpi4_bss_start
    adrp    x2, __rpi4_bss_end
    add     x2, x2, :lo12:__rpi4_bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:
    adrp    x1, trap_stack + TRAP_STACK_SIZE
    add     x1, x1, :lo12:trap_stack + TRAP_STACK_SIZE
    mov     sp, x1                  /* SP_EL1 */
    msr     spsel, #0
    adrp    x1, boot_stack + BOOT_STACK_SIZE
    add     x1, x1, :lo12:boot_stack + BOOT_STACK_SIZE
    mov     sp, x1                  /* SP_EL0 */

    /* No TLS block yet: stray TLS accesses land in the unmapped page 0. */
    msr     tpidr_el0, xzr

    /* Stack protector canary from the counter (weak entropy, like Solo5's own), with a zero
     * second byte so that string overflows cannot reproduce it. */
    mrs     x1, cntpct_el0
    eor     x1, x1, x1, ror #29
    mov     x2, #0x7f4a
    movk    x2, #0x9e37, lsl #16
    eor     x1, x1, x2, lsl #24
    bic     x1, x1, #0xff00
    adrp    x2, __stack_chk_guard
    str     x1, [x2, :lo12:__stack_chk_guard]

    mov     x0, x20
    mov     x1, x19
    bl      rpi4_early              /* returns the application stack top, MMU on */
    mov     sp, x0
    bl      rpi4_main
    b       park

/* Cores 1-3 (and anything that returns): sleep for good. WFI rather than WFE: under QEMU a
 * WFE loop keeps a host CPU busy, WFI halts the virtual CPU. */
park:
    wfi
    b       park
    .size _start, . - _start

/*
 * rpi4_semihosting_exit(int status): semihosting SYS_EXIT (0x18) with the parameter block
 * {ADP_Stopped_ApplicationExit, status}. Returns only if a debugger lets it; without
 * semihosting the HLT traps, and rpi4_trap() recognises rpi4_semihosting_hlt.
 */
    .text
    .globl rpi4_semihosting_exit, rpi4_semihosting_hlt
    .type rpi4_semihosting_exit, %function
rpi4_semihosting_exit:
    sxtw    x2, w0
    mov     x1, #0x0026
    movk    x1, #0x2, lsl #16       /* ADP_Stopped_ApplicationExit = 0x20026 */
    stp     x1, x2, [sp, #-16]!
    mov     x1, sp
    mov     x0, #0x18
rpi4_semihosting_hlt:
    hlt     #0xf000
    add     sp, sp, #16
    ret
    .size rpi4_semihosting_exit, . - rpi4_semihosting_exit

    .bss
    .balign 16
boot_stack:
    .space  BOOT_STACK_SIZE
    .balign 16
trap_stack:
    .space  TRAP_STACK_SIZE

    .section .note.GNU-stack, "", %progbits
