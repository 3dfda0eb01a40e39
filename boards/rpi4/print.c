/*
 * A small printf for the binding's own messages (boot log, exception reports), straight to the
 * UART. Conversions: %c %s %d %i %u %x %p %%, length modifiers l ll z, flags 0 or -, a width.
 */
#include "rpi4.h"

int rpi4_log_level = LOG_INFO;

/* pad '-' means: left-justify, padding with spaces on the right. */
static void put_padded(const char *s, size_t len, unsigned width, char pad)
{
    if (pad == '-')
        uart_write(s, len);
    for (; width > len; width--)
        uart_write(pad == '-' ? " " : &pad, 1);
    if (pad != '-')
        uart_write(s, len);
}

static void put_number(uint64_t value, unsigned base, bool negative, unsigned width, char pad)
{
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value);
    if (negative) {
        if (pad == '0') { /* sign before the zeros */
            uart_write("-", 1);
            width = width ? width - 1 : 0;
        } else {
            digits[--i] = '-';
        }
    }
    put_padded(&digits[i], sizeof digits - i, width, pad);
}

void rpi4_vprintf(const char *fmt, va_list ap)
{
    while (*fmt) {
        const char *run = fmt;
        while (*fmt && *fmt != '%')
            fmt++;
        if (fmt > run)
            uart_write(run, (size_t)(fmt - run));
        if (!*fmt)
            break;
        fmt++; /* '%' */
        char pad = ' ';
        unsigned width = 0, longs = 0;
        if (*fmt == '0' || *fmt == '-')
            pad = *fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            longs += (*fmt == 'z') ? 2 : 1;
            fmt++;
        }
        switch (*fmt) {
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_padded(&c, 1, width, pad == '-' ? '-' : ' ');
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            put_padded(s, strlen(s), width, pad == '-' ? '-' : ' ');
            break;
        }
        case 'd':
        case 'i': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            put_number(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            put_number(v, *fmt == 'u' ? 10 : 16, false, width, pad);
            break;
        }
        case 'p':
            uart_write("0x", 2);
            put_number((uintptr_t)va_arg(ap, void *), 16, false, 16, '0');
            break;
        case '%':
            uart_write("%", 1);
            break;
        case '\0':
            return;
        default: /* unknown conversion: show it rather than guess at the argument */
            uart_write(fmt - 1, 2);
            break;
        }
        fmt++;
    }
}

void rpi4_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rpi4_vprintf(fmt, ap);
    va_end(ap);
}
