/*
 * Thread-local storage, local-exec model, AArch64 layout ("variant I"): the thread pointer
 * (TPIDR_EL0) points at a 16-byte control block, the .tdata image and zeroed .tbss follow.
 * The linker computes TLS offsets the same way (16 rounded up to the TLS alignment; the
 * linker script refuses TLS aligned to more than 16 bytes).
 */
#include "rpi4.h"

#define TCB_SIZE 16

extern char __rpi4_tdata_start[], __rpi4_tdata_end[], __rpi4_tbss_end[];

size_t solo5_tls_size(void)
{
    return TCB_SIZE + (size_t)(__rpi4_tbss_end - __rpi4_tdata_start);
}

uintptr_t solo5_tls_tp_offset(uintptr_t tls)
{
    return tls; /* the thread pointer is the start of the block */
}

solo5_result_t solo5_tls_init(uintptr_t tls)
{
    if (tls == 0 || (tls & 15))
        return SOLO5_R_EINVAL;
    char *block = (char *)tls;
    size_t tdata = (size_t)(__rpi4_tdata_end - __rpi4_tdata_start);
    memset(block, 0, solo5_tls_size());
    memcpy(block + TCB_SIZE, __rpi4_tdata_start, tdata);
    return SOLO5_R_OK;
}

solo5_result_t solo5_set_tls_base(uintptr_t base)
{
    sysreg_write(tpidr_el0, base);
    return SOLO5_R_OK;
}
