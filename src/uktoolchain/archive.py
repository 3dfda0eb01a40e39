"""A reader for ``ar`` archives (static libraries): the members a linker would see, by name.

GNU ar's format (what binutils and ocaml-solo5's ``*-ar`` write): 60-byte member headers, the
symbol table ``/`` (``/SYM64/`` when large), the long-name table ``//`` referenced as ``/<offset>``,
short names ending in ``/``. BSD names (``#1/<length>``, the name stored before the data) are read
too; BSD and GNU symbol tables are skipped. Thin archives, whose members live in other files,
are refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MAGIC = b"!<arch>\n"
THIN_MAGIC = b"!<thin>\n"
HEADER_SIZE = 60
HEADER_END = b"`\n"
# Index members: not objects, the linker's lookup tables.
SYMBOL_TABLES = {"/", "/SYM64/", "__.SYMDEF", "__.SYMDEF SORTED", "__.SYMDEF_64", "__.SYMDEF_64 SORTED"}
LONG_NAMES = "//"


class ArchiveFormatError(ValueError):
    """The file is not an ar archive this reader understands; the message says what it is
    ("a truncated archive (...)"), to follow "<file> is"."""


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes


def is_archive(head: bytes) -> bool:
    return head.startswith((MAGIC, THIN_MAGIC))


def read(path: Path) -> list[Member]:
    """The members of the archive at ``path``, in order (index members left out)."""
    return parse(path.read_bytes())


def parse(data: bytes) -> list[Member]:
    if data.startswith(THIN_MAGIC):
        raise ArchiveFormatError("a thin archive (its members are other files, not stored in it)")
    if not data.startswith(MAGIC):
        raise ArchiveFormatError("not an ar archive")
    members = []
    long_names = b""
    at = len(MAGIC)
    while at < len(data):
        header = data[at:at + HEADER_SIZE]
        if len(header) < HEADER_SIZE or header[58:60] != HEADER_END:
            raise ArchiveFormatError(f"a truncated or corrupt archive (bad member header at offset {at})")
        try:
            size = int(header[48:58].decode("ascii").strip() or "0")
        except (UnicodeDecodeError, ValueError) as exc:
            raise ArchiveFormatError(f"a corrupt archive (bad member size at offset {at})") from exc
        start = at + HEADER_SIZE
        if start + size > len(data):
            raise ArchiveFormatError(f"a truncated archive (the member at offset {at} runs past its end)")
        raw_name = header[:16].decode("utf-8", errors="replace").rstrip(" ")
        body = data[start:start + size]
        at = start + size + (size & 1)  # members start on even offsets
        if raw_name == LONG_NAMES:
            long_names = body
            continue
        if raw_name in SYMBOL_TABLES:
            continue
        name, body = _name(raw_name, body, long_names)
        members.append(Member(name, body))
    return members


def _name(raw: str, body: bytes, long_names: bytes) -> tuple[str, bytes]:
    """A member's real name (and its data, which a BSD long name precedes)."""
    if raw.startswith("#1/") and raw[3:].isdigit():
        length = int(raw[3:])
        return body[:length].rstrip(b"\0").decode("utf-8", errors="replace"), body[length:]
    if raw.startswith("/") and raw[1:].isdigit():
        offset = int(raw[1:])
        if offset >= len(long_names):
            raise ArchiveFormatError(f"a corrupt archive (member name {raw} points outside the long-name table)")
        end = long_names.find(b"/\n", offset)
        return long_names[offset:end if end >= 0 else len(long_names)].decode("utf-8", errors="replace"), body
    return raw[:-1] if raw.endswith("/") else raw, body
