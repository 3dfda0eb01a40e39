"""What build systems other than dune need to compile C for a unikernel target.

ocaml-solo5 installs ``<arch>-solo5-ocaml-{cc,ar,ranlib,...}``: its cc wraps Solo5's
``<arch>-solo5-none-static-cc`` (freestanding flags, the Solo5 headers) and adds nolibc and
openlibm (headers when compiling, libraries when linking). Exposing those tools as CC/AR/... and
as a CMake toolchain file lets make, autotools and CMake projects build static libraries that
link into a unikernel. Paths are this machine's, rendered at use time like findlib's files.
"""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import NamedTuple

from uktoolchain import atomic
from uktoolchain.engine.model import InstalledPackage

# Variable -> the ocaml-solo5 tool it names.
_TOOLS = {"CC": "cc", "AR": "ar", "RANLIB": "ranlib", "LD": "ld", "NM": "nm",
          "OBJCOPY": "objcopy", "OBJDUMP": "objdump", "STRIP": "strip", "READELF": "readelf"}
_CMAKE_PROCESSOR = {"x86_64": "x86_64", "aarch64": "aarch64"}


class CToolchain(NamedTuple):
    arch: str
    bindir: Path  # <arch>-solo5-ocaml-* tools
    sysroot: Path  # include/ (nolibc, openlibm) and lib/

    def tool(self, name: str) -> Path:
        return self.bindir / f"{self.arch}-solo5-ocaml-{name}"


def c_toolchains(packages: list[InstalledPackage], conan_home: Path) -> dict[str, CToolchain]:
    """Architecture -> C toolchain, for every ocaml-solo5 package among ``packages``."""
    found = {}
    for package in packages:
        facts = dict(package.facts)
        if "ocaml_solo5_sysroot" not in facts:
            continue
        sysroot = Path(facts["ocaml_solo5_sysroot"].replace("{conan_home}", str(conan_home)))
        bindir = sysroot.parent.parent / "bin"  # <package>/lib/<sysroot name> -> <package>/bin
        for cc in sorted(bindir.glob("*-solo5-ocaml-cc")):
            arch = cc.name[: -len("-solo5-ocaml-cc")]
            found[arch] = CToolchain(arch, bindir, sysroot)
    return found


def c_variables(toolchain: CToolchain, link_flags: str) -> dict[str, str]:
    """CC, AR, ... for one target, and UKTOOLCHAIN_CFLAGS / UKTOOLCHAIN_LDFLAGS (the binding is a
    link-time choice) for builds that want flags spelled out: `make LDFLAGS="$UKTOOLCHAIN_LDFLAGS"`,
    bindgen or Rust's cc crate with another compiler (the cc wrapper adds the include path itself)."""
    values = {name: str(toolchain.tool(tool)) for name, tool in _TOOLS.items()}
    # Never CFLAGS, CPPFLAGS, LDFLAGS or another variable make passes to $(CC) by itself: MirageOS
    # libraries build C with `CC=ocamlfind -toolchain solo5 ocamlopt` (mirage-solo5's bindings
    # Makefile), and ocamlopt refuses C flags (`ocamlopt: unknown option '-I/...'`).
    # A path with spaces is shell-quoted: make and CMake pass flags through a shell.
    values["UKTOOLCHAIN_CFLAGS"] = "-I" + shlex.quote(f"{toolchain.sysroot}/include")
    values["UKTOOLCHAIN_LDFLAGS"] = link_flags
    return values


def cmake_toolchain_text(toolchain: CToolchain, link_flags: str) -> str:
    lines = [
        "# CMake toolchain file rendered by uktoolchain for this machine's paths; rewritten on every use.",
        "# Static libraries only: a unikernel is linked by the OCaml compiler (dune), not by CMake.",
        "set(CMAKE_SYSTEM_NAME Generic)",
        f"set(CMAKE_SYSTEM_PROCESSOR {_CMAKE_PROCESSOR.get(toolchain.arch, toolchain.arch)})",
        f'set(CMAKE_C_COMPILER "{toolchain.tool("cc")}")',
        f'set(CMAKE_AR "{toolchain.tool("ar")}" CACHE FILEPATH "")',
        f'set(CMAKE_RANLIB "{toolchain.tool("ranlib")}" CACHE FILEPATH "")',
        f'set(CMAKE_OBJCOPY "{toolchain.tool("objcopy")}" CACHE FILEPATH "")',
        f'set(CMAKE_STRIP "{toolchain.tool("strip")}" CACHE FILEPATH "")',
        # CMake's compiler checks would otherwise link a test program (the stub binding).
        "set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)",
        f'set(CMAKE_EXE_LINKER_FLAGS_INIT "{link_flags}")',
        f'set(CMAKE_FIND_ROOT_PATH "{toolchain.sysroot}")',
        "set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)",
        "set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)",
        "set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)",
        "set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)",
    ]
    return "\n".join(lines) + "\n"


def render_cmake_toolchain(directory: Path, target: str, toolchain: CToolchain, link_flags: str) -> Path:
    """``<directory>/<target>.cmake``; unchanged files are not rewritten (CMake reconfigures on mtime)."""
    path = directory / f"{target}.cmake"
    atomic.write_text_if_changed(path, cmake_toolchain_text(toolchain, link_flags))
    return path
