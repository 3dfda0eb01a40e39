/*
 * The few string functions the binding needs. The binding cannot rely on the unikernel's libc,
 * and these copies become local symbols of solo5_rpi4.o, so they never clash with it.
 * (The Makefile builds with -fno-tree-loop-distribute-patterns: these loops must not be turned
 * back into calls to themselves.)
 */
#include "rpi4.h"

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}
