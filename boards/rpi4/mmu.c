/*
 * Identity map and MMU, set up once by rpi4_early() before any code that may do unaligned or
 * exclusive (atomic) accesses: with the MMU off every data access is Device memory, where both
 * fault. (The whole binding is also built with -mstrict-align, so this file is safe to run
 * before.)
 *
 * 4 KiB granule, 32-bit virtual addresses (T0SZ=32), translation starting at level 1:
 *   RAM         [4 KiB, guard page) and [stack bottom, stack top): Normal, write-back cacheable,
 *               inner shareable, not executable at EL0
 *   page 0      unmapped, so NULL dereferences fault (and stray TLS accesses with TPIDR_EL0 = 0)
 *   guard page  unmapped, so a stack overflow faults instead of running into the heap
 *   0xFC000000-0xFFFFFFFF  Device-nGnRnE, never executable
 * Everything else (RAM above "ARM memory", the second GiB onward, PCIe) is unmapped.
 * 2 MiB blocks where a range covers them, 4 KiB pages elsewhere.
 */
#include "rpi4.h"

#define ENTRIES 512
#define BLOCK_SIZE 0x200000ull

#define DESC_VALID (1ull << 0)
#define DESC_TABLE (1ull << 1) /* levels 1-2: next-level table; level 3: page */
#define ATTR_DEVICE (0ull << 2) /* MAIR index 0 */
#define ATTR_NORMAL (1ull << 2) /* MAIR index 1 */
#define SH_INNER (3ull << 8)
#define AF (1ull << 10)
#define PXN (1ull << 53)
#define UXN (1ull << 54)

#define NORMAL_MEMORY (ATTR_NORMAL | SH_INNER | AF | UXN)
#define DEVICE_MEMORY (ATTR_DEVICE | AF | PXN | UXN)

#define MAIR_VALUE 0xff00ull /* attr0 Device-nGnRnE, attr1 Normal WB RW-allocate */
/* T0SZ=32, walks inner/outer write-back cacheable and inner shareable, 4 KiB granule, no TTBR1
 * walks (EPD1), 32-bit physical addresses (everything we map is below 4 GiB). */
#define TCR_VALUE (32ull | (1ull << 8) | (1ull << 10) | (3ull << 12) | (1ull << 23))

#define SCTLR_M (1ull << 0)
#define SCTLR_C (1ull << 2)
#define SCTLR_SA (1ull << 3)
#define SCTLR_I (1ull << 12)

typedef uint64_t table_t[ENTRIES];

static table_t level1 __attribute__((aligned(PAGE_SIZE)));
static table_t level2[2] __attribute__((aligned(PAGE_SIZE))); /* first GiB, last GiB */
static table_t level3[4] __attribute__((aligned(PAGE_SIZE))); /* partly mapped 2 MiB blocks */
static unsigned level2_used, level3_used;

static uint64_t *next_table(uint64_t *entry, table_t *pool, unsigned *used, unsigned size)
{
    if (*entry & DESC_VALID) {
        if (!(*entry & DESC_TABLE))
            rpi4_fatal("rpi4: page tables: overlapping ranges\n");
        return (uint64_t *)(uintptr_t)(*entry & 0x0000fffffffff000ull);
    }
    if (*used == size)
        rpi4_fatal("rpi4: page tables: out of tables\n");
    uint64_t *table = pool[(*used)++];
    *entry = (uintptr_t)table | DESC_TABLE | DESC_VALID;
    return table;
}

/* Identity-map [start, end), both page-aligned and below 4 GiB. */
static void map(uint64_t start, uint64_t end, uint64_t attrs)
{
    uint64_t addr = start;
    while (addr < end) {
        uint64_t *l2 = next_table(&level1[addr >> 30], level2, &level2_used, 2);
        uint64_t *l2e = &l2[(addr >> 21) & (ENTRIES - 1)];
        if ((addr & (BLOCK_SIZE - 1)) == 0 && end - addr >= BLOCK_SIZE && *l2e == 0) {
            *l2e = addr | attrs | DESC_VALID;
            addr += BLOCK_SIZE;
            continue;
        }
        uint64_t *l3 = next_table(l2e, level3, &level3_used, 4);
        l3[(addr >> 12) & (ENTRIES - 1)] = addr | attrs | DESC_TABLE | DESC_VALID;
        addr += PAGE_SIZE;
    }
}

/* Drop any cache line over [start, end) so nothing shadows what was written with caches off
 * (matters after a boot loader that ran with caches on; a no-op after the Pi firmware). */
static void invalidate_dcache(uintptr_t start, uintptr_t end)
{
    uint64_t line = 4ull << ((sysreg_read(ctr_el0) >> 16) & 0xf);
    for (uintptr_t p = start & ~(line - 1); p < end; p += line)
        __asm__ __volatile__("dc ivac, %0" ::"r"(p) : "memory");
    dsb(sy);
}

void mmu_setup(void)
{
    const struct rpi4_boot *b = &rpi4_boot;

    map(PAGE_SIZE, b->guard_page, NORMAL_MEMORY);
    map(b->stack_bottom, b->stack_top, NORMAL_MEMORY);
    map(PERIPH_WINDOW_BASE, PERIPH_WINDOW_END, DEVICE_MEMORY);

    invalidate_dcache((uintptr_t)_stext, (uintptr_t)_end);
    sysreg_write(mair_el1, MAIR_VALUE);
    sysreg_write(tcr_el1, TCR_VALUE);
    sysreg_write(ttbr0_el1, (uintptr_t)level1);
    isb();
    __asm__ __volatile__("tlbi vmalle1" ::: "memory");
    __asm__ __volatile__("ic iallu" ::: "memory");
    dsb(nsh);
    isb();
    sysreg_write(sctlr_el1, sysreg_read(sctlr_el1) | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_I);
    isb();
}
