#include <stdint.h>
#include <stddef.h>
#include <caml/alloc.h>
#include <caml/memory.h>
#include <caml/mlvalues.h>

double ukcalc_norm(double x, double y);
uint32_t ukcalc_adler32(const unsigned char *data, size_t length);

value uk_calc_norm(value x, value y)
{
    return caml_copy_double(ukcalc_norm(Double_val(x), Double_val(y)));
}

value uk_calc_adler32(value s)
{
    return Val_long(ukcalc_adler32((const unsigned char *)String_val(s), caml_string_length(s)));
}
