"""``uktoolchain run`` without an installed toolchain: real ELF files compiled here (elf_samples),
the real CLI in a subprocess.

An image for another binding or architecture is refused with exit 3 before anything starts (a
tender on PATH that would leave a mark is never run, and the refusal comes before the "not
installed" error the empty home would give); the message names what the image is and how to
link for the target. The rpi4 board needs no toolchain to boot a sample: QEMU raspi4b, when this
machine has it, runs it and its semihosting exit status is run's own. Console-reported statuses
(virtio under QEMU) are read by the runner from real processes.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import elf_samples
import pytest

from uktoolchain import doctor, runner
from uktoolchain.errors import ImageMismatchError
from uktoolchain.platforms.base import CONSOLE, Launch


@pytest.fixture
def marking_tender(tmp_path) -> tuple[dict, Path]:
    """solo5-spt and solo5-hvt on PATH that would write a mark if anything ran them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mark = tmp_path / "tender-ran"
    for name in ("solo5-spt", "solo5-hvt", "qemu-system-x86_64", "qemu-system-aarch64"):
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\necho ran >> {mark}\nexit 0\n")
        tool.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, mark


def test_an_image_of_another_binding_is_refused_before_anything_starts(uk, tmp_path, isolated_home, marking_tender):
    env, mark = marking_tender
    hvt_image = elf_samples.build(tmp_path / "elf", "hello.hvt", arch="x86_64", abi=(elf_samples.HVT, 2))
    result = uk("run", "spt", str(hvt_image), "--", "--solo5:quiet", env=env)
    assert result.returncode == 3, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("uktoolchain: error:"), line
    assert f"{hvt_image} is an x86_64 ELF, Solo5 hvt ABI version 2" in line
    assert "-z solo5-abi=spt" in line and "uktoolchain workspace spt" in line  # how to link for spt
    assert f"uktoolchain run hvt {hvt_image}" in line  # the target it was linked for
    assert not mark.exists()


def test_the_same_image_for_its_own_target_gets_past_the_check(uk, tmp_path, isolated_home, marking_tender):
    # The counterpart: an spt image for spt is not refused as an image; in an empty home the
    # tender (part of the toolchain) is what is missing, and that is the error.
    env, mark = marking_tender
    spt_image = elf_samples.build(tmp_path / "elf", "hello.spt", arch="x86_64", abi=(elf_samples.SPT, 2))
    result = uk("run", "spt", str(spt_image), env=env)
    assert result.returncode == 6, result.stderr
    assert "spt is not installed" in result.stderr and "uktoolchain install spt" in result.stderr
    assert not mark.exists()


@pytest.mark.parametrize("name, arch, abi, what", [
    ("rpi4-on-spt", "aarch64", (elf_samples.RPI4, 1), "is an aarch64 ELF, Solo5 rpi4 ABI version 1"),
    ("no-note", "x86_64", None, "is an x86_64 ELF without a Solo5 ABI note"),
])
def test_an_image_of_another_arch_or_without_a_note_is_refused(uk, tmp_path, isolated_home, marking_tender,
                                                                name, arch, abi, what):
    env, mark = marking_tender
    image = elf_samples.build(tmp_path / "elf", name, arch=arch, abi=abi)
    result = uk("run", "virtio", str(image), env=env)
    assert result.returncode == 3, result.stderr
    assert what in result.stderr and "-z solo5-abi=virtio" in result.stderr, result.stderr
    assert not mark.exists()


def test_an_spt_image_on_the_rpi4_board_is_refused(uk, tmp_path, isolated_home, marking_tender):
    env, mark = marking_tender
    image = elf_samples.build(tmp_path / "elf", "spt", arch="x86_64", abi=(elf_samples.SPT, 2))
    result = uk("run", "aarch64-rpi4", str(image), env=env)
    assert result.returncode == 3, result.stderr
    assert "Solo5 spt ABI version 2" in result.stderr and "-z solo5-abi=rpi4" in result.stderr, result.stderr
    assert not mark.exists()


def test_not_a_file_and_not_a_unikernel_target(uk, tmp_path, isolated_home):
    missing = uk("run", "spt", str(tmp_path / "nothing.exe"))
    assert missing.returncode == 3 and "does not exist" in missing.stderr, missing.stderr
    host = uk("run", "unix", str(tmp_path / "nothing.exe"))
    assert host.returncode == 2 and "not a unikernel target" in host.stderr, host.stderr


@pytest.mark.skipif(not doctor.run_checks(["qemu-raspi4b"])[0].ok, reason="no QEMU with the raspi4b machine")
def test_rpi4_boots_under_qemu_raspi4b_and_returns_the_unikernel_status(uk, tmp_path, isolated_home):
    # The board's runner is the host's QEMU: no toolchain needed (kernel8.img by binutils' objcopy).
    image = elf_samples.build(tmp_path / "elf", "hello.rpi4")
    result = uk("run", "aarch64-rpi4", str(image), timeout=120)
    assert result.returncode == elf_samples.EXIT_STATUS, result.stdout + result.stderr
    assert elf_samples.GREETING in result.stdout


def _console_launch(script: str) -> Launch:
    return Launch([sys.executable, "-c", script], CONSOLE, "a console runner")


def test_a_console_status_is_read_even_when_split_across_writes(capfd):
    # The runner's own status (0) is not the unikernel's: the console line is, even when it
    # arrives in two pieces, and the last one counts.
    script = ("import sys, time; w = sys.stdout.buffer; w.write(b'Solo5: solo5_exit(3) called\\n'); w.flush();"
              " w.write(b'Solo5: solo5_ex'); w.flush(); time.sleep(0.2); w.write(b'it(42) called\\n'); w.flush()")
    assert runner.execute(_console_launch(script), dict(os.environ)) == 42
    assert "solo5_exit(42)" in capfd.readouterr().out  # passed through to the user


def test_an_abort_on_the_console_is_status_255_and_silence_is_an_error():
    abort = "print('Solo5: solo5_abort() called', flush=True)"
    assert runner.execute(_console_launch(abort), dict(os.environ)) == runner.SOLO5_EXIT_ABORT
    with pytest.raises(runner.ExitStatusUnknownError) as raised:
        runner.execute(_console_launch("print('bye')"), dict(os.environ))
    assert raised.value.exit_code == 8 and "--solo5:quiet" in raised.value.hint


def test_prepare_refuses_before_making_a_launch(tmp_path):
    # The library call behind run: the check comes first, whatever the platform's runner.
    from uktoolchain.resources import RecipeIndex
    from uktoolchain.targets import Catalogue

    catalogue = Catalogue.load(RecipeIndex.discover().catalogue_file)
    image = elf_samples.build(tmp_path / "elf", "hello.rpi4")
    with pytest.raises(ImageMismatchError):
        runner.prepare(catalogue.targets["hvt"], image, [], runner.Devices({}, {}), "", tmp_path)


@pytest.fixture
def catalogue():
    from uktoolchain.resources import RecipeIndex
    from uktoolchain.targets import Catalogue

    return Catalogue.load(RecipeIndex.discover().catalogue_file)


@pytest.fixture
def with_devices(tmp_path) -> dict[str, Path]:
    """spt and virtio samples whose manifests declare block `storage`, then net `service`."""
    note = elf_samples.manifest_note([("storage", "block"), ("service", "net")])
    return {binding: elf_samples.build(tmp_path / "elf", f"devices.{binding}", arch="x86_64", abi=(number, version),
                                       extra=note)
            for binding, number, version in (("spt", elf_samples.SPT, 2), ("virtio", 3, 1))}


def test_manifest_devices_reach_the_tender_and_qemu_by_name_and_slot(tmp_path, catalogue, with_devices,
                                                                     marking_tender):
    env, _ = marking_tender
    devices = runner.Devices({"service": "tap0"}, {"storage": "/srv/disk,1.img"})
    spt = runner.prepare(catalogue.targets["spt"], with_devices["spt"], ["--x=1"], devices,
                         env["PATH"].split(os.pathsep)[0], tmp_path)
    assert spt.command[1:] == ["--net:service=tap0", "--block:storage=/srv/disk,1.img",
                               str(with_devices["spt"].absolute()), "--x=1"]
    if not doctor.run_checks(["qemu-x86"])[0].ok:
        return
    virtio = runner.prepare(catalogue.targets["virtio"], with_devices["virtio"], [], devices, "", tmp_path).command
    # Manifest order is PCI slot order, from slot 3; QEMU's option syntax doubles commas.
    drive = virtio.index("-drive")
    assert virtio[drive + 1] == "id=drive3,file=/srv/disk,,1.img,if=none,format=raw"
    assert virtio[drive + 3] == "virtio-blk,drive=drive3,addr=0x3,bus=pci.0"
    assert "virtio-net,netdev=n4,addr=0x4,bus=pci.0" in virtio
    assert "tap,id=n4,ifname=tap0,script=no,downscript=no" in virtio


def test_devices_must_match_the_manifest_before_anything_starts(uk, tmp_path, isolated_home, with_devices,
                                                               marking_tender):
    env, mark = marking_tender
    image = str(with_devices["spt"])
    missing = uk("run", "--block", "storage=/dev/null", "spt", image, env=env)
    assert missing.returncode == 3, missing.stderr
    assert "declares net device service in its Solo5 manifest" in missing.stderr and "--net service=TAP" in missing.stderr
    extra = uk("run", "--block", "storage=/dev/null", "--net", "service=tap0", "--net", "other=tap1", "spt", image,
               env=env)
    assert extra.returncode == 3 and "declares no net device other" in extra.stderr, extra.stderr
    bad = uk("run", "--net", "service", "spt", image, env=env)
    assert bad.returncode == 2 and "expected NAME=TAP" in bad.stderr, bad.stderr
    assert not mark.exists()
