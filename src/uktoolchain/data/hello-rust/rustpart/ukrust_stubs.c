#include <stddef.h>
#include <stdint.h>
#include <caml/alloc.h>
#include <caml/mlvalues.h>

uint32_t ukrust_crc32(const uint8_t *data, size_t length);
double ukrust_scale(double x, double y);

value uk_rust_crc32(value s)
{
    return Val_long(ukrust_crc32((const uint8_t *)String_val(s), caml_string_length(s)));
}

value uk_rust_scale(value x, value y)
{
    return caml_copy_double(ukrust_scale(Double_val(x), Double_val(y)));
}
