"""The ar reader against archives written by binutils' ar (and one BSD-named archive by hand)."""
from __future__ import annotations

import subprocess

import object_samples
import pytest

from uktoolchain import archive

LONG_NAME = "a_member_name_longer_than_sixteen_chars.o"


def test_gnu_archive_members_match_binutils(tmp_path):
    short = object_samples.compile_c(tmp_path, "sum", object_samples.FREESTANDING)
    long = tmp_path / LONG_NAME
    long.write_bytes(object_samples.compile_c(tmp_path, "user", object_samples.LIBC_USER).read_bytes())
    odd = tmp_path / "odd.txt"
    odd.write_bytes(b"odd")  # an odd size: the next member starts after a padding byte
    library = object_samples.archive(tmp_path / "libmixed.a", [short, odd, long])
    data = library.read_bytes()
    assert data[8:24] == b"/".ljust(16) and b"//".ljust(16) in data  # ar wrote a symbol table, a long-name table

    members = archive.read(library)
    assert [m.name for m in members] == object_samples.member_names(library) == ["sum.o", "odd.txt", LONG_NAME]
    assert [m.data for m in members] == [short.read_bytes(), b"odd", long.read_bytes()]


def test_empty_archive_has_no_members(tmp_path):
    library = object_samples.archive(tmp_path / "libempty.a", [])
    assert library.read_bytes() == archive.MAGIC
    assert archive.read(library) == []


def test_bsd_long_names_are_read(tmp_path):
    # BSD ar (macOS) stores a long name before the data and counts it in the member size.
    name, data = b"bsd_member_with_a_long_name.o", b"payload!"
    header = f"#1/{len(name)}".ljust(16) + "0".ljust(12) + "0".ljust(6) + "0".ljust(6) + "644".ljust(8)
    header += str(len(name) + len(data)).ljust(10) + "`\n"
    (member,) = archive.parse(archive.MAGIC + header.encode() + name + data)
    assert (member.name, member.data) == (name.decode(), data)


def test_thin_archive_is_refused(tmp_path):
    obj = object_samples.compile_c(tmp_path, "sum", object_samples.FREESTANDING)
    thin = tmp_path / "libthin.a"
    subprocess.run(["ar", "rcT", str(thin), str(obj)], check=True)
    with pytest.raises(archive.ArchiveFormatError, match="thin archive"):
        archive.read(thin)


def test_truncated_and_foreign_files_say_why(tmp_path):
    obj = object_samples.compile_c(tmp_path, "sum", object_samples.FREESTANDING)
    library = object_samples.archive(tmp_path / "libsum.a", [obj])
    with pytest.raises(archive.ArchiveFormatError, match="truncated archive"):
        archive.parse(library.read_bytes()[:-10])
    with pytest.raises(archive.ArchiveFormatError, match="corrupt archive"):
        archive.parse(archive.MAGIC + b"garbage that is no member header\n")
    with pytest.raises(archive.ArchiveFormatError, match="not an ar archive"):
        archive.parse(obj.read_bytes())
