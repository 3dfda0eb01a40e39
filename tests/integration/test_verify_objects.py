"""``uktoolchain verify-objects``: static libraries built here by real compilers, checked by the real
CLI in a subprocess, with no toolchain installed (as in CI). A library whose build ignored CC is
refused with what was found and how to fix it; libraries built for the target pass."""
from __future__ import annotations

import re

import object_samples
import pytest

from uktoolchain import checker
from uktoolchain.resources import RecipeIndex
from uktoolchain.targets import Catalogue

CROSS = "aarch64-linux-gnu-gcc"
REBUILD = "rebuild it with the environment of `uktoolchain env {target}` (CC, AR) or its CMAKE_TOOLCHAIN_FILE"
LONG_NAME = "parser_with_a_long_member_name.o"


@pytest.fixture
def host_library(tmp_path):
    """What `make` with a hard-coded gcc produces on this machine: glibc-header objects."""
    parser = object_samples.compile_c(tmp_path / "host", "parser", object_samples.LIBC_USER)
    checksum = object_samples.compile_c(tmp_path / "host", "checksum", object_samples.FREESTANDING)
    return object_samples.archive(tmp_path / "host" / "libfoo.a", [parser, checksum])


@pytest.fixture
def aarch64_library(tmp_path):
    obj = object_samples.compile_c(tmp_path / "a64", "checksum", object_samples.FREESTANDING, CROSS, ("-ffreestanding",))
    long = obj.with_name(LONG_NAME)
    long.write_bytes(obj.read_bytes())
    return object_samples.archive(tmp_path / "a64" / "libfoo.a", [obj, long])


def test_aarch64_objects_pass_for_aarch64_and_are_refused_for_x86_64(uk, aarch64_library):
    ok = uk("verify-objects", "aarch64-spt", str(aarch64_library))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"{aarch64_library}: 2 aarch64 objects, no references to the host C library"

    refused = uk("verify-objects", "spt", str(aarch64_library))
    assert refused.returncode == 3
    assert refused.stderr.count("\n") == 1  # one line
    assert (f"{aarch64_library}(checksum.o, {LONG_NAME}): aarch64 objects, but spt targets x86_64"
            in refused.stderr)
    assert REBUILD.format(target="spt") in refused.stderr
    assert "ignored CC" not in refused.stderr  # aarch64 objects on this host: built for another target


def test_host_objects_are_refused_for_aarch64_by_machine(uk, host_library):
    result = uk("verify-objects", "aarch64-hvt", str(host_library))
    assert result.returncode == 3
    assert f"{host_library}(parser.o, checksum.o): x86_64 objects, but aarch64-hvt targets aarch64" in result.stderr
    assert "its build ignored CC: " + REBUILD.format(target="aarch64-hvt") in result.stderr


def test_glibc_header_objects_are_refused_for_x86_64_with_the_symbols_named(uk, host_library):
    result = uk("verify-objects", "spt", str(host_library))
    assert result.returncode == 3
    line = result.stderr.strip()
    assert line.startswith(f"uktoolchain: error: {host_library}(parser.o): compiled against the host C library")
    referenced = re.search(r"references ([^(]*) \(", line).group(1).split(", ")
    assert "__errno_location" in referenced
    assert any(re.fullmatch(r"__isoc(99|23)_sscanf", name) for name in referenced)
    assert "printf" not in referenced and "checksum.o" not in line  # names every libc has are no evidence
    assert "its build ignored CC: " + REBUILD.format(target="spt") in line


def test_freestanding_x86_64_objects_pass_for_x86_64_targets(uk, tmp_path):
    free = object_samples.compile_c(tmp_path, "checksum", object_samples.FREESTANDING,
                                    flags=object_samples.FREESTANDING_FLAGS)
    # The same libc calls as the refused library, declared as nolibc declares them.
    plain = object_samples.compile_c(tmp_path, "parser", object_samples.LIBC_USER_PLAIN,
                                     flags=object_samples.FREESTANDING_FLAGS)
    library = object_samples.archive(tmp_path / "libfoo.a", [free, plain])
    result = uk("verify-objects", "spt", str(library), str(free))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{library}: 2 x86_64 objects, no references to the host C library",
                                          f"{free}: 1 x86_64 object, no references to the host C library"]


def test_a_library_that_defines_the_glibc_name_itself_passes(uk, tmp_path):
    user = object_samples.compile_c(tmp_path, "user", "#include <errno.h>\nint fail(void) { return -errno; }\n")
    shim = object_samples.compile_c(tmp_path, "shim", "static int e;\nint *__errno_location(void) { return &e; }\n",
                                    flags=object_samples.FREESTANDING_FLAGS)
    library = object_samples.archive(tmp_path / "libuser.a", [user])
    assert uk("verify-objects", "spt", str(library)).returncode == 3
    result = uk("verify-objects", "spt", str(library), str(object_samples.archive(tmp_path / "libshim.a", [shim])))
    assert result.returncode == 0, result.stderr


def test_empty_archive_passes_and_says_so(uk, tmp_path):
    library = object_samples.archive(tmp_path / "libempty.a", [])
    result = uk("verify-objects", "spt", str(library))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{library}: an empty archive, nothing to link"


def test_files_that_are_no_library_or_object(uk, tmp_path):
    source = tmp_path / "foo.c"
    source.write_text(object_samples.FREESTANDING)
    result = uk("verify-objects", "spt", str(source))
    assert result.returncode == 3
    assert f"{source} is neither a static library (ar archive) nor an ELF object" in result.stderr

    missing = uk("verify-objects", "spt", str(tmp_path / "libmissing.a"))
    assert missing.returncode == 3 and "does not exist" in missing.stderr

    obj = object_samples.compile_c(tmp_path, "checksum", object_samples.FREESTANDING)
    truncated = tmp_path / "libtruncated.a"
    truncated.write_bytes(object_samples.archive(tmp_path / "libfull.a", [obj]).read_bytes()[:-100])
    result = uk("verify-objects", "spt", str(truncated))
    assert result.returncode == 3 and f"{truncated} is a truncated archive" in result.stderr

    with_text = object_samples.archive(tmp_path / "libtext.a", [obj, source])
    result = uk("verify-objects", "spt", str(with_text))
    assert result.returncode == 3 and f"{with_text}(foo.c): not an ELF file" in result.stderr

    assert "Traceback" not in result.stderr


def test_targets_are_checked_as_everywhere(uk, tmp_path):
    obj = object_samples.compile_c(tmp_path, "checksum", object_samples.FREESTANDING)
    unknown = uk("verify-objects", "aarch64-sptt", str(obj))
    assert unknown.returncode == 2 and "unknown target 'aarch64-sptt'; did you mean aarch64-spt?" in unknown.stderr
    host = uk("verify-objects", "unix", str(obj))
    assert host.returncode == 3 and "unix is not a unikernel target" in host.stderr


def test_check_verifies_the_cmake_built_library(tmp_path):
    """`uktoolchain check` reads the hello project's libukcalc.a where dune leaves it."""
    aarch64 = Catalogue.load(RecipeIndex.discover().catalogue_file).targets["aarch64-spt"]
    project = tmp_path / "hello"
    assert checker.library_problem(project, aarch64) is None  # not built: nothing to say
    library = project / "_build" / "aarch64-spt" / "ukcalc" / "libukcalc.a"
    obj = object_samples.compile_c(tmp_path, "ukcalc", object_samples.FREESTANDING)
    object_samples.archive(library, [obj])
    problem = checker.library_problem(project, aarch64)
    assert problem.startswith(f"{library}(ukcalc.o): x86_64 object, but aarch64-spt targets aarch64")
    library.unlink()
    object_samples.archive(library, [object_samples.compile_c(tmp_path / "a64", "ukcalc", object_samples.FREESTANDING,
                                                              CROSS, ("-ffreestanding",))])
    assert checker.library_problem(project, aarch64) is None
