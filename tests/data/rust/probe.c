/* Calls the Rust staticlib (ukprobe) through the C ABI and checks what comes back against C's own
 * computation. Prints the values for the test to compare again; exits 1 on any mismatch.
 * "probe panic" divides by zero in Rust: uk_panic must abort() the process. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

uint32_t uk_rust_crc32(const unsigned char *data, size_t len);
double uk_rust_scale(double x, double y);
int uk_rust_aligned_box(void);
uint32_t uk_rust_divide(uint32_t a, uint32_t b);

static uint32_t crc32_in_c(const unsigned char *data, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    return ~crc;
}

int main(int argc, char **argv)
{
    const char *text = "uktoolchain: OCaml, C and Rust in one unikernel";
    if (argc > 1 && strcmp(argv[1], "panic") == 0) {
        printf("dividing by zero\n");
        fflush(stdout);
        return (int)uk_rust_divide(1, 0);
    }
    volatile double x = 2.5, y = 4.25; /* volatile: computed at run time, through the call */
    uint32_t crc = uk_rust_crc32((const unsigned char *)text, strlen(text));
    double scaled = uk_rust_scale(x, y);
    int aligned = uk_rust_aligned_box();
    printf("text=%s\ncrc32=%08x\nscale=%.17g\naligned=%d\n", text, crc, scaled, aligned);
    int ok = crc == crc32_in_c((const unsigned char *)text, strlen(text)) && scaled == x * y + 0.5 && aligned == 1;
    printf("%s\n", ok ? "agree" : "MISMATCH");
    return ok ? 0 : 1;
}
