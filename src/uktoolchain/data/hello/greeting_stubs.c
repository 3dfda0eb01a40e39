#include <caml/alloc.h>
#include <caml/mlvalues.h>

value uk_greeting_scale(value x, value n)
{
    return caml_copy_double(Double_val(x) * (double)Int_val(n));
}
