"""``uktoolchain image``: SD card images and boot directories for the Raspberry Pi 4.

Real ELF files (compiled here), real mkfs.vfat/mtools/objcopy, the real CLI in a subprocess; the
image is read back with mtools and our own MBR reading, and booted under QEMU raspi4b when this
machine has it. The firmware here is given with --firmware (tests/integration/test_rpi4_firmware.py
covers the installed component).
"""
from __future__ import annotations

import os
import shutil
import stat
import struct
import subprocess
import sys
from pathlib import Path

import elf_samples
import pytest

MiB = 1 << 20
TARGET = "aarch64-rpi4"
MTOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


@pytest.fixture
def firmware(tmp_path) -> Path:
    """Stand-in firmware files (QEMU does not run them; real ones: test_rpi4_firmware.py)."""
    directory = tmp_path / "firmware"
    directory.mkdir()
    for name, size in (("start4.elf", 70_000), ("fixup4.dat", 5_399), ("bcm2711-rpi-4-b.dtb", 50_000)):
        (directory / name).write_bytes(os.urandom(size))
    (directory / "LICENCE.broadcom").write_text("stand-in licence text\n")
    return directory


@pytest.fixture
def unikernel(tmp_path) -> Path:
    return elf_samples.build(tmp_path / "elf", "hello.rpi4")


def mdir(image: Path) -> set[str]:
    out = subprocess.run(["mdir", "-b", "-i", f"{image}@@1M", "::/"], capture_output=True, text=True,
                         env=MTOOLS_ENV, check=True).stdout
    return {line.rsplit("/", 1)[-1] for line in out.split()}


def read_from_card(image: Path, name: str, tmp_path: Path) -> bytes:
    target = tmp_path / f"from-card-{name}"
    subprocess.run(["mcopy", "-n", "-i", f"{image}@@1M", f"::/{name}", str(target)], env=MTOOLS_ENV, check=True)
    return target.read_bytes()


def objcopy_binary(elf: Path, tmp_path: Path) -> bytes:
    out = tmp_path / "expected-kernel8.img"
    subprocess.run(["aarch64-linux-gnu-objcopy", "-O", "binary", str(elf), str(out)], check=True)
    return out.read_bytes()


BOOT_FILES = {"start4.elf", "fixup4.dat", "bcm2711-rpi-4-b.dtb", "LICENCE.broadcom", "config.txt", "kernel8.img"}


def test_sd_card_image(uk, tmp_path, firmware, unikernel):
    image = tmp_path / "out" / "sdcard.img"
    image.parent.mkdir()
    result = uk("image", TARGET, str(unikernel), "-o", str(image), "--firmware", str(firmware))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stderr and "not pinned" in result.stderr  # stand-in firmware is not the pinned one

    size = image.stat().st_size
    assert size >= 64 * MiB and size & (size - 1) == 0
    data = image.read_bytes()
    assert data[510:512] == b"\x55\xaa"
    ptype, first, count = data[446 + 4], *struct.unpack_from("<II", data, 446 + 8)
    assert (ptype, first * 512) == (0x0C, MiB)
    assert first * 512 + count * 512 == size  # the partition fills the card
    assert data[446 + 16:510] == bytes(48)
    boot_sector = data[MiB:MiB + 512]
    assert boot_sector[82:90] == b"FAT32   " and boot_sector[510:512] == b"\x55\xaa"
    assert struct.unpack_from("<I", boot_sector, 28)[0] == first  # FAT "hidden sectors" = partition start

    assert mdir(image) == BOOT_FILES
    assert read_from_card(image, "kernel8.img", tmp_path) == objcopy_binary(unikernel, tmp_path)
    for name in ("start4.elf", "fixup4.dat", "bcm2711-rpi-4-b.dtb", "LICENCE.broadcom"):
        assert read_from_card(image, name, tmp_path) == (firmware / name).read_bytes(), name
    config = read_from_card(image, "config.txt", tmp_path).decode()
    lines = config.splitlines()
    assert lines[0].startswith("#")
    assert [line for line in lines if not line.startswith("#")] == [
        "arm_64bit=1", "kernel=kernel8.img", "kernel_address=0x80000", "enable_uart=1"]
    assert list(image.parent.iterdir()) == [image]  # no temporary left beside it


def test_boot_dir(uk, tmp_path, firmware, unikernel):
    boot = tmp_path / "card-boot"
    boot.mkdir()
    (boot / "keep.txt").write_text("someone else's file\n")
    (boot / "kernel8.img").write_text("an older kernel\n")
    result = uk("image", TARGET, str(unikernel), "--boot-dir", str(boot), "--firmware", str(firmware))
    assert result.returncode == 0, result.stderr
    assert {p.name for p in boot.iterdir()} == BOOT_FILES | {"keep.txt"}
    assert (boot / "kernel8.img").read_bytes() == objcopy_binary(unikernel, tmp_path)
    assert (boot / "start4.elf").read_bytes() == (firmware / "start4.elf").read_bytes()
    assert "kernel_address=0x80000" in (boot / "config.txt").read_text().splitlines()
    # A directory that does not exist yet is made.
    fresh = tmp_path / "new" / "boot"
    assert uk("image", TARGET, str(unikernel), "--boot-dir", str(fresh), "--firmware", str(firmware)).returncode == 0
    assert {p.name for p in fresh.iterdir()} == BOOT_FILES


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_boot_files_are_readable_by_all(tmp_path, firmware, unikernel, umask):
    # As files copied from a card are (config.txt and firmware are no secrets): 0644, and the
    # directories made for them 0755, whatever the umask; existing directories keep their mode.
    existing = tmp_path / "mnt"
    existing.mkdir(mode=0o700)
    existing.chmod(0o700)
    boot = existing / "new" / "boot"
    command = (f"umask {umask:03o}; exec {sys.executable} -m uktoolchain image {TARGET} '{unikernel}' "
               f"--boot-dir '{boot}' --firmware '{firmware}'")
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in boot.iterdir()}
    assert modes == dict.fromkeys(BOOT_FILES, 0o644)
    assert stat.S_IMODE(boot.stat().st_mode) == stat.S_IMODE(boot.parent.stat().st_mode) == 0o755
    assert stat.S_IMODE(existing.stat().st_mode) == 0o700


def test_firmware_without_optional_files_is_noted(uk, tmp_path, firmware, unikernel):
    (firmware / "bcm2711-rpi-4-b.dtb").unlink()
    (firmware / "LICENCE.broadcom").unlink()
    image = tmp_path / "sdcard.img"
    result = uk("image", TARGET, str(unikernel), "-o", str(image), "--firmware", str(firmware))
    assert result.returncode == 0, result.stderr
    assert "no bcm2711-rpi-4-b.dtb" in result.stderr and "no LICENCE.broadcom" in result.stderr
    assert mdir(image) == {"start4.elf", "fixup4.dat", "config.txt", "kernel8.img"}


def test_firmware_from_a_boot_subdirectory(uk, tmp_path, firmware, unikernel):
    checkout = tmp_path / "firmware-checkout"
    shutil.copytree(firmware, checkout / "boot")  # raspberrypi/firmware's layout
    result = uk("image", TARGET, str(unikernel), "--boot-dir", str(tmp_path / "b"), "--firmware", str(checkout))
    assert result.returncode == 0, result.stderr


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, code, message", [
    ("text", 3, "is not an ELF file"),
    ("x86_64-spt", 3, "is an x86_64 ELF, Solo5 spt ABI version 1"),
    ("aarch64-hvt", 3, "is an aarch64 ELF, Solo5 hvt ABI version 1; an SD card image needs the rpi4 binding"),
    ("aarch64-bare", 3, "aarch64 ELF without a Solo5 ABI note"),
    ("rpi4-v2", 3, "Solo5 rpi4 ABI version 2; this uktoolchain makes images for rpi4 ABI version 1"),
    ("rpi4-elsewhere", 3, "loads at 0x40000000 with its entry at 0x40000000; the firmware loads kernel8.img at 0x80000"),
    ("missing", 3, "does not exist"),
])
def test_refused_unikernels(uk, tmp_path, firmware, kind, code, message):
    samples = tmp_path / "samples"
    path = {
        "text": lambda: _write(samples / "notes.txt", "not a unikernel\n"),
        "x86_64-spt": lambda: elf_samples.build(samples, "hello.spt", arch="x86_64", abi=(elf_samples.SPT, 1)),
        "aarch64-hvt": lambda: elf_samples.build(samples, "hello.hvt", abi=(elf_samples.HVT, 1)),
        "aarch64-bare": lambda: elf_samples.build(samples, "hello", abi=None),
        "rpi4-v2": lambda: elf_samples.build(samples, "hello.v2", abi=(elf_samples.RPI4, 2)),
        "rpi4-elsewhere": lambda: elf_samples.build(samples, "hello.high", address=0x40000000),
        "missing": lambda: samples / "nothing-here",
    }[kind]()
    image = tmp_path / "sdcard.img"
    result = uk("image", TARGET, str(path), "-o", str(image), "--firmware", str(firmware))
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "aarch64-rpi4" in result.stderr or kind == "missing"  # says what to build for
    assert len(result.stderr.strip().splitlines()) == 1
    assert not image.exists()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_unwritable_outputs(uk, tmp_path, firmware, unikernel):
    a_file = _write(tmp_path / "plain.txt", "x")
    for output in (a_file / "sdcard.img", Path("/sys/sdcard.img")):
        result = uk("image", TARGET, str(unikernel), "-o", str(output), "--firmware", str(firmware))
        assert result.returncode == 6, result.stderr
        assert f"cannot write {output}" in result.stderr
    result = uk("image", TARGET, str(unikernel), "--boot-dir", str(a_file), "--firmware", str(firmware))
    assert result.returncode == 3 and "is not a directory" in result.stderr
    result = uk("image", TARGET, str(unikernel), "-o", str(tmp_path), "--firmware", str(firmware))
    assert result.returncode == 3 and "is a directory" in result.stderr


def test_failure_keeps_the_previous_image(uk, tmp_path, firmware, unikernel):
    image = tmp_path / "sdcard.img"
    image.write_bytes(b"previous image")
    (firmware / "fixup4.dat").unlink()
    result = uk("image", TARGET, str(unikernel), "-o", str(image), "--firmware", str(firmware))
    assert result.returncode == 3
    assert "lacks fixup4.dat" in result.stderr and "--firmware" in result.stderr
    assert image.read_bytes() == b"previous image"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_missing_firmware_names_every_way_to_get_it(uk, tmp_path, unikernel):
    result = uk("image", TARGET, str(unikernel), "-o", str(tmp_path / "sdcard.img"))
    assert result.returncode == 6, result.stderr
    for words in ("target aarch64-rpi4 is not installed", "uktoolchain install aarch64-rpi4",
                  "--source rpi4-firmware=", "--firmware DIR"):
        assert words in result.stderr


def test_missing_mtools_names_the_package(uk, tmp_path, firmware, unikernel):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aarch64-linux-gnu-objcopy").symlink_to(shutil.which("aarch64-linux-gnu-objcopy"))
    result = uk("image", TARGET, str(unikernel), "-o", str(tmp_path / "sdcard.img"), "--firmware", str(firmware),
                env={"PATH": str(bin_dir)})
    assert result.returncode == 6, result.stderr
    assert "mcopy" in result.stderr and "package mtools" in result.stderr and "apt-get install mtools" in result.stderr
    # --boot-dir needs no FAT tools.
    result = uk("image", TARGET, str(unikernel), "--boot-dir", str(tmp_path / "boot"), "--firmware", str(firmware),
                env={"PATH": str(bin_dir)})
    assert result.returncode == 0, result.stderr


def test_missing_objcopy_names_the_package(uk, tmp_path, firmware, unikernel):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = uk("image", TARGET, str(unikernel), "--boot-dir", str(tmp_path / "boot"), "--firmware", str(firmware),
                env={"PATH": str(empty)})
    assert result.returncode == 6 and "binutils-aarch64-linux-gnu" in result.stderr


def test_targets_other_than_the_board_are_refused(uk, tmp_path, firmware, unikernel):
    result = uk("image", "spt", str(unikernel), "-o", str(tmp_path / "x.img"), "--firmware", str(firmware))
    assert result.returncode == 2 and "give aarch64-rpi4" in result.stderr
    result = uk("image", "aarch64-rpi5", str(unikernel), "-o", str(tmp_path / "x.img"))
    assert result.returncode == 2 and "unknown target 'aarch64-rpi5'; did you mean aarch64-rpi4?" in result.stderr
    result = uk("image", TARGET, str(unikernel), "--firmware", str(firmware))
    assert result.returncode == 2 and "one of the arguments -o/--output --boot-dir is required" in result.stderr


# -- QEMU ---------------------------------------------------------------------------------------


def qemu_raspi4b() -> str | None:
    qemu = shutil.which("qemu-system-aarch64")
    if qemu is None:
        return None
    machines = subprocess.run([qemu, "-M", "help"], capture_output=True, text=True).stdout
    return qemu if any(line.split()[:1] == ["raspi4b"] for line in machines.splitlines()) else None


QEMU = qemu_raspi4b()


@pytest.mark.skipif(QEMU is None, reason="needs qemu-system-aarch64 with the raspi4b machine (QEMU >= 9; "
                                         "Debian 12: qemu-system-arm from bookworm-backports)")
def test_qemu_raspi4b_takes_the_card_and_boots_its_kernel8(uk, tmp_path, firmware, unikernel):
    image = tmp_path / "sdcard.img"
    assert uk("image", TARGET, str(unikernel), "-o", str(image), "--firmware", str(firmware)).returncode == 0
    kernel = tmp_path / "kernel8-from-card.img"
    kernel.write_bytes(read_from_card(image, "kernel8.img", tmp_path))

    def boot(card: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [QEMU, "-M", "raspi4b", "-kernel", str(kernel), "-drive", f"if=sd,format=raw,file={card}",
             "-nographic", "-no-reboot", "-serial", "stdio", "-monitor", "none",
             "-semihosting-config", "enable=on,target=native"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    booted = boot(image)
    assert booted.returncode == elf_samples.EXIT_STATUS, booted.stderr
    assert elf_samples.GREETING in booted.stdout
    # The check above can fail: QEMU refuses a card whose size is not a power of two.
    odd = tmp_path / "odd.img"
    shutil.copyfile(image, odd)
    with open(odd, "r+b") as stream:
        stream.truncate(image.stat().st_size - MiB)
    refused = boot(odd)
    assert refused.returncode != 0 and "power of 2" in refused.stderr
