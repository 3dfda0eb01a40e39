"""Solo5 targets end to end, per toolchain set: OCaml cross-compilers for x86_64 and aarch64 from
one host, one dune build of the bundled hello unikernel for six targets, every image's ABI checked,
spt booted; at the end the home is moved, last to a path with a space and non-ASCII letters,
and still works; then both sets in one home, each checked, one removed without harm to the other.

Opt-in: upstream Solo5/ocaml-solo5 (and dune 3.24) are unreachable here; see set_sources.py for the
variables. With UKTOOLCHAIN_TEST_RPI4_FIRMWARE and a raspi4b QEMU, aarch64-rpi4 is installed and
booted too.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pexpect
import pytest

import run_checks
from conftest import shell_with_env
from set_sources import SETS, sources_of
from uktoolchain import doctor

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "src" / "uktoolchain" / "data" / "hello"
FIRMWARE = os.environ.get("UKTOOLCHAIN_TEST_RPI4_FIRMWARE")  # ci/fetch-rpi4-firmware.sh
missing_tools = [c.name for c in doctor.run_checks(["libseccomp", "aarch64-gcc"]) if not c.ok]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(missing_tools), reason=f"host lacks {missing_tools} (see `uktoolchain doctor`)"),
]
X86 = ["spt", "hvt", "virtio", "muen", "xen"]


def sources_or_skip(toolset: str):
    found = sources_of(toolset)
    if found.needs:
        pytest.skip(f"set {toolset} needs {', '.join(found.needs)} (see tests/e2e/set_sources.py)")
    return found


@pytest.mark.parametrize("toolset", SETS)
def test_solo5_targets_build_link_and_boot(uk, tmp_path, isolated_home, monkeypatch, toolset):
    found = sources_or_skip(toolset)
    monkeypatch.setenv("UKTOOLCHAIN_OCAML", toolset)
    sources, env = found.args, found.env
    ocaml = json.loads(uk("list", "--json", check=True).stdout)["sets"][toolset]["versions"]["ocaml"]
    rust = ["--with", "rust"] if doctor.run_checks(["rust"])[0].ok else []  # the hello's Rust part
    first = uk("install", "spt", "aarch64-spt", "--plain", *rust, *sources, env=env, timeout=3600)
    assert first.returncode == 0, first.stderr[-4000:]
    assert "ocaml-solo5[x86_64]: done" in first.stderr and "ocaml-solo5[aarch64]: done" in first.stderr

    # Bindings are chosen at link time: the other x86_64 targets reuse the same cross-compiler.
    others = uk("install", *X86[1:], "--plain", *rust, *sources, env=env, timeout=600)
    assert others.returncode == 0, others.stderr[-3000:]
    assert "(nothing to build)" in others.stderr

    project = tmp_path / "hello"
    shutil.copytree(HELLO, project)
    uk("workspace", *X86, "aarch64-spt", "-o", str(project / "dune-workspace"), check=True)
    script = uk("env", *X86, "aarch64-spt", check=True).stdout
    built = shell_with_env(script, f"cd {project} && dune build 2>&1")
    assert built.returncode == 0, built.stdout + built.stderr

    for binding in X86:
        image = project / "_build" / binding / "hello.exe"
        abi = shell_with_env(script, f"solo5-elftool query-abi {image}")
        assert json.loads(abi.stdout)["target"] == binding, abi.stdout + abi.stderr
    header = subprocess.run(["readelf", "-h", "-n", str(project / "_build" / "aarch64-spt" / "hello.exe")],
                            capture_output=True, text=True).stdout
    assert "AArch64" in header and ".note.solo5.abi" in header

    # C the way MirageOS compiles it (mirage-solo5's bindings Makefile: CC is ocamlopt) builds in
    # the environment of one target, and an aarch64-only environment names its compiler `solo5`
    # as mirage's (toolchain solo5) expects; with both arches, `solo5` stays x86_64.
    bindings = tmp_path / "bindings"
    bindings.mkdir()
    (bindings / "Makefile").write_text("CC=ocamlfind -toolchain solo5 ocamlopt\nlibb.a: b.o\n\t$(AR) r $@ $^\n")
    (bindings / "b.c").write_text("int b(void) { return 1; }\n")
    made = shell_with_env(uk("env", "spt", check=True).stdout, f"make -C {bindings} 2>&1")
    assert made.returncode == 0 and (bindings / "libb.a").is_file(), made.stdout
    arch = "ocamlfind -toolchain solo5 ocamlopt -config-var architecture"
    assert shell_with_env(uk("env", "aarch64-spt", check=True).stdout, arch).stdout.strip() == "arm64"
    assert shell_with_env(script, arch).stdout.strip() == "amd64"

    values = json.loads(uk("env", "spt", "--json", check=True).stdout)
    child = pexpect.spawn("solo5-spt", [str(project / "_build" / "spt" / "hello.exe")], env=values,
                          encoding="utf-8", timeout=60)
    child.expect("Hello from OCaml on Solo5!")
    child.expect(f"OCaml {ocaml}")  # the set's own compiler built it
    child.expect(r"C stub: 2\.5 \* 4 = 10\r?\n")
    child.expect(r"CMake C library: norm\(3, 4\) = 5\s")
    child.expect(r'CMake C library: adler32 "uktoolchain" = 1c4f04a2 \(matches OCaml\)')
    child.expect(r"slept 100 ms: \d+\.\d ms by the monotonic clock")
    child.expect("allocated 4096 KiB and collected")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 7, child.before

    # The same proof through `uktoolchain check`: its bundled project, its verdict per target.
    checked = uk("check", *X86, "aarch64-spt", timeout=1200)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verdicts = {line.split()[1]: line for line in checked.stdout.splitlines() if len(line.split()) > 2}
    assert verdicts["spt"].startswith("ok") and "booted" in verdicts["spt"]
    hvt = verdicts["hvt"]
    assert hvt.startswith("ok") or "KVM cannot run SSE guests on this host" in hvt or "/dev/kvm" in hvt, hvt
    virtio = verdicts["virtio"]
    assert virtio.startswith("ok") or "qemu-system-x86_64 is not installed" in virtio, virtio
    for name in ("muen", "xen", "aarch64-spt"):
        assert verdicts[name].startswith("linked") and "not booted" in verdicts[name], verdicts[name]

    # A user's image booted by `run`: the hello built above, spt under solo5-spt, virtio under
    # QEMU, each ending with the unikernel's status; an image of another binding refused.
    run_checks.run_spt(uk, project)
    run_checks.run_virtio(uk, project)
    run_checks.refuse_other_binding(uk, project, "virtio", "spt")

    # aarch64-rpi4: the same aarch64 cross-compiler, our rpi4 binding, booted under QEMU raspi4b.
    rpi4 = bool(FIRMWARE and doctor.run_checks(["qemu-raspi4b"])[0].ok)
    if rpi4:
        installed = uk("install", "aarch64-rpi4", "--plain", *rust, *sources, "--source",
                       f"rpi4-firmware={FIRMWARE}", env=env, timeout=600)
        assert installed.returncode == 0, installed.stderr[-3000:]
        assert "ocaml-solo5[aarch64]: done" not in installed.stderr  # no second cross-compiler build
        booted = uk("check", "aarch64-rpi4", timeout=600)
        assert booted.returncode == 0 and booted.stdout.startswith("ok"), booted.stdout + booted.stderr
        assert "exit status 7" in booted.stdout

    # A toolchain moved to another home path keeps working: nothing rebuilt, check passes again.
    moved = tmp_path / "moved-home"
    shutil.move(isolated_home, moved)
    monkeypatch.setenv("UKTOOLCHAIN_HOME", str(moved))
    again = uk("install", "spt", "aarch64-spt", "--plain", *sources, env=env, timeout=600)
    assert again.returncode == 0 and "up to date" in again.stderr, again.stderr[-3000:]
    rechecked = uk("check", "spt", "aarch64-spt", timeout=1200)
    assert rechecked.returncode == 0, rechecked.stdout + rechecked.stderr
    assert str(isolated_home) not in uk("env", "spt", check=True).stdout

    # ... and to a path with a space and non-ASCII letters (macOS's default home is under
    # "Application Support"): Solo5's wrappers (with our patch), ocaml-solo5's and ours, findlib,
    # CMake and cargo settings all take it. A dune build through `workspace` + `env` in a project
    # whose path has a space too, then `check`, which boots spt (and aarch64-rpi4 under QEMU).
    spaced = tmp_path / "rel ü home" / "uk"
    spaced.parent.mkdir()
    shutil.move(moved, spaced)
    monkeypatch.setenv("UKTOOLCHAIN_HOME", str(spaced))
    again = uk("install", "spt", "aarch64-spt", "--plain", *sources, env=env, timeout=600)
    assert again.returncode == 0 and "up to date" in again.stderr, again.stderr[-3000:]
    project = tmp_path / "my project ü"
    shutil.copytree(HELLO, project)
    uk("workspace", "spt", "aarch64-spt", "-o", str(project / "dune-workspace"), check=True)
    script = uk("env", "spt", "aarch64-spt", check=True).stdout
    built = shell_with_env(script, f"cd '{project}' && dune build 2>&1 && solo5-spt _build/spt/hello.exe")
    assert built.returncode == 7, built.stdout + built.stderr  # hello.ml ends with `exit 7`
    assert "Hello from OCaml on Solo5!" in built.stdout and "allocated 4096 KiB and collected" in built.stdout
    targets = ["spt", "aarch64-spt"] + (["aarch64-rpi4"] if rpi4 else [])
    rechecked = uk("check", *targets, timeout=1200)
    assert rechecked.returncode == 0, rechecked.stdout + rechecked.stderr
    verdicts = {line.split()[1]: line for line in rechecked.stdout.splitlines() if len(line.split()) > 2}
    assert verdicts["spt"].startswith("ok") and (not rpi4 or verdicts["aarch64-rpi4"].startswith("ok")), verdicts


def test_two_sets_in_one_home_each_checked_one_removed(uk, isolated_home):
    """Both sets' spt in one home: each one's check passes (its own compiler's line), Solo5 is built
    once for both, and removing one set leaves the other working."""
    if len(SETS) < 2:
        pytest.skip("UKTOOLCHAIN_TEST_SETS names fewer than two sets")
    newer, older = sources_or_skip(SETS[0]), sources_or_skip(SETS[1])
    first = uk("install", "spt", "--plain", *newer.args, env=newer.env, timeout=3600)
    assert first.returncode == 0, first.stderr[-3000:]
    second = uk("install", "spt", "--plain", *older.args, env=older.env, timeout=3600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "solo5[x86_64]: cached" in second.stderr  # the same Solo5 0.12.1 serves both sets
    for found in (newer, older):
        checked = uk("check", "spt", env=found.env, timeout=1200)
        assert checked.returncode == 0 and checked.stdout.startswith("ok"), checked.stdout + checked.stderr
    removed = uk("remove", "--ocaml", older.toolset, timeout=600)
    assert removed.returncode == 0 and f"removed spt (OCaml set {older.toolset})" in removed.stderr, removed.stderr
    assert uk("env", "spt", "--ocaml", older.toolset).returncode == 6
    again = uk("check", "spt", env=newer.env, timeout=1200)
    assert again.returncode == 0 and again.stdout.startswith("ok"), again.stdout + again.stderr
