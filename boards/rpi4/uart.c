/*
 * Console on the PL011 UART0 at 0xFE201000, 115200 8N1, on GPIO 14 (TXD0) and 15 (RXD0).
 *
 * QEMU ignores the baud rate and pin functions; real hardware needs both: the divisor comes from
 * the UART clock the firmware reports (48 MHz by default on the Pi 4), and the pins are switched
 * to ALT0 here because, by default, the Pi 4 firmware gives GPIO 14/15 to the mini-UART and the
 * PL011 to Bluetooth. (Hardware behaviour is documented in README.md as not yet verified.)
 */
#include "rpi4.h"

#define UART_DR   0x00
#define UART_FR   0x18
#define UART_IBRD 0x24
#define UART_FBRD 0x28
#define UART_LCRH 0x2c
#define UART_CR   0x30
#define UART_IMSC 0x38
#define UART_ICR  0x44

#define FR_BUSY (1u << 3)
#define FR_TXFF (1u << 5)
#define LCRH_FEN (1u << 4)
#define LCRH_WLEN8 (3u << 5)
#define CR_UARTEN (1u << 0)
#define CR_TXE (1u << 8)
#define CR_RXE (1u << 9)

#define GPFSEL1 0x04
#define GPIO_PUP_PDN_CNTRL_REG0 0xe4 /* BCM2711: 2 bits per pin, 0 none, 1 up, 2 down */

#define BAUD 115200u

static bool uart_ready;

static void uart_reg(unsigned reg, uint32_t value)
{
    mmio_write(UART0_BASE + reg, value);
}

static void pins_to_uart0(void)
{
    uint32_t sel = mmio_read(GPIO_BASE + GPFSEL1);
    sel &= ~((7u << 12) | (7u << 15)); /* GPIO 14, 15 */
    sel |= (4u << 12) | (4u << 15);    /* ALT0: TXD0, RXD0 */
    mmio_write(GPIO_BASE + GPFSEL1, sel);

    uint32_t pull = mmio_read(GPIO_BASE + GPIO_PUP_PDN_CNTRL_REG0);
    pull &= ~((3u << 28) | (3u << 30));
    pull |= (1u << 30); /* TXD0 no pull, RXD0 pull-up: an idle line reads as mark */
    mmio_write(GPIO_BASE + GPIO_PUP_PDN_CNTRL_REG0, pull);
}

void uart_init(uint32_t clock_hz)
{
    uart_reg(UART_CR, 0);
    pins_to_uart0();
    uart_reg(UART_ICR, 0x7ff);
    /* Divisor in 1/64ths: clock / (16 * baud) * 64, rounded. */
    uint64_t div64 = ((uint64_t)clock_hz * 4 + BAUD / 2) / BAUD;
    if (div64 < 64)
        div64 = 64;
    uart_reg(UART_IBRD, (uint32_t)(div64 >> 6));
    uart_reg(UART_FBRD, (uint32_t)(div64 & 63));
    uart_reg(UART_LCRH, LCRH_WLEN8 | LCRH_FEN); /* also latches IBRD/FBRD */
    uart_reg(UART_IMSC, 0);
    uart_reg(UART_CR, CR_UARTEN | CR_TXE | CR_RXE);
    uart_ready = true;
}

static void uart_putc(char c)
{
    while (mmio_read(UART0_BASE + UART_FR) & FR_TXFF)
        ;
    uart_reg(UART_DR, (unsigned char)c);
}

void uart_write(const char *buf, size_t len)
{
    if (!uart_ready)
        return;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            uart_putc('\r');
        uart_putc(buf[i]);
    }
}

void uart_flush(void)
{
    if (!uart_ready)
        return;
    while (mmio_read(UART0_BASE + UART_FR) & FR_BUSY)
        ;
}

void solo5_console_write(const char *buf, size_t size)
{
    uart_write(buf, size);
}
