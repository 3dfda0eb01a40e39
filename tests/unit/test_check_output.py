"""What `uktoolchain check` expects of the booted hello unikernel: the set's own compiler."""
from __future__ import annotations

import re

from uktoolchain import checker


def test_the_compiler_line_names_the_sets_exact_version_and_54_features():
    line = checker.compiler_line("5.4.1")
    for ending in ("\n", "\r\n", "\r\r\n"):  # spt through a pty, virtio and rpi4 consoles
        assert re.search(line, f'OCaml 5.4.1: String.edit_distance "kitten" "sitting" = 3{ending}')
    assert not re.search(line, "OCaml 5.3.0\r\n")  # a 5.3 compiler cannot pass for the 5.4 set
    assert not re.search(line, "OCaml 5.4.10: String.edit_distance \"kitten\" \"sitting\" = 3\n")
    assert not re.search(line, "OCaml 5.4.1\n")  # 5.4 must show a 5.4 library function
    assert re.search(checker.compiler_line("5.3.0"), "OCaml 5.3.0\r\n")
    assert not re.search(checker.compiler_line("5.3.0"), "OCaml 5.4.1: String.edit_distance ...\n")


def test_expected_output_puts_the_compiler_second_and_rust_before_the_sleep():
    lines = checker.expected_output(rust=True, ocaml="5.4.1")
    assert lines[0] == "Hello from OCaml on Solo5!" and lines[1] == checker.compiler_line("5.4.1")
    assert lines.index(checker.EXPECTED_RUST[0]) < lines.index(r"slept 100 ms: (\d+\.\d) ms by the monotonic clock")
