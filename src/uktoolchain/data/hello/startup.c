/* Solo5 enters the unikernel here: hand nolibc its heap, then run the OCaml program. */
#include <solo5.h>

#define CAML_NAME_SPACE
#include <caml/callback.h>

void _nolibc_init(uintptr_t heap_start, size_t heap_size); /* from ocaml-solo5's nolibc */

int solo5_app_main(const struct solo5_start_info *info)
{
    static char *argv[] = { "hello", NULL };

    _nolibc_init(info->heap_start, info->heap_size);
    caml_startup(argv);
    return 0;
}
