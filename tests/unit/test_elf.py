"""The ELF reader against real ELF files made by the cross and host compilers."""
from __future__ import annotations

import subprocess

import elf_samples
import object_samples
import pytest

from uktoolchain import elf


def readelf_entry(path) -> int:
    """binutils' opinion, to compare ours with."""
    out = subprocess.run(["readelf", "-h", str(path)], capture_output=True, text=True, check=True).stdout
    (line,) = [l for l in out.splitlines() if "Entry point address" in l]
    return int(line.split(":")[1], 16)


def test_rpi4_sample_is_aarch64_with_the_rpi4_note(tmp_path):
    path = elf_samples.build(tmp_path, "rpi4")
    image = elf.read(path)
    assert (image.bits, image.little_endian, image.machine_name) == (64, True, "aarch64")
    assert image.entry == readelf_entry(path) == 0x80000
    assert min(s.paddr for s in image.load_segments) == 0x80000
    abi = image.solo5_abi()
    assert (abi.target, abi.version, abi.binding) == (elf_samples.RPI4, 1, "rpi4")
    assert image.describe() == "aarch64 ELF, Solo5 rpi4 ABI version 1"


def test_other_bindings_and_machines_are_named(tmp_path):
    spt = elf.read(elf_samples.build(tmp_path, "spt", arch="x86_64", abi=(elf_samples.SPT, 1)))
    assert spt.describe() == "x86_64 ELF, Solo5 spt ABI version 1"
    hvt = elf.read(elf_samples.build(tmp_path, "hvt", abi=(elf_samples.HVT, 2)))
    assert hvt.describe() == "aarch64 ELF, Solo5 hvt ABI version 2"
    bare = elf.read(elf_samples.build(tmp_path, "bare", abi=None))
    assert bare.solo5_abi() is None
    assert bare.describe() == "aarch64 ELF without a Solo5 ABI note"


def test_note_found_from_program_headers_without_section_headers(tmp_path):
    path = elf_samples.build(tmp_path, "rpi4")
    data = bytearray(path.read_bytes())
    data[0x28:0x30] = bytes(8)  # e_shoff = 0: as if the section headers were stripped
    data[0x3C:0x3E] = bytes(2)  # e_shnum = 0
    path.write_bytes(bytes(data))
    assert elf.read(path).solo5_abi().binding == "rpi4"


@pytest.mark.parametrize("content, reason", [
    (b"#!/bin/sh\necho not an ELF\n", "not an ELF file"),
    (b"\x7fELF\x09\x01", "unknown class or byte order"),
    (b"\x7fELF\x02\x01\x01" + bytes(20), "truncated or corrupt"),
])
def test_bad_files_say_why(tmp_path, content, reason):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(elf.ElfFormatError, match=reason):
        elf.read(path)


def nm_globals(path, nm="nm") -> tuple[set[str], set[str]]:
    """binutils' (defined, undefined) global symbols of an object."""
    out = subprocess.run([nm, "-g", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines() if line.strip()]
    return {r[-1] for r in rows if r[-2] != "U"}, {r[-1] for r in rows if r[-2] == "U"}


def our_globals(image) -> tuple[set[str], set[str]]:
    globals_ = [s for s in image.symbols if s.is_global]
    return {s.name for s in globals_ if not s.is_undefined}, {s.name for s in globals_ if s.is_undefined}


@pytest.mark.parametrize("compiler, flags, nm, machine, bits", [
    ("gcc", (), "nm", "x86_64", 64),
    ("gcc", ("-m32", *object_samples.FREESTANDING_FLAGS), "nm", "i386", 32),
    ("aarch64-linux-gnu-gcc", (), "aarch64-linux-gnu-nm", "aarch64", 64),
])
def test_relocatable_object_symbols_match_nm(tmp_path, compiler, flags, nm, machine, bits):
    source = object_samples.LIBC_USER if not flags else object_samples.LIBC_USER_PLAIN
    path = object_samples.compile_c(tmp_path, "user", source + object_samples.FREESTANDING, compiler, flags)
    image = elf.read(path, symbols=True)
    assert (image.file_type, image.machine_name, image.bits) == (elf.ET_REL, machine, bits)
    assert {".text", ".symtab", ".strtab", ".comment"} <= {s.name for s in image.sections}
    defined, undefined = our_globals(image)
    assert (defined, undefined) == nm_globals(path, nm)
    assert {"parse_int", "checksum"} <= defined and "sscanf" in " ".join(undefined)


def test_symbols_are_read_only_on_request(tmp_path):
    path = object_samples.compile_c(tmp_path, "sum", object_samples.FREESTANDING)
    assert elf.read(path).symbols == ()
    assert elf.parse(path.read_bytes(), symbols=True).symbols
