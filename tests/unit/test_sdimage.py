"""MBR and layout arithmetic of uktoolchain.sdimage (the image itself: tests/integration/test_image.py)."""
from __future__ import annotations

import struct

import pytest

from uktoolchain import sdimage
from uktoolchain.errors import EnvironmentProblem

MiB = 1 << 20


@pytest.mark.parametrize("payload, size", [(0, 64 * MiB), (3 * MiB, 64 * MiB), (55 * MiB, 128 * MiB),
                                           (200 * MiB, 256 * MiB), (300 * MiB, 512 * MiB)])
def test_layout_is_a_power_of_two_with_room_for_the_files(payload, size):
    layout = sdimage.layout_for(payload)
    assert layout.image_size == size
    assert layout.image_size & (layout.image_size - 1) == 0
    assert layout.partition_start == MiB
    assert layout.partition_size == size - MiB > payload


def test_mbr_fields():
    layout = sdimage.layout_for(0)
    record = sdimage.mbr(layout, 0x12345678)
    assert len(record) == 512 and record[:440] == bytes(440) and record[510:] == b"\x55\xaa"
    assert struct.unpack_from("<I", record, 440)[0] == 0x12345678
    status, ptype, first, count = record[446], record[450], *struct.unpack_from("<II", record, 454)
    assert (status, ptype, first, count) == (0, 0x0C, 2048, (64 * MiB - MiB) // 512)
    assert record[462:510] == bytes(48)  # the three other entries are empty


@pytest.mark.parametrize("lba, expected", [
    (0, (0, 1, 0)),            # head 0, sector 1, cylinder 0
    (2048, (32, 33, 0)),       # what fdisk writes for a partition at 1 MiB
    (131071, (40, 32, 8)),
    (10**9, (254, 63 | 0xC0, 0xFF)),  # beyond CHS: the maximum, cylinder 1023
])
def test_chs(lba, expected):
    assert tuple(sdimage.chs(lba)) == expected


def test_missing_tools_name_their_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sdimage, "SBIN_DIRS", ())
    with pytest.raises(EnvironmentProblem) as caught:
        sdimage.find_tools()
    assert "mkfs.vfat" in caught.value.message and "mcopy" in caught.value.message
    assert "apt-get install dosfstools mtools" in caught.value.hint
