"""Writes that are all or nothing: an interrupted uktoolchain never leaves a half-written file.

The temporary files these writes rename into place are made private (0600) by mkstemp; the file
that results gets the mode a plain ``open(path, "w")`` would have given it (0666 less the umask),
or the one asked for.
"""
from __future__ import annotations

import os
from pathlib import Path


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once, at import (before any thread starts: os.umask is process-wide).
_UMASK = _read_umask()


def default_mode() -> int:
    return 0o666 & ~_UMASK


def write_text(path: Path, content: str, mode: int | None = None) -> None:
    """Write a unique temporary in the same directory (threads and processes may race), rename it."""
    import tempfile  # only when writing: the no-op paths import this module

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, default_mode() if mode is None else mode)
        with os.fdopen(fd, "w") as stream:
            stream.write(content)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_text_if_changed(path: Path, content: str) -> None:
    """Leave an identical file untouched (its mtime stays, so nothing downstream sees a change)."""
    if path.is_file() and path.read_text() == content:
        return
    write_text(path, content)


def copy_file(source: Path, target: Path, mode: int | None = None) -> None:
    """Copy to a unique temporary beside ``target``, then rename: ``target`` is old or complete."""
    import shutil
    import tempfile

    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, default_mode() if mode is None else mode)
        with os.fdopen(fd, "wb") as out, open(source, "rb") as stream:
            shutil.copyfileobj(stream, out, 1 << 20)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
