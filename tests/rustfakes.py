"""Small fake Rust toolchains for the selection rule: real executables (shell scripts using only
builtins, so they run on any PATH) laid out like rustup's and Debian's toolchains."""
from __future__ import annotations

import stat
from pathlib import Path


def version_text(release: str) -> str:
    return (f"rustc {release}\nbinary: rustc\ncommit-hash: fake{release}\ncommit-date: unknown\n"
            f"host: x86_64-unknown-linux-gnu\nrelease: {release}\nLLVM version: 14.0.6")


def _executable(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def toolchain(root: Path, release: str = "1.63.0", *, rust_src: bool = True, in_tree_builtins: bool = False,
              cargo: bool = True, rustup: bool = False) -> Path:
    """A toolchain at root (or root/toolchains/<release> when ``rustup``); returns its bin/rustc."""
    sysroot = root / "toolchains" / f"{release}-x86_64-unknown-linux-gnu" if rustup else root
    version = version_text(release)
    rustc = _executable(sysroot / "bin" / "rustc", f'''\
case "$1" in
  --print) echo "{sysroot}" ;;
  -vV) printf '%s\\n' {" ".join(repr(line) for line in version.splitlines())} ;;
  *) echo "fake rustc: $*" >&2; exit 1 ;;
esac
''')
    if cargo:
        _executable(sysroot / "bin" / "cargo", f'echo "cargo {release} (fake)"\n')
    if rust_src:
        library = sysroot / "lib" / "rustlib" / "src" / "rust" / "library"
        for crate in ("core", "alloc"):
            (library / crate / "src").mkdir(parents=True, exist_ok=True)
            (library / crate / "src" / "lib.rs").write_text("// fake\n")
        if in_tree_builtins:
            builtins = library / "compiler-builtins" / "compiler-builtins"
            builtins.mkdir(parents=True, exist_ok=True)
            (builtins / "Cargo.toml").write_text('[package]\nname = "compiler_builtins"\n')
    return rustc


def registry(root: Path, *versions: str) -> Path:
    """A Debian-style crate registry holding compiler_builtins at these versions."""
    for version in versions:
        crate = root / f"compiler_builtins-{version}"
        crate.mkdir(parents=True, exist_ok=True)
        (crate / "Cargo.toml").write_text(f'[package]\nname = "compiler_builtins"\nversion = "{version}"\n')
    root.mkdir(parents=True, exist_ok=True)
    return root


RUST_TARGETS = '''\
per_arch = ["rust-sysroot"]

[components]
alpha = "1.0"
rust-sysroot = "1.0"

[extras.rust]
components = ["rust-sysroot"]

[targets.ux]
description = "alpha on x86_64, a unikernel-like target"
arch = "x86_64"
binding = "spt"
components = ["alpha"]

[targets.ua]
description = "alpha on aarch64"
arch = "aarch64"
binding = "spt"
components = ["alpha"]
'''


def write_rust_index(root: Path, server) -> Path:
    """The synthetic index plus the repository's real rust-sysroot recipe, with two unikernel-like
    targets (ux: x86_64, ua: aarch64) that take the rust extra: Rust without building OCaml."""
    import shutil

    import synthetic

    synthetic.write_index(root, server)
    shutil.copytree(synthetic.REPO / "recipes" / "rust-sysroot", root / "recipes" / "rust-sysroot",
                    ignore=shutil.ignore_patterns("__pycache__", "target", "Cargo.lock"))
    (root / "recipes" / "targets.toml").write_text(RUST_TARGETS)
    return root
