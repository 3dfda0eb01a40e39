"""SD card images: an MBR partition table and one FAT32 partition holding given files.

Made without root: ``mkfs.vfat -C`` builds the filesystem in a file of its own, mtools' ``mcopy``
fills it, and the 512-byte MBR is written here. The whole image has a power-of-two size because
QEMU's ``-drive if=sd`` refuses any other. The image appears at its path only once complete.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from uktoolchain.doctor import SBIN_DIRS, find_program
from uktoolchain.errors import EnvironmentProblem

SECTOR = 512
PARTITION_START = 1 << 20  # 1 MiB: the alignment SD cards and every partitioning tool use
MIN_IMAGE_SIZE = 64 << 20  # leaves a 63 MiB partition: comfortably above FAT32's 65525 clusters
FAT32_LBA = 0x0C  # partition type "W95 FAT32 (LBA)", what the Raspberry Pi boot ROM expects

# tool -> (Debian/Ubuntu package, what it is used for)
TOOLS = {"mkfs.vfat": ("dosfstools", "makes the FAT32 filesystem"), "mcopy": ("mtools", "copies files into it")}


@dataclass(frozen=True)
class Layout:
    image_size: int
    partition_start: int
    partition_size: int
    partition_type: int = FAT32_LBA


def power_of_two_at_least(n: int) -> int:
    size = 1
    while size < n:
        size <<= 1
    return size


def layout_for(payload: int) -> Layout:
    """A layout whose FAT32 partition holds ``payload`` bytes of files with room to spare
    (allocation tables, directory entries, the last cluster of each file)."""
    needed = PARTITION_START + payload + payload // 8 + (4 << 20)
    size = max(MIN_IMAGE_SIZE, power_of_two_at_least(needed))
    return Layout(size, PARTITION_START, size - PARTITION_START)


def chs(lba: int) -> bytes:
    """The legacy cylinder/head/sector form of an LBA (255 heads, 63 sectors per track), as
    partitioning tools write it; addresses beyond its reach are written as the maximum."""
    cylinder, rest = divmod(lba, 255 * 63)
    head, sector = divmod(rest, 63)
    if cylinder > 1023:
        cylinder, head, sector = 1023, 254, 62
    return bytes([head, ((sector + 1) & 0x3F) | ((cylinder >> 2) & 0xC0), cylinder & 0xFF])


def mbr(layout: Layout, disk_signature: int) -> bytes:
    """The 512-byte master boot record: no boot code (the Pi's boot ROM runs none), the disk
    signature Linux shows as PARTUUID, one partition entry, the 0x55AA marker."""
    first = layout.partition_start // SECTOR
    count = layout.partition_size // SECTOR
    last = first + count - 1
    entry = bytes([0x00]) + chs(first) + bytes([layout.partition_type]) + chs(last) + struct.pack("<II", first, count)
    record = bytearray(SECTOR)
    struct.pack_into("<I", record, 440, disk_signature & 0xFFFFFFFF)
    record[446:462] = entry
    record[510:512] = b"\x55\xaa"
    return bytes(record)


def find_tools() -> dict[str, str]:
    """Paths of mkfs.vfat and mcopy; EnvironmentProblem naming the packages of missing ones."""
    found, missing = {}, []
    for tool, (package, purpose) in TOOLS.items():
        path = find_program(tool, SBIN_DIRS)  # mkfs.vfat is in /usr/sbin, often not on PATH
        if path is None:
            missing.append((tool, package, purpose))
        else:
            found[tool] = path
    if missing:
        what = ", ".join(f"{tool} ({purpose}; package {package})" for tool, package, purpose in missing)
        packages = " ".join(package for _, package, _ in missing)
        raise EnvironmentProblem(f"SD card images need {what}, not found on PATH",
                                 f"Debian/Ubuntu: sudo apt-get install {packages}; see uktoolchain doctor")
    return found


def write_image(output: Path, files: dict[str, Path], label: str, disk_signature: int) -> Layout:
    """Write the SD card image ``output`` holding ``files`` (name on the card -> local file).

    Built in a temporary directory beside ``output`` and renamed over it: an interrupted or
    failed run leaves the previous file (or nothing) at ``output``, never a partial image.
    """
    tools = find_tools()
    layout = layout_for(sum(path.stat().st_size for path in files.values()))
    work = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp"))
    try:
        fat = work / "boot.fat"
        _run([tools["mkfs.vfat"], "-C", "-F", "32", "-n", label, "-i", f"{disk_signature & 0xFFFFFFFF:08x}",
              "-h", str(layout.partition_start // SECTOR), str(fat), str(layout.partition_size // 1024)])
        # One mcopy per file: the name on the card is chosen here, not taken from the local file.
        for name, path in files.items():
            _run([tools["mcopy"], "-i", str(fat), str(path), f"::/{name}"])
        disk = work / "disk.img"
        with open(disk, "wb") as out, open(fat, "rb") as source:
            out.write(mbr(layout, disk_signature))
            out.seek(layout.partition_start)
            shutil.copyfileobj(source, out, 1 << 20)
            out.truncate(layout.image_size)
        os.replace(disk, output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return layout


def _run(argv: list[str]) -> None:
    # MTOOLS_SKIP_CHECK: mtools would otherwise question the geometry of an image file.
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "LC_ALL": "C"}
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        why = (result.stderr.strip() or result.stdout.strip() or f"exit status {result.returncode}").splitlines()[-1]
        raise EnvironmentProblem(f"{os.path.basename(argv[0])} failed while making the SD card image: {why}",
                                 "check the free space in the output directory; run uktoolchain doctor")
