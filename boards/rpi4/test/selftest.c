/*
 * Test program for the rpi4 binding: a freestanding "unikernel" that exercises what ocaml-solo5
 * and mirage-solo5 use. tests/integration/test_rpi4_binding.py boots it under QEMU -M raspi4b
 * and checks its output. The first word of the command line picks the case:
 *   (none)       the normal run, exits with status 7
 *   fault=load   load from an unmapped address (above the first GiB)
 *   fault=null   load through a NULL pointer
 *   fault=brk    BRK #0x2a
 *   fault=stack  unbounded recursion into the guard page
 *   abort        solo5_abort()
 */
#include "solo5.h"

static void put(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    solo5_console_write(s, n);
}

static void put_u64(uint64_t v, unsigned base)
{
    char digits[24];
    int i = sizeof digits;
    digits[--i] = '\0';
    do {
        digits[--i] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (base == 16)
        put("0x");
    put(&digits[i]);
}

static void say(const char *label, uint64_t value, unsigned base)
{
    put("selftest: ");
    put(label);
    put(" ");
    put_u64(value, base);
    put("\n");
}

static int starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return 0;
    return 1;
}

static volatile uint64_t sink;
/* Through volatiles, so the compiler cannot see the faults coming. */
static volatile uintptr_t unmapped = 0x40000000, null_ish = 8;
static volatile unsigned depth_limit = ~0u;

static unsigned recurse(unsigned depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    if (depth == depth_limit)
        return 0;
    return recurse(depth + 1) + frame[0];
}

static void fault(const char *which)
{
    put("selftest: triggering ");
    put(which);
    put("\n");
    if (starts_with(which, "load"))
        sink = *(volatile uint64_t *)unmapped;
    else if (starts_with(which, "null"))
        sink = *(volatile uint64_t *)null_ish;
    else if (starts_with(which, "brk"))
        __asm__ __volatile__("brk #0x2a");
    else if (starts_with(which, "stack"))
        sink = recurse(0);
    put("selftest: unknown fault\n");
}

/* Unaligned and exclusive (atomic) accesses: both fault unless the MMU maps RAM as Normal. */
typedef uint64_t unaligned_u64 __attribute__((aligned(1)));
typedef uint32_t unaligned_u32 __attribute__((aligned(1)));

static int memory_accesses(void)
{
    static unsigned char bytes[32];
    volatile unaligned_u64 *p64 = (volatile unaligned_u64 *)(bytes + 3);
    volatile unaligned_u32 *p32 = (volatile unaligned_u32 *)(bytes + 17);
    *p64 = 0x1122334455667788ull;
    *p32 = 0xa1b2c3d4u;
    int ok = *p64 == 0x1122334455667788ull && *p32 == 0xa1b2c3d4u && bytes[3] == 0x88;

    static uint64_t counter;
    for (int i = 0; i < 1000; i++)
        __atomic_fetch_add(&counter, 3, __ATOMIC_SEQ_CST);
    uint64_t expected = 3000;
    ok = ok && __atomic_compare_exchange_n(&counter, &expected, 42, 0, __ATOMIC_SEQ_CST,
                                           __ATOMIC_SEQ_CST);
    ok = ok && __atomic_load_n(&counter, __ATOMIC_ACQUIRE) == 42;
    return ok;
}

/* External linkage: the compiler must read these through the thread pointer, not fold them. */
extern __thread uint64_t selftest_tls_initialised, selftest_tls_zeroed;
__thread uint64_t selftest_tls_initialised __attribute__((tls_model("local-exec"))) = 0x5eed;
__thread uint64_t selftest_tls_zeroed __attribute__((tls_model("local-exec")));

/* The TLS block the way nolibc sets one up, carved from the heap. */
static int thread_local_storage(uintptr_t heap)
{
    uintptr_t block = (heap + 15) & ~(uintptr_t)15;
    for (size_t i = 0; i < solo5_tls_size(); i++)
        ((volatile unsigned char *)block)[i] = 0xee;
    if (solo5_tls_init(block) != SOLO5_R_OK)
        return 0;
    if (solo5_set_tls_base(solo5_tls_tp_offset(block)) != SOLO5_R_OK)
        return 0;
    int ok = selftest_tls_initialised == 0x5eed && selftest_tls_zeroed == 0;
    selftest_tls_zeroed = 9;
    return ok && selftest_tls_zeroed == 9;
}

/* Touch the first 16 MiB of the heap page by page, and its very last word. */
static int heap_accesses(uintptr_t start, size_t size)
{
    size_t span = size < (16u << 20) ? size : (16u << 20);
    for (size_t off = 0; off < span; off += 4096)
        *(volatile uint64_t *)(start + off) = off;
    for (size_t off = 0; off < span; off += 4096)
        if (*(volatile uint64_t *)(start + off) != off)
            return 0;
    volatile uint64_t *last = (volatile uint64_t *)(start + size - 8);
    *last = 0xfeedull;
    return *last == 0xfeedull;
}

static void devices(void)
{
    solo5_handle_t handle;
    struct solo5_net_info net;
    struct solo5_block_info block;
    uint8_t frame[64] = {0};
    size_t got;
    say("net_acquire(service0) =", solo5_net_acquire("service0", &handle, &net), 10);
    say("net_acquire(missing) =", solo5_net_acquire("missing", &handle, &net), 10);
    say("block_acquire(storage0) =", solo5_block_acquire("storage0", &handle, &block), 10);
    say("net_write(0) =", solo5_net_write(0, frame, sizeof frame), 10);
    say("net_read(0) =", solo5_net_read(0, frame, sizeof frame, &got), 10);
    say("block_read(0) =", solo5_block_read(0, 0, frame, sizeof frame), 10);
}

int solo5_app_main(const struct solo5_start_info *si)
{
    put("selftest: hello from solo5_app_main\n");
    put("selftest: cmdline [");
    put(si->cmdline);
    put("]\n");
    if (starts_with(si->cmdline, "fault="))
        fault(si->cmdline + 6);
    if (starts_with(si->cmdline, "abort"))
        solo5_abort();

    say("heap_start", si->heap_start, 16);
    say("heap_size", si->heap_size, 10);
    say("heap ok", heap_accesses(si->heap_start, si->heap_size), 10);
    say("unaligned and atomic ok", memory_accesses(), 10);
    say("tls ok", thread_local_storage(si->heap_start), 10);
    devices();

    solo5_time_t t0 = solo5_clock_monotonic();
    solo5_handle_set_t ready = ~0ull;
    solo5_yield(t0 + 100000000ull, &ready);
    solo5_time_t t1 = solo5_clock_monotonic();
    say("ready set", ready, 10);
    say("slept ms", (t1 - t0) / 1000000, 10);
    say("slept us", (t1 - t0) / 1000, 10);
    say("wall clock s", solo5_clock_wall() / 1000000000ull, 10);
    solo5_yield(t0, &ready); /* a deadline in the past returns at once */
    put("selftest: done\n");
    return 7;
}
