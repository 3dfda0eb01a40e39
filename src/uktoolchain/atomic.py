"""Writes that are all or nothing: an interrupted uktoolchain never leaves a half-written file."""
from __future__ import annotations

import os
from pathlib import Path


def write_text(path: Path, content: str) -> None:
    """Write through a per-process temporary in the same directory, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(content)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_if_changed(path: Path, content: str) -> None:
    """Leave an identical file untouched (its mtime stays, so nothing downstream sees a change)."""
    if path.is_file() and path.read_text() == content:
        return
    write_text(path, content)
