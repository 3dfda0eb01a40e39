/* Solo5 enters the unikernel here: hand nolibc its heap, then run the OCaml program. */
#include <solo5.h>

#define CAML_NAME_SPACE
#include <caml/alloc.h>
#include <caml/callback.h>
#include <caml/mlvalues.h>

void _nolibc_init(uintptr_t heap_start, size_t heap_size); /* from ocaml-solo5's nolibc */

int solo5_app_main(const struct solo5_start_info *info)
{
    static char *argv[] = { "hello", NULL };

    _nolibc_init(info->heap_start, info->heap_size);
    caml_startup(argv);
    return 0;
}

/* Sleep through the binding (solo5_yield until a deadline) and measure the sleep with the
   monotonic clock: proves both the clock and the binding's idea of time. Returns ms. */
value uk_sleep_ms(value ms)
{
    solo5_handle_set_t ready = 0;
    solo5_time_t start = solo5_clock_monotonic();
    solo5_time_t deadline = start + (solo5_time_t)Long_val(ms) * 1000000ULL;
    while (solo5_clock_monotonic() < deadline)
        solo5_yield(deadline, &ready);
    return caml_copy_double((double)(solo5_clock_monotonic() - start) / 1e6);
}
