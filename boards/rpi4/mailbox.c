/*
 * VideoCore property mailbox (channel 8): ask the firmware (or QEMU, which answers the same
 * tags) for the ARM memory range, the UART clock, the board revision and the command line.
 *
 * Called only while the MMU and data cache are off, so the buffer needs no cache maintenance.
 * The VideoCore reads the buffer at its bus address: ARM physical + 0xC0000000.
 */
#include "rpi4.h"

#define MBOX0_READ    0x00
#define MBOX0_STATUS  0x18
#define MBOX1_WRITE   0x20
#define MBOX1_STATUS  0x38
#define MBOX_FULL     0x80000000u
#define MBOX_EMPTY    0x40000000u
#define MBOX_CHANNEL_PROPERTY 8

#define MBOX_RESPONSE_OK 0x80000000u
#define TAG_RESPONSE     0x80000000u

#define TAG_BOARD_REVISION 0x00010002
#define TAG_ARM_MEMORY     0x00010005
#define TAG_CLOCK_RATE     0x00030002
#define TAG_COMMAND_LINE   0x00050001

/* Header (2 words) + tag header (3) + value + end tag (1); the largest value is the cmdline. */
#define VALUE_MAX_WORDS 1024
static uint32_t buf[6 + VALUE_MAX_WORDS] __attribute__((aligned(16)));

/* Give up after about a second rather than hang the boot on a silent firmware. */
static bool wait_while(unsigned reg, uint32_t mask)
{
    uint64_t hz = sysreg_read(cntfrq_el0);
    uint64_t start = sysreg_read(cntpct_el0);
    while (mmio_read(MBOX_BASE + reg) & mask) {
        if (hz && sysreg_read(cntpct_el0) - start > hz)
            return false;
    }
    return true;
}

static int call(void)
{
    uint32_t message = (uint32_t)((uintptr_t)buf | VC_BUS_ALIAS) | MBOX_CHANNEL_PROPERTY;

    dsb(sy);
    if (!wait_while(MBOX1_STATUS, MBOX_FULL))
        return -1;
    mmio_write(MBOX_BASE + MBOX1_WRITE, message);
    for (;;) {
        if (!wait_while(MBOX0_STATUS, MBOX_EMPTY))
            return -1;
        if (mmio_read(MBOX_BASE + MBOX0_READ) == message)
            break;
    }
    dsb(sy);
    return buf[1] == MBOX_RESPONSE_OK ? 0 : -1;
}

/*
 * One request with one tag: a value buffer of value_bytes whose first in_words words are the
 * request. Returns the response length in bytes (which may exceed value_bytes when the
 * firmware had more to say than fits), or -1. The response is at buf[5...].
 */
static long property(uint32_t tag, const uint32_t *in, size_t in_words, size_t value_bytes)
{
    size_t words = (value_bytes + 3) / 4;
    if (words > VALUE_MAX_WORDS)
        return -1;
    buf[0] = (uint32_t)((6 + words) * 4);
    buf[1] = 0;
    buf[2] = tag;
    buf[3] = (uint32_t)(words * 4);
    buf[4] = 0;
    for (size_t i = 0; i < words; i++)
        buf[5 + i] = i < in_words ? in[i] : 0;
    buf[5 + words] = 0;
    if (call() != 0 || !(buf[4] & TAG_RESPONSE))
        return -1;
    return (long)(buf[4] & ~TAG_RESPONSE);
}

int mbox_board_revision(uint32_t *rev)
{
    if (property(TAG_BOARD_REVISION, NULL, 0, 4) < 4)
        return -1;
    *rev = buf[5];
    return 0;
}

int mbox_arm_memory(uint32_t *base, uint32_t *size)
{
    if (property(TAG_ARM_MEMORY, NULL, 0, 8) < 8)
        return -1;
    *base = buf[5];
    *size = buf[6];
    return 0;
}

int mbox_clock_rate(uint32_t clock_id, uint32_t *hz)
{
    if (property(TAG_CLOCK_RATE, &clock_id, 1, 8) < 8)
        return -1;
    *hz = buf[6];
    return 0;
}

/*
 * Copies the command line (the firmware's, or QEMU's -append) into buf, NUL-terminated.
 * Returns its length, or -1 when there is none or it does not fit.
 */
long mbox_cmdline(char *out, size_t size)
{
    if (size == 0)
        return -1;
    long len = property(TAG_COMMAND_LINE, NULL, 0, VALUE_MAX_WORDS * 4);
    if (len < 0 || len > VALUE_MAX_WORDS * 4 || (size_t)len >= size)
        return -1;
    const char *text = (const char *)&buf[5];
    size_t n = 0;
    while (n < (size_t)len && text[n]) /* the firmware may or may not count a NUL */
        n++;
    memcpy(out, text, n);
    out[n] = '\0';
    return (long)n;
}
