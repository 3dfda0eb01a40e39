"""A small ELF reader: what ``uktoolchain image`` must know about a unikernel before it is put
on an SD card (class, byte order, machine, entry, loadable segments, notes, and the Solo5 ABI1
note that says which binding the image was linked with), and what ``verify-objects`` must know
about a relocatable object (file type, sections, and on request its symbol table).

Only headers, note contents and symbol tables are read; nothing is executed or relocated.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
ET_REL, ET_EXEC, ET_DYN = 1, 2, 3
PT_LOAD, PT_NOTE = 1, 4
SHT_SYMTAB, SHT_NOTE = 2, 7
SHN_UNDEF, SHN_XINDEX = 0, 0xFFFF
STB_LOCAL = 0

MACHINES = {3: "i386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm", 62: "x86_64",
            183: "aarch64", 243: "riscv"}
EM_X86_64, EM_AARCH64 = 62, 183

# Solo5's ABI1 note (Solo5's include/elf_abi.h): section .note.solo5.abi, name "Solo5",
# type "ABI1", desc {abi_target u32, abi_version u32, reserved u32, reserved u32}.
SOLO5_NOTE_NAME = "Solo5"
SOLO5_NOTE_TYPE_ABI1 = 0x31494241
# Solo5's own bindings (enum abi_target), plus ours: rpi4 = the bytes "RPI4" read little-endian.
SOLO5_ABI_TARGETS = {1: "hvt", 2: "spt", 3: "virtio", 4: "muen", 5: "genode", 6: "xen", 0x34495052: "rpi4"}

# Solo5's MFT1 note (Solo5's include/mft_abi.h): section .note.solo5.manifest, name "Solo5", type
# "MFT1". Its descriptor starts with padding up to the 8-byte alignment of struct mft (the header
# is 20 bytes: 4 bytes of it), then {version u32, entries u32, entry[entries]}; an entry (LP64) is
# {name char[68], type u32, properties (16 bytes), backing (8), attached (bool)}, 104 bytes. The
# first entry is reserved (MFT_RESERVED_FIRST, empty name).
SOLO5_NOTE_TYPE_MFT1 = 0x3154464D
MFT_PADDING = 4
MFT_ENTRY_SIZE = 104
MFT_NAME_SIZE = 68
MFT_DEVICE_TYPES = {1: "block", 2: "net"}
MFT_RESERVED_FIRST = 1 << 30


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
class Section:
    name: str
    kind: int
    offset: int
    size: int
    link: int
    entsize: int


@dataclass(frozen=True)
class Symbol:
    name: str
    binding: int  # STB_*
    kind: int  # STT_*
    section: int  # st_shndx: SHN_UNDEF for a reference to another file's symbol

    @property
    def is_global(self) -> bool:
        return self.binding != STB_LOCAL

    @property
    def is_undefined(self) -> bool:
        return self.section == SHN_UNDEF


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
class Device:
    """A device a unikernel's Solo5 manifest declares: the host must attach one of that name."""

    name: str
    kind: str  # "block" | "net" | "type N" (a type this reader does not know)


@dataclass(frozen=True)
class ElfImage:
    bits: int  # 32 or 64
    little_endian: bool
    machine: int
    entry: int
    segments: tuple[Segment, ...]
    notes: tuple[Note, ...]
    file_type: int = ET_EXEC
    sections: tuple[Section, ...] = ()
    symbols: tuple[Symbol, ...] = ()  # the .symtab, when parsed with symbols=True

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

    def solo5_devices(self) -> tuple[Device, ...] | None:
        """The devices of the image's Solo5 manifest (MFT1 note), in order; None: no manifest.
        A manifest this reader cannot make sense of raises ElfFormatError."""
        order = "<" if self.little_endian else ">"
        note = next((n for n in self.notes if n.name == SOLO5_NOTE_NAME and n.kind == SOLO5_NOTE_TYPE_MFT1), None)
        if note is None:
            return None
        desc = note.desc[MFT_PADDING:]
        if len(desc) < 8:
            raise ElfFormatError("a Solo5 manifest note too short to hold a manifest")
        version, entries = struct.unpack_from(order + "II", desc)
        if version != 1 or len(desc) != 8 + entries * MFT_ENTRY_SIZE or entries < 1:
            raise ElfFormatError(f"a Solo5 manifest of version {version} with {entries} entries in "
                                 f"{len(note.desc)} bytes, which this reader does not understand")
        devices = []
        for i in range(1, entries):  # entry 0 is MFT_RESERVED_FIRST
            at = 8 + i * MFT_ENTRY_SIZE
            name = desc[at:at + MFT_NAME_SIZE].split(b"\0", 1)[0].decode("utf-8", errors="replace")
            (kind,) = struct.unpack_from(order + "I", desc, at + MFT_NAME_SIZE)
            devices.append(Device(name, MFT_DEVICE_TYPES.get(kind, f"type {kind}")))
        return tuple(devices)

    def describe(self) -> str:
        """e.g. 'x86_64 ELF, Solo5 spt ABI' or 'aarch64 ELF without a Solo5 ABI note'."""
        abi = self.solo5_abi()
        if abi is None:
            return f"{self.machine_name} ELF without a Solo5 ABI note"
        return f"{self.machine_name} ELF, Solo5 {abi.binding} ABI version {abi.version}"


def read(path: Path, symbols: bool = False) -> ElfImage:
    """Parse ``path``; ElfFormatError for anything that is not a well-formed ELF file."""
    return parse(path.read_bytes(), symbols)


def parse(data: bytes, symbols: bool = False) -> ElfImage:
    """Parse an ELF file held in memory (e.g. an archive member); with ``symbols``, its symbol table too."""
    if data[:4] != ELF_MAGIC:
        raise ElfFormatError("not an ELF file")
    if len(data) < 16 or data[4] not in (ELFCLASS32, ELFCLASS64) or data[5] not in (ELFDATA2LSB, ELFDATA2MSB):
        raise ElfFormatError("an ELF file with an unknown class or byte order")
    bits = 64 if data[4] == ELFCLASS64 else 32
    order = "<" if data[5] == ELFDATA2LSB else ">"
    try:
        return _parse(data, bits, order, symbols)
    except struct.error as exc:
        raise ElfFormatError(f"a truncated or corrupt ELF file ({exc})") from exc


def _parse(data: bytes, bits: int, order: str, with_symbols: bool) -> ElfImage:
    if bits == 64:
        (file_type, machine, _, entry, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, shstrndx) = (
            struct.unpack_from(order + "HHIQQQIHHHHHH", data, 16))
    else:
        (file_type, machine, _, entry, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, shstrndx) = (
            struct.unpack_from(order + "HHIIIIIHHHHHH", data, 16))
    segments = tuple(_segment(data, bits, order, phoff + i * phentsize) for i in range(phnum))
    sections = _sections(data, bits, order, shoff, shentsize, shnum, shstrndx) if shoff else ()
    # Notes from section headers when present (what the linker named .note.*); else from PT_NOTE
    # segments, which stripped images keep.
    regions = [(s.offset, s.size) for s in sections if s.kind == SHT_NOTE]
    if not regions:
        regions = [(s.offset, s.filesz) for s in segments if s.kind == PT_NOTE]
    notes = []
    for offset, size in regions:
        if offset + size > len(data):
            raise ElfFormatError("a note lies outside the file (truncated ELF?)")
        notes += _notes(data[offset:offset + size], order)
    symbols = _symbols(data, bits, order, sections) if with_symbols else ()
    return ElfImage(bits, order == "<", machine, entry, segments, tuple(notes), file_type, sections, symbols)


def _segment(data: bytes, bits: int, order: str, at: int) -> Segment:
    if bits == 64:
        kind, _, offset, vaddr, paddr, filesz, memsz, _ = struct.unpack_from(order + "IIQQQQQQ", data, at)
    else:
        kind, offset, vaddr, paddr, filesz, memsz, _, _ = struct.unpack_from(order + "IIIIIIII", data, at)
    return Segment(kind, offset, vaddr, paddr, filesz, memsz)


def _sections(data: bytes, bits: int, order: str, shoff: int, shentsize: int, shnum: int,
              shstrndx: int) -> tuple[Section, ...]:
    if shentsize < (64 if bits == 64 else 40):
        raise ElfFormatError(f"a corrupt ELF file (section headers of {shentsize} bytes)")
    headers = [_section(data, bits, order, shoff)]
    # More than 0xff00 sections: the real count and string-table index are kept in section 0.
    count = shnum or headers[0][3]
    headers += [_section(data, bits, order, shoff + i * shentsize) for i in range(1, count)]
    if shstrndx == SHN_XINDEX:
        shstrndx = headers[0][4]
    _, _, names_at, names_size, _, _ = headers[shstrndx] if shstrndx < len(headers) else (0, 0, 0, 0, 0, 0)
    return tuple(Section(_string(data, names_at, names_size, name), kind, offset, size, link, entsize)
                 for name, kind, offset, size, link, entsize in headers)


def _section(data: bytes, bits: int, order: str, at: int) -> tuple[int, int, int, int, int, int]:
    """(name offset, type, file offset, size, link, entry size) of one section header."""
    if bits == 64:
        name, kind, _, _, offset, size, link, _, _, entsize = struct.unpack_from(order + "IIQQQQIIQQ", data, at)
    else:
        name, kind, _, _, offset, size, link, _, _, entsize = struct.unpack_from(order + "IIIIIIIIII", data, at)
    return name, kind, offset, size, link, entsize


def _string(data: bytes, table_at: int, table_size: int, at: int) -> str:
    """The NUL-terminated string at offset ``at`` of a string table ("" when outside it)."""
    if at >= table_size:
        return ""
    end = data.find(b"\0", table_at + at, table_at + table_size)
    return data[table_at + at:end if end >= 0 else table_at + table_size].decode("utf-8", errors="replace")


def _symbols(data: bytes, bits: int, order: str, sections: tuple[Section, ...]) -> tuple[Symbol, ...]:
    """The symbols of the .symtab (relocatable objects always have one; a stripped image may not)."""
    table = next((s for s in sections if s.kind == SHT_SYMTAB), None)
    if table is None:
        return ()
    size = 24 if bits == 64 else 16
    step = max(table.entsize, size)
    if table.offset + table.size > len(data) or table.link >= len(sections):
        raise ElfFormatError("a truncated or corrupt ELF file (its symbol table lies outside it)")
    strings = sections[table.link]
    symbols = []
    for at in range(table.offset + step, table.offset + table.size - size + 1, step):  # entry 0 is the null symbol
        if bits == 64:
            name, info, _, shndx = struct.unpack_from(order + "IBBH", data, at)
        else:
            name, _, _, info, _, shndx = struct.unpack_from(order + "IIIBBH", data, at)
        symbols.append(Symbol(_string(data, strings.offset, strings.size, name), info >> 4, info & 0xF, shndx))
    return tuple(symbols)


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
