"""Real relocatable objects and static libraries for the object-check tests, compiled here by the
host gcc (with glibc's headers, as a build that ignores CC does, or freestanding) and by Debian's
aarch64 cross gcc."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# What a typical C library does with its libc: parse with sscanf, report through errno and printf.
PARSE_INT = """\
int parse_int(const char *text)
{
    int value;
    if (sscanf(text, "%d", &value) != 1) {
        printf("not a number: %s\\n", text);
        return -errno;
    }
    return value;
}
"""
# Compiled against glibc's headers, the calls become __isoc99_sscanf (or __isoc23_sscanf) and
# __errno_location.
LIBC_USER = "#include <errno.h>\n#include <stdio.h>\n" + PARSE_INT
# The same calls declared the way a libc without glibc's redirections declares them (nolibc:
# errno is a plain variable): nothing in the object is glibc's.
LIBC_USER_PLAIN = "extern int errno;\nint sscanf(const char *, const char *, ...);\nint printf(const char *, ...);\n" + PARSE_INT

# No C library at all.
FREESTANDING = """\
unsigned checksum(const unsigned char *data, unsigned long length)
{
    unsigned sum = 0;
    while (length--)
        sum = sum * 31 + *data++;
    return sum;
}
"""

FREESTANDING_FLAGS = ("-ffreestanding", "-nostdinc")


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: ci/setup.sh installs it"
    return path


def compile_c(directory: Path, name: str, source: str, compiler: str = "gcc", flags: tuple[str, ...] = ()) -> Path:
    """``name``.o compiled from ``source`` with -O2 and ``flags``."""
    directory.mkdir(parents=True, exist_ok=True)
    c_file = directory / f"{name}.c"
    c_file.write_text(source)
    output = directory / f"{name}.o"
    subprocess.run([tool(compiler), "-O2", *flags, "-c", str(c_file), "-o", str(output)], check=True,
                   capture_output=True)
    return output


def archive(path: Path, objects: list[Path], ar: str = "ar") -> Path:
    """A static library as make and CMake write one: ar rcs (GNU format, with its symbol table)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([tool(ar), "rcs", str(path), *map(str, objects)], check=True, capture_output=True)
    return path


def member_names(path: Path) -> list[str]:
    """binutils' list of an archive's members, to compare ours with."""
    return subprocess.run(["ar", "t", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
