"""Which undefined symbols count as evidence of glibc's headers. The names on the "fine" side were
measured: nolibc's libnolibc.a defines them, or ocaml-solo5's cc emits them (stack protector)."""
from __future__ import annotations

import pytest

from uktoolchain.objcheck import is_glibc_symbol


@pytest.mark.parametrize("name", [
    "__errno_location", "__isoc99_sscanf", "__isoc23_strtol", "__printf_chk", "__memcpy_chk",
    "__longjmp_chk", "__ctype_b_loc", "__ctype_toupper_loc", "__assert_fail", "__libc_single_threaded",
    "_IO_getc", "__pthread_register_cancel", "__open_2", "__xstat",
])
def test_glibc_only_names(name):
    assert is_glibc_symbol(name)


@pytest.mark.parametrize("name", [
    "printf", "sscanf", "errno", "stdout", "stderr", "memcpy", "isdigit", "_assert_fail", "__stpncpy",
    "__strchrnul", "__stack_chk_fail", "__stack_chk_guard", "setjmp", "strtol",
])
def test_names_any_libc_has(name):
    assert not is_glibc_symbol(name)
