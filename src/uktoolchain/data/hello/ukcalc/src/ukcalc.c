/* ukcalc: computed in C, built by CMake, called from OCaml. Uses openlibm's sqrt, so the
   library also proves that the target's libm headers and archive are the ones in use. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

double ukcalc_norm(double x, double y)
{
    return sqrt(x * x + y * y);
}

uint32_t ukcalc_adler32(const unsigned char *data, size_t length)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < length; i++) {
        a = (a + data[i]) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}
