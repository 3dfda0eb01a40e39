"""Files that commands write where the user says (-o)."""
from __future__ import annotations

from pathlib import Path

from uktoolchain.errors import ConfigError


def require_existing_directory(path: Path, option: str = "-o") -> None:
    """Refuse an output file whose directory does not exist: such a path is nearly always a typo
    (a dune-workspace or lock file belongs in a project that is already there), and creating
    directories the user did not ask for would hide it."""
    parent = path.absolute().parent
    if not parent.exists():  # (one that is not a directory fails the write: exit 6, unwritable)
        raise ConfigError(f"cannot write {path}: the directory {parent} does not exist",
                          f"create it first, or give {option} a path in an existing directory")
