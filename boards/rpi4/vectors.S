/*
 * Exception vectors (VBAR_EL1): 16 entries of 0x80 bytes, for {synchronous, IRQ, FIQ, SError}
 * x {EL1 on SP_EL0, EL1 on SP_EL1, lower EL AArch64, lower EL AArch32}. Every one saves the
 * registers in a struct trap_frame on the exception stack (SP_EL1) and calls
 * rpi4_trap(frame, vector index), which reports and never returns.
 */
#define FRAME_SIZE 288

    .macro vector index
    .balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\index
    b       save_frame
    .endm

    .text
    .balign 0x800
    .globl rpi4_vectors
rpi4_vectors:
    vector 0
    vector 1
    vector 2
    vector 3
    vector 4
    vector 5
    vector 6
    vector 7
    vector 8
    vector 9
    vector 10
    vector 11
    vector 12
    vector 13
    vector 14
    vector 15

save_frame:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x1, sp_el0
    stp     x30, x1, [sp, #240]
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    stp     x1, x2, [sp, #256]
    mrs     x1, esr_el1
    mrs     x2, far_el1
    stp     x1, x2, [sp, #272]
    mov     x1, x0
    mov     x0, sp
    mov     x29, #0                 /* end of the frame chain for debuggers */
    bl      rpi4_trap
1:  wfi
    b       1b

    .section .note.GNU-stack, "", %progbits
