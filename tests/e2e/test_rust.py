"""Rust for unikernel targets, end to end, without the Solo5 sources: the real rust-sysroot recipe
builds core/alloc for x86_64 and aarch64 with the host's Rust toolchain (uktoolchain install
--with rust on a small index), a no_std staticlib is built with it through `uktoolchain cargo`,
and C programs call it: natively on x86_64, under qemu-aarch64 (user mode) for aarch64.

What proves the ABI matches the C side: C passes doubles to Rust and checks the result against its
own arithmetic (a soft-float target fails that, shown by the contrast test), the objects are ELF of
the right machine, no function may use the red zone (rustc's noredzone on every function, and no
store below %rsp, a detector shown to work on gcc's red-zone code), and the archive defines no
memcpy/memset that would clash with nolibc's.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

import rustfakes
import synthetic
from conftest import Runner, shell_with_env
from uktoolchain import rust_toolchain

DATA = Path(__file__).resolve().parents[1] / "data" / "rust"
QEMU = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
TEXT = b"uktoolchain: OCaml, C and Rust in one unikernel"  # what probe.c hands to Rust
missing = [tool for tool in ("gcc", "aarch64-linux-gnu-gcc", "objdump", "readelf", "nm", "ar") if not shutil.which(tool)]
missing += [] if QEMU else ["qemu-aarch64 (qemu-user-static)"]
missing += [] if rust_toolchain.survey().chosen else ["a Rust toolchain with rust-src (uktoolchain doctor rust)"]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(missing), reason=f"host lacks {missing}")]

# What the unikernel's C library offers a foreign archive: nolibc's stdlib.h and string.h in
# ocaml-solo5 1.2.0 (malloc & co., abort, exit, mem*/str*). The Rust archive may need nothing else.
NOLIBC = {"abort", "exit", "malloc", "free", "calloc", "realloc", "posix_memalign", "memcmp", "memchr", "memcpy",
          "memmove", "memset", "strcmp", "strlen", "strnlen", "strerror", "strerror_r", "strncpy", "strcpy",
          "strchr", "strstr", "strncmp"}

ARCHES = {
    "x86_64": {"target": "ux", "cc": ["gcc", "-no-pie"], "run": [], "machine": "X86-64",
               "soft_float": "x86_64-unknown-none"},
    "aarch64": {"target": "ua", "cc": ["aarch64-linux-gnu-gcc", "-static"], "run": [QEMU], "machine": "AArch64",
                "soft_float": "aarch64-unknown-none-softfloat"},
}


class Installed:
    def __init__(self, root: Path, home: Path, index: Path):
        self.root, self.home, self.index = root, home, index
        self.uk = Runner()

    def env(self, **extra: str) -> dict[str, str]:
        return {"UKTOOLCHAIN_HOME": str(self.home), "UKTOOLCHAIN_RECIPES": str(self.index), **extra}

    def __call__(self, *args: str, check: bool = False, timeout: float = 300, **extra: str):
        return self.uk(*args, env=self.env(**extra), check=check, timeout=timeout)

    def values(self, target: str) -> dict[str, str]:
        return json.loads(self("env", target, "--json", check=True).stdout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("rust")
    (root / "www").mkdir()
    with synthetic.FileServer(root / "www") as server:
        index = rustfakes.write_rust_index(root / "index", server)
        state = Installed(root, root / "home", index)
        result = state("install", "ux", "ua", "--with", "rust", "--plain", timeout=1800)
        assert result.returncode == 0, result.stderr[-4000:]
        assert "rust-sysroot[x86_64]: done" in result.stderr and "rust-sysroot[aarch64]: done" in result.stderr
        yield state


def build_probe(installed: Installed, arch: str, workdir: Path) -> Path:
    """The probe crate built by `uktoolchain cargo` for arch; its archive in workdir/out."""
    crate = workdir / "ukprobe"
    shutil.copytree(DATA / "ukprobe", crate)
    out = workdir / "out"
    result = installed("cargo", "--out", str(out), ARCHES[arch]["target"], "--", "build", "--release",
                       "--manifest-path", str(crate / "Cargo.toml"))
    assert result.returncode == 0, result.stderr
    return out / "libukprobe.a"


def link_and_run(arch: str, sources: list[Path], output: Path, *args: str) -> subprocess.CompletedProcess:
    spec = ARCHES[arch]
    subprocess.run([*spec["cc"], *map(str, sources), "-o", str(output)], check=True, capture_output=True, text=True)
    return subprocess.run([*spec["run"], str(output), *args], capture_output=True, text=True, timeout=120)


def test_second_install_is_a_noop_that_keeps_rust(installed):
    result = installed("install", "ux", "ua")
    assert result.returncode == 0 and "up to date: ux, ua" in result.stderr
    listing = installed("list", check=True).stdout
    assert re.search(r"^ux\s+installed \+rust", listing, re.M), listing


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_c_calls_the_staticlib_and_gets_its_values(installed, arch, tmp_path):
    archive = build_probe(installed, arch, tmp_path)
    ran = link_and_run(arch, [DATA / "probe.c", archive], tmp_path / "probe")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    values = dict(line.split("=", 1) for line in ran.stdout.splitlines() if "=" in line)
    assert values["text"].encode() == TEXT
    assert int(values["crc32"], 16) == zlib.crc32(TEXT)  # Rust's CRC, checked here by zlib too
    assert float(values["scale"]) == 2.5 * 4.25 + 0.5  # doubles in and out through the C ABI
    assert values["aligned"] == "1" and ran.stdout.splitlines()[-1] == "agree"
    # A panic ends the program through uk_panic -> abort() (SIGABRT; under QEMU, QEMU's own).
    panicked = link_and_run(arch, [DATA / "probe.c", archive], tmp_path / "probe", "panic")
    assert panicked.returncode in (-6, 134), (panicked.returncode, panicked.stdout, panicked.stderr)
    assert "dividing by zero" in panicked.stdout


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_archive_is_target_elf_without_libc_duplicates(installed, arch, tmp_path):
    archive = build_probe(installed, arch, tmp_path)
    members = tmp_path / "members"
    members.mkdir()
    subprocess.run(["ar", "x", str(archive)], cwd=members, check=True)
    objects = sorted(members.glob("*.o"))
    assert len(objects) > 10  # core, alloc, compiler_builtins, uk_alloc, uk_panic, the crate
    for obj in objects:
        header = subprocess.run(["readelf", "-h", str(obj)], capture_output=True, text=True, check=True).stdout
        assert "ELF64" in header and ARCHES[arch]["machine"] in header, (obj.name, header)
    defined = subprocess.run(["nm", "--defined-only", str(archive)], capture_output=True, text=True).stdout
    # compiler_builtins is built without its "mem" feature: nolibc's memcpy & co. are the only ones.
    clashes = re.findall(r" [TtWw] (memcpy|memmove|memset|memcmp|bcmp)$", defined, re.M)
    assert clashes == [], clashes
    assert re.search(r" T uk_rust_scale$", defined, re.M)
    # Everything it leaves to C is in nolibc: it links into a unikernel with no other library.
    undefined = set(subprocess.run(["nm", "-u", str(archive)], capture_output=True, text=True).stdout.split())
    names = {line.split()[-1] for line in defined.splitlines() if len(line.split()) == 3}
    needed = {name for name in undefined if name != "U" and not name.endswith(":")} - names
    assert "malloc" in needed and "abort" in needed  # uk_alloc and uk_panic reach the C library
    assert needed <= NOLIBC, needed - NOLIBC


def test_no_function_uses_the_red_zone(installed, tmp_path):
    archive = build_probe(installed, "x86_64", tmp_path)
    below_rsp = re.compile(r"-0x[0-9a-f]+\(%rsp\)")
    # The detector works: gcc's default x86_64 code keeps a leaf's locals in the red zone.
    control = tmp_path / "leaf.o"
    subprocess.run(["gcc", "-O2", "-c", str(DATA / "redzone_leaf.c"), "-o", str(control)], check=True)
    assert below_rsp.search(subprocess.run(["objdump", "-d", str(control)], capture_output=True, text=True).stdout)
    # Every Rust function in the archive (core, alloc, compiler_builtins, ours): never below %rsp.
    code = subprocess.run(["objdump", "-d", str(archive)], capture_output=True, text=True, check=True).stdout
    assert "<uk_rust_crc32>:" in code
    assert not below_rsp.search(code), below_rsp.findall(code)[:5]
    # And rustc told LLVM so: every function the crate defines carries `noredzone`.
    crate = tmp_path / "ukprobe"
    result = installed("cargo", "ux", "--", "rustc", "--release", "--manifest-path", str(crate / "Cargo.toml"),
                       "--", "--emit=llvm-ir")
    assert result.returncode == 0, result.stderr
    [ir] = (crate / "target").glob("x86_64-unikernel-elf/release/deps/ukprobe-*.ll")
    text = ir.read_text()
    groups = dict(re.findall(r"^attributes (#\d+) = \{(.*)\}$", text, re.M))
    defined = re.findall(r"^define .*@(\w+)\(.*\) .*?(#\d+)", text, re.M)
    assert {"uk_rust_scale", "uk_rust_crc32"} <= {name for name, _ in defined}
    assert all("noredzone" in groups[group] for _, group in defined), defined


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_float_abi_mismatch_is_caught(installed, arch, tmp_path):
    """The same Rust function and the same C caller, compiled for two targets: the built-in
    soft-float target garbles the result, ours (the spec the sysroot was built for) does not."""
    values = installed.values(ARCHES[arch]["target"])
    results = {}
    for name, target in (("soft-float", ARCHES[arch]["soft_float"]), ("ours", values["CARGO_BUILD_TARGET"])):
        obj = tmp_path / f"{name}.o"
        subprocess.run([values["RUSTC"], "--crate-type", "lib", "--emit", "obj", "-O", "--target", target,
                        str(DATA / "second.rs"), "-o", str(obj)],
                       check=True, env={**os.environ, "RUSTC_BOOTSTRAP": "1"}, capture_output=True, text=True)
        results[name] = link_and_run(arch, [DATA / "second.c", obj], tmp_path / name)
    assert results["soft-float"].returncode == 1 and "= 1.5" in results["soft-float"].stdout
    assert results["ours"].returncode == 0 and "= 2.5" in results["ours"].stdout


def test_crate_using_std_gets_cargo_error_and_no_std_hint(installed, tmp_path):
    crate = tmp_path / "uses_std"
    shutil.copytree(DATA / "uses_std", crate)
    result = installed("cargo", "ux", "--", "build", "--manifest-path", str(crate / "Cargo.toml"))
    assert result.returncode == 5
    assert "can't find crate for `std`" in result.stderr  # cargo's own message, passed through
    assert "x86_64-unikernel-elf is a #![no_std] target" in result.stderr


def test_plain_cargo_with_env_or_config(installed, tmp_path):
    crate = tmp_path / "ukprobe"
    shutil.copytree(DATA / "ukprobe", crate)
    script = installed("env", "ux", check=True).stdout
    # After `eval "$(uktoolchain env ux)"`, plain `cargo` is the chosen toolchain's.
    built = shell_with_env(script, f"cd {crate} && command -v cargo && cargo build --release 2>&1")
    assert built.returncode == 0, built.stdout + built.stderr
    assert built.stdout.splitlines()[0] == str(installed.home / "rendered" / "default" / "ux" / "rust" / "bin" / "cargo")
    assert (crate / "target" / "x86_64-unikernel-elf" / "release" / "libukprobe.a").is_file()
    # The config file form: `cargo --config FILE` in an environment that knows nothing else.
    config = installed("cargo-config", "ux", check=True).stdout
    (tmp_path / "cargo.toml").write_text(config)
    cargo = installed.values("ux")["CARGO"]
    shutil.rmtree(crate / "target")
    built = subprocess.run([cargo, "build", "--release", "--config", str(tmp_path / "cargo.toml")], cwd=crate,
                           capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert built.returncode == 0, built.stderr
    assert (crate / "target" / "x86_64-unikernel-elf" / "release" / "libukprobe.a").is_file()


def test_moved_home_builds_without_rebuilding(installed, tmp_path):
    """Relocation: nothing in the sysroot packages names the home; paths are rendered at use time."""
    stamp = json.loads((installed.home / "state" / "installed" / "default" / "ux.json").read_text())
    folders = [installed.home / "conan" / p["folder"] for p in stamp["packages"] if p["name"] == "rust-sysroot"]
    assert len(folders) == 1
    leftovers = subprocess.run(["grep", "-rl", str(installed.home), *map(str, folders)], capture_output=True, text=True)
    assert leftovers.returncode == 1, leftovers.stdout
    moved = tmp_path / "moved-home"
    shutil.copytree(installed.home, moved, symlinks=True)
    again = Installed(installed.root, moved, installed.index)
    assert "up to date: ux" in again("install", "ux", check=True).stderr
    assert again.values("ux")["CARGO_BUILD_TARGET"].startswith(str(moved))
    assert build_probe(again, "x86_64", tmp_path).is_file()


def _toolchain_with_precompiled_std(root: Path, base: rust_toolchain.RustToolchain) -> Path:
    """A toolchain like rustup's after `rustup target add aarch64-unknown-none`: Debian's rustc
    with a sysroot of its own that holds a precompiled rust-std for that built-in target (built
    here the way Rust's CI builds it: core, alloc, compiler_builtins with its "mem" feature)."""
    sysroot = root / "toolchain"
    rustlib = sysroot / "lib" / "rustlib"
    rustlib.mkdir(parents=True)
    host = base.rustc.parent.parent / "lib" / "rustlib"
    for entry in ("src", "x86_64-unknown-linux-gnu"):
        (rustlib / entry).symlink_to(host / entry)
    (sysroot / "bin").mkdir()
    (sysroot / "bin" / "cargo").symlink_to(base.cargo)
    rustc = sysroot / "bin" / "rustc"
    rustc.write_text(f'#!/bin/sh\n# rustc with this sysroot, unless the caller names one\n'
                     f'case " $* " in *" --sysroot"*) exec "{base.rustc}" "$@" ;; esac\n'
                     f'exec "{base.rustc}" --sysroot "{sysroot}" "$@"\n')
    rustc.chmod(0o755)
    std = root / "std"
    std.mkdir()
    library = base.library
    (std / "lib.rs").write_text("#![no_std]\n")
    (std / "Cargo.toml").write_text(f'''[package]
name = "precompiled-std"
version = "0.0.0"
[lib]
path = "lib.rs"
[dependencies]
core = {{ path = "{library / 'core'}" }}
alloc = {{ path = "{library / 'alloc'}" }}
compiler_builtins = {{ path = "{base.compiler_builtins}", features = ["rustc-dep-of-std", "mem"] }}
[patch.crates-io]
compiler_builtins = {{ path = "{base.compiler_builtins}" }}
rustc-std-workspace-core = {{ path = "{library / 'rustc-std-workspace-core'}" }}
[profile.release]
panic = "abort"
''')
    env = {**os.environ, "RUSTC": str(base.rustc), "RUSTC_BOOTSTRAP": "1", "CARGO_HOME": str(root / "cargo-home")}
    env.pop("RUSTFLAGS", None)
    subprocess.run([str(base.cargo), "build", "--offline", "--release", "--target", "aarch64-unknown-none"],
                   cwd=std, env=env, check=True, capture_output=True, text=True, timeout=1200)
    lib = rustlib / "aarch64-unknown-none" / "lib"
    lib.mkdir(parents=True)
    for crate in ("core", "alloc", "compiler_builtins", "rustc_std_workspace_core"):
        [rlib] = (std / "target" / "aarch64-unknown-none" / "release" / "deps").glob(f"lib{crate}-*.rlib")
        shutil.copy2(rlib, lib)
    return rustc


def test_precompiled_rust_std_is_used_when_its_abi_matches(installed, tmp_path):
    """aarch64-unknown-none already has our ABI: a toolchain with its precompiled rust-std gets no
    core build, the built-in target name, and our runtime crates built against that std."""
    rustc = _toolchain_with_precompiled_std(tmp_path, rust_toolchain.select())
    other = Installed(installed.root, tmp_path / "home", installed.index)
    result = other("install", "ua", "--with", "rust", "--plain", UKTOOLCHAIN_RUSTC=str(rustc), timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    log = (other.home / "logs" / "default" / "rust-sysroot[aarch64].log").read_text()
    assert "using the toolchain's precompiled rust-std for aarch64-unknown-none" in log
    assert "building core" not in log
    values = json.loads(other("env", "ua", "--json", check=True, UKTOOLCHAIN_RUSTC=str(rustc)).stdout)
    assert values["CARGO_BUILD_TARGET"] == "aarch64-unknown-none" and values["RUSTC"] == str(rustc)
    crate = tmp_path / "ukprobe"
    shutil.copytree(DATA / "ukprobe", crate)
    built = other("cargo", "--out", str(tmp_path / "out"), "ua", "--", "build", "--release", "--manifest-path",
                  str(crate / "Cargo.toml"), UKTOOLCHAIN_RUSTC=str(rustc))
    assert built.returncode == 0, built.stderr
    archive = tmp_path / "out" / "libukprobe.a"
    ran = link_and_run("aarch64", [DATA / "probe.c", archive], tmp_path / "probe")
    assert ran.returncode == 0 and ran.stdout.splitlines()[-1] == "agree", ran.stdout + ran.stderr
    # Such a std brings its own memcpy & co., weak: a C library's strong ones take precedence.
    defined = subprocess.run(["nm", "--defined-only", str(archive)], capture_output=True, text=True).stdout
    assert re.findall(r" ([A-Za-z]) memcpy$", defined, re.M) == ["W"]
