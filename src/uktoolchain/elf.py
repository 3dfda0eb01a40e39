"""A small ELF reader: what ``uktoolchain image`` must know about a unikernel before it is put
on an SD card (class, byte order, machine, entry, loadable segments, notes, and the Solo5 ABI1
note that says which binding the image was linked with).

Only headers and note contents are read; nothing is executed or relocated.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
PT_LOAD, PT_NOTE = 1, 4
SHT_NOTE = 7

MACHINES = {3: "i386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm", 62: "x86_64",
            183: "aarch64", 243: "riscv"}
EM_AARCH64 = 183

# Solo5's ABI1 note (Solo5's include/elf_abi.h): section .note.solo5.abi, name "Solo5",
# type "ABI1", desc {abi_target u32, abi_version u32, reserved u32, reserved u32}.
SOLO5_NOTE_NAME = "Solo5"
SOLO5_NOTE_TYPE_ABI1 = 0x31494241
# Solo5's own bindings (enum abi_target), plus ours: rpi4 = the bytes "RPI4" read little-endian.
SOLO5_ABI_TARGETS = {1: "hvt", 2: "spt", 3: "virtio", 4: "muen", 5: "genode", 6: "xen", 0x34495052: "rpi4"}


class ElfFormatError(ValueError):
    """The file is not an ELF image this reader understands; the message says why."""


@dataclass(frozen=True)
class Segment:
    kind: int
    offset: int
    vaddr: int
    paddr: int
    filesz: int
    memsz: int


@dataclass(frozen=True)
class Note:
    name: str
    kind: int
    desc: bytes


@dataclass(frozen=True)
class Solo5Abi:
    target: int
    version: int

    @property
    def binding(self) -> str:
        return SOLO5_ABI_TARGETS.get(self.target, f"unknown (abi_target 0x{self.target:x})")


@dataclass(frozen=True)
class ElfImage:
    bits: int  # 32 or 64
    little_endian: bool
    machine: int
    entry: int
    segments: tuple[Segment, ...]
    notes: tuple[Note, ...]

    @property
    def machine_name(self) -> str:
        name = MACHINES.get(self.machine, f"machine {self.machine}")
        return name if self.little_endian else f"big-endian {name}"

    @property
    def load_segments(self) -> list[Segment]:
        return [s for s in self.segments if s.kind == PT_LOAD and s.memsz]

    def solo5_abi(self) -> Solo5Abi | None:
        """The binding the image was linked with, from its Solo5 ABI1 note (None: no such note)."""
        order = "<" if self.little_endian else ">"
        for note in self.notes:
            if note.name == SOLO5_NOTE_NAME and note.kind == SOLO5_NOTE_TYPE_ABI1 and len(note.desc) >= 8:
                target, version = struct.unpack_from(order + "II", note.desc)
                return Solo5Abi(target, version)
        return None

    def describe(self) -> str:
        """e.g. 'x86_64 ELF, Solo5 spt ABI' or 'aarch64 ELF without a Solo5 ABI note'."""
        abi = self.solo5_abi()
        if abi is None:
            return f"{self.machine_name} ELF without a Solo5 ABI note"
        return f"{self.machine_name} ELF, Solo5 {abi.binding} ABI version {abi.version}"


def read(path: Path) -> ElfImage:
    """Parse ``path``; ElfFormatError for anything that is not a well-formed ELF file."""
    data = path.read_bytes()
    if data[:4] != ELF_MAGIC:
        raise ElfFormatError("not an ELF file")
    if len(data) < 16 or data[4] not in (ELFCLASS32, ELFCLASS64) or data[5] not in (ELFDATA2LSB, ELFDATA2MSB):
        raise ElfFormatError("an ELF file with an unknown class or byte order")
    bits = 64 if data[4] == ELFCLASS64 else 32
    order = "<" if data[5] == ELFDATA2LSB else ">"
    try:
        return _parse(data, bits, order)
    except struct.error as exc:
        raise ElfFormatError(f"a truncated or corrupt ELF file ({exc})") from exc


def _parse(data: bytes, bits: int, order: str) -> ElfImage:
    if bits == 64:
        (_, machine, _, entry, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, _) = struct.unpack_from(
            order + "HHIQQQIHHHHHH", data, 16)
    else:
        (_, machine, _, entry, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, _) = struct.unpack_from(
            order + "HHIIIIIHHHHHH", data, 16)
    segments = tuple(_segment(data, bits, order, phoff + i * phentsize) for i in range(phnum))
    # Notes from section headers when present (what the linker named .note.*); else from PT_NOTE
    # segments, which stripped images keep.
    regions = []
    for i in range(shnum if shoff else 0):
        kind, offset, size = _section(data, bits, order, shoff + i * shentsize)
        if kind == SHT_NOTE:
            regions.append((offset, size))
    if not regions:
        regions = [(s.offset, s.filesz) for s in segments if s.kind == PT_NOTE]
    notes = []
    for offset, size in regions:
        if offset + size > len(data):
            raise ElfFormatError("a note lies outside the file (truncated ELF?)")
        notes += _notes(data[offset:offset + size], order)
    return ElfImage(bits, order == "<", machine, entry, segments, tuple(notes))


def _segment(data: bytes, bits: int, order: str, at: int) -> Segment:
    if bits == 64:
        kind, _, offset, vaddr, paddr, filesz, memsz, _ = struct.unpack_from(order + "IIQQQQQQ", data, at)
    else:
        kind, offset, vaddr, paddr, filesz, memsz, _, _ = struct.unpack_from(order + "IIIIIIII", data, at)
    return Segment(kind, offset, vaddr, paddr, filesz, memsz)


def _section(data: bytes, bits: int, order: str, at: int) -> tuple[int, int, int]:
    if bits == 64:
        _, kind, _, _, offset, size = struct.unpack_from(order + "IIQQQQ", data, at)
    else:
        _, kind, _, _, offset, size = struct.unpack_from(order + "IIIIII", data, at)
    return kind, offset, size


def _notes(blob: bytes, order: str) -> list[Note]:
    """Notes of one note section: 4-byte aligned name and descriptor after each header (Solo5's
    layout; notes aligned otherwise are read as far as they parse)."""
    notes = []
    at = 0
    while at + 12 <= len(blob):
        namesz, descsz, kind = struct.unpack_from(order + "III", blob, at)
        name_at = at + 12
        desc_at = name_at + _align4(namesz)
        end = desc_at + _align4(descsz)
        if desc_at + descsz > len(blob):
            break  # not a 4-byte aligned note list (or damaged): nothing we need is in it
        name = blob[name_at:name_at + namesz].rstrip(b"\0").decode("ascii", errors="replace")
        notes.append(Note(name, kind, blob[desc_at:desc_at + descsz]))
        at = end
    return notes


def _align4(n: int) -> int:
    return (n + 3) & ~3
