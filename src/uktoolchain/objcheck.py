"""Are these static libraries and objects fit to be linked into a unikernel for a target?

A C library whose build hard-codes ``gcc`` (or otherwise ignores CC) compiles for the build
machine. For an aarch64 target its objects are x86_64 ones, and the link fails with a terse "file
in wrong format". For an x86_64 target the machine is right, but glibc's headers have turned errno,
sscanf, assert, isdigit or fortified printf into glibc-only symbols that nolibc lacks: the link
fails with undefined references. Both are written in the files (the ELF machine, the undefined
symbols), so they are checked here before the link, without any toolchain.

Compiler flags that leave no mark in an object (the x86_64 red zone, aarch64 strict alignment)
cannot be checked from the file and are not guessed at.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from uktoolchain import archive, elf
from uktoolchain.errors import ConfigError, IncompatibleObjectsError
from uktoolchain.targets import Target, host_target_arch

# Symbols that glibc's headers make compiled code call and that no unikernel C library (nolibc,
# openlibm, Solo5) defines. Names every libc shares (printf, stdout, errno as a variable) are not
# evidence of anything and are left out.
GLIBC_SYMBOLS = frozenset({
    "__errno_location", "__h_errno_location",  # errno, h_errno
    "__assert_fail", "__assert_perror_fail",  # assert() (nolibc has _assert_fail)
    "__ctype_b_loc", "__ctype_tolower_loc", "__ctype_toupper_loc",  # isdigit(), tolower(), ...
    "__ctype_get_mb_cur_max",  # MB_CUR_MAX
    "__uflow", "__overflow",  # getc_unlocked()/putc_unlocked() inlines
    "__sigsetjmp", "__sysv_signal",  # sigsetjmp(), signal() in strict ISO mode
    "__xstat", "__fxstat", "__lxstat", "__fxstatat",  # stat() and friends before glibc 2.33
    "__xstat64", "__fxstat64", "__lxstat64", "__fxstatat64",
    "__open_2", "__open64_2", "__openat_2", "__openat64_2",  # open() with _FORTIFY_SOURCE
})
GLIBC_PATTERN = re.compile(
    r"__isoc(99|23)_\w+"  # scanf family (C99), strtol family too under C23
    r"|__\w+_chk"  # _FORTIFY_SOURCE: __printf_chk, __memcpy_chk, ... (not __stack_chk_fail)
    r"|__libc_\w+|_IO_\w+|__pthread_\w+")  # glibc internals reached through its macros

MACHO_MAGICS = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce")
MACHO = "a Mach-O object (made by the macOS compiler)"
LLVM_BITCODE_MAGIC = b"BC\xc0\xde"
FILE_TYPES = {elf.ET_EXEC: "an executable", elf.ET_DYN: "a shared library or PIE executable"}
NAMES_SHOWN = 3
SYMBOLS_SHOWN = 6


def is_glibc_symbol(name: str) -> bool:
    return name in GLIBC_SYMBOLS or GLIBC_PATTERN.fullmatch(name) is not None


@dataclass(frozen=True)
class Problem:
    text: str
    hint: str


@dataclass(frozen=True)
class FileReport:
    path: Path
    is_archive: bool
    objects: int  # ELF objects read from it
    problems: tuple[Problem, ...]

    def summary(self, target: Target) -> str:
        if self.is_archive and not self.objects:
            return f"{self.path}: an empty archive, nothing to link"
        plural = "s" if self.objects != 1 else ""
        return f"{self.path}: {self.objects} {target.arch} object{plural}, no references to the host C library"


@dataclass(frozen=True)
class _Object:
    member: str | None  # None: the file itself is the object
    image: elf.ElfImage | None
    unreadable: str | None = None  # why it is not an ELF object


def examine(paths: list[Path], target: Target) -> list[FileReport]:
    """One report per file. Files that are neither archives nor ELF objects raise ConfigError;
    what is wrong inside them is reported as problems."""
    loaded = [(path, *_load(path, target)) for path in paths]
    # A glibc name that one of the given files defines (a compatibility shim) is not missing.
    defined = {symbol.name for _, _, objects in loaded for obj in objects if obj.image
               for symbol in obj.image.symbols if symbol.is_global and not symbol.is_undefined}
    return [FileReport(path, is_archive, sum(o.image is not None for o in objects),
                       tuple(_problems(path, objects, target, defined)))
            for path, is_archive, objects in loaded]


def require_fit(reports: list[FileReport]) -> None:
    """IncompatibleObjectsError naming every problem (one line), with their fixes."""
    problems = [p for report in reports for p in report.problems]
    if problems:
        hints = list(dict.fromkeys(p.hint for p in problems))
        raise IncompatibleObjectsError("; ".join(p.text for p in problems), "; ".join(hints))


def rebuild_hint(target: Target, ignored_cc: bool = True) -> str:
    fix = (f"rebuild it with the environment of `uktoolchain env {target.name}` (CC, AR) "
           "or its CMAKE_TOOLCHAIN_FILE")
    return f"its build ignored CC: {fix}" if ignored_cc else fix


def _load(path: Path, target: Target) -> tuple[bool, list[_Object]]:
    if not path.is_file():
        raise ConfigError(f"{path} does not exist or is not a file", "give the static library (.a) or objects (.o) the build made")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if archive.is_archive(data[:8]):
        try:
            members = archive.parse(data)
        except archive.ArchiveFormatError as exc:
            raise ConfigError(f"{path} is {exc}", "give the static library the build made (a regular ar archive)") from exc
        return True, [_object(member.name, member.data) for member in members]
    obj = _object(None, data)
    if obj.image is not None:
        return False, [obj]
    if obj.unreadable == MACHO:
        raise ConfigError(f"{path} is {MACHO}, not an ELF object for {target.name}", rebuild_hint(target))
    what = f"{path}: {obj.unreadable}" if data.startswith((elf.ELF_MAGIC, LLVM_BITCODE_MAGIC)) else (
        f"{path} is neither a static library (ar archive) nor an ELF object")
    raise ConfigError(what, "give the static library (.a) or objects (.o) the build made")


def _object(member: str | None, data: bytes) -> _Object:
    if data.startswith(MACHO_MAGICS):
        return _Object(member, None, MACHO)
    if data.startswith(LLVM_BITCODE_MAGIC):
        return _Object(member, None, "LLVM bitcode (built with -flto), which cannot be checked")
    try:
        return _Object(member, elf.parse(data, symbols=True))
    except elf.ElfFormatError as exc:
        return _Object(member, None, str(exc))


def _problems(path: Path, objects: list[_Object], target: Target, defined: set[str]) -> list[Problem]:
    rebuild = rebuild_hint(target)
    problems = []
    unreadable = [o for o in objects if o.image is None]
    for reason in dict.fromkeys(o.unreadable for o in unreadable):
        members = [o for o in unreadable if o.unreadable == reason]
        problems.append(Problem(f"{_where(path, members)}: {reason}",
                                rebuild if reason == MACHO else "a static library for a unikernel holds ELF objects only"))
    readable = [o for o in objects if o.image is not None]
    not_relocatable = [o for o in readable if o.image.file_type != elf.ET_REL]
    for obj in not_relocatable:
        kind = FILE_TYPES.get(obj.image.file_type, f"an ELF file of type {obj.image.file_type}")
        problems.append(Problem(f"{_where(path, [obj])}: {kind}, not a relocatable object",
                                "a unikernel links static libraries (.a) and objects (.o): build the library as a static one"))
    by_machine: dict[str, list[_Object]] = {}
    for obj in readable:
        by_machine.setdefault(_machine(obj.image), []).append(obj)
    for found, members in by_machine.items():
        if found != target.arch:
            plural = "s" if len(members) > 1 else ""
            # The build machine's own objects mean that its compiler ran instead of CC.
            problems.append(Problem(f"{_where(path, members)}: {found} object{plural}, but {target.name} targets "
                                    f"{target.arch}", rebuild_hint(target, ignored_cc=found == host_target_arch())))
    right_machine = by_machine.get(target.arch, [])
    glibc = [(o, {s.name for s in o.image.symbols if s.is_undefined and s.is_global
                  and s.name not in defined and is_glibc_symbol(s.name)}) for o in right_machine]
    culprits = [o for o, names in glibc if names]
    if culprits:
        names = sorted(set().union(*(names for _, names in glibc)))
        problems.append(Problem(f"{_where(path, culprits)}: compiled against the host C library (glibc headers): "
                                f"references {_some(names, SYMBOLS_SHOWN)}", rebuild))
    return problems


def _machine(image: elf.ElfImage) -> str:
    """e.g. 'aarch64', 'i386', 'x86_64 ILP32 (x32)', 'big-endian aarch64'."""
    name = image.machine_name
    if image.bits == 32 and image.machine in (elf.EM_X86_64, elf.EM_AARCH64):
        return f"{name} ILP32" + (" (x32)" if image.machine == elf.EM_X86_64 else "")
    return name


def _where(path: Path, objects: list[_Object]) -> str:
    """'libfoo.a(a.o, b.o and 2 more)' for archive members, the path for a plain object."""
    members = [o.member for o in objects if o.member is not None]
    return f"{path}({_some(members, NAMES_SHOWN)})" if members else str(path)


def _some(names: list[str], shown: int) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"
