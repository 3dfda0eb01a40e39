"""``uktoolchain run`` with an installed toolchain: the bundled hello unikernel built for spt,
virtio and aarch64-rpi4 (by ``check --keep``, which builds it with the home's toolchains), then
booted by ``run`` as a user would: solo5-spt, QEMU (x86_64), QEMU raspi4b.

Opt-in: UKTOOLCHAIN_TEST_HOME names a home where spt, virtio and aarch64-rpi4 are installed
(for the default toolchain set, or the one UKTOOLCHAIN_OCAML names); building one takes a
cross-compiler build. test_unikernel_targets.py runs the spt and virtio part on the home it builds.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import run_checks
from conftest import shell_with_env
from uktoolchain import doctor

HELLO = Path(__file__).resolve().parents[2] / "src" / "uktoolchain" / "data" / "hello"

HOME = os.environ.get("UKTOOLCHAIN_TEST_HOME")
TARGETS = ["spt", "virtio", "aarch64-rpi4"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HOME, reason="set UKTOOLCHAIN_TEST_HOME to a home with spt, virtio and aarch64-rpi4 "
                                        "installed"),
]


def test_run_boots_each_platform_and_returns_the_unikernel_status(uk, tmp_path, monkeypatch):
    monkeypatch.setenv("UKTOOLCHAIN_HOME", str(Path(HOME)))
    missing = [c.name for c in doctor.run_checks(["qemu-x86", "qemu-raspi4b", "cmake"]) if not c.ok]
    if missing:
        pytest.skip(f"host lacks {missing} (see `uktoolchain doctor`)")
    build = tmp_path / "hello"
    checked = uk("check", *TARGETS, "--keep", str(build), timeout=1800)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    run_checks.run_spt(uk, build)
    run_checks.run_virtio(uk, build)
    run_checks.run_rpi4(uk, build)
    run_checks.refuse_other_binding(uk, build, "virtio", "spt")
    run_checks.refuse_other_binding(uk, build, "spt", "virtio")


def test_run_attaches_the_manifest_devices(uk, tmp_path, monkeypatch):
    monkeypatch.setenv("UKTOOLCHAIN_HOME", str(Path(HOME)))
    project = tmp_path / "hello"
    shutil.copytree(HELLO, project)
    (project / "manifest.json").write_text(run_checks.BLOCK_MANIFEST)
    uk("workspace", "spt", "virtio", "-o", str(project / "dune-workspace"), check=True)
    built = shell_with_env(uk("env", "spt", "virtio", check=True).stdout, f"cd {project} && dune build 2>&1")
    assert built.returncode == 0, built.stdout + built.stderr
    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(1 << 20))
    run_checks.run_with_a_block_device(uk, project, disk)
