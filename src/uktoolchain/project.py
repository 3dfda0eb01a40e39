"""A project's pin: ``uktoolchain.toml``, found upward from the working directory (like
rust-toolchain.toml), names the toolchain set and the targets a project builds with::

    ocaml = "5.4"
    targets = ["spt", "aarch64-rpi4"]
    with = ["rust"]          # optional: extras to install with the targets

``install`` without targets installs what it names; ``env``, ``workspace`` and ``check`` follow
its set; an explicit ``--ocaml`` wins.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from uktoolchain.errors import PinFileError

PIN_FILE = "uktoolchain.toml"
_KEYS = ("ocaml", "targets", "with")


class ProjectPin(NamedTuple):
    path: Path
    ocaml: str | None
    targets: tuple[str, ...]
    extras: tuple[str, ...]
    text: str

    def where(self, key: str) -> str:
        """``<file>:<line>`` of a key, for messages."""
        match = re.search(rf"^\s*{re.escape(key)}\s*=", self.text, re.M)
        line = self.text.count("\n", 0, match.start()) + 1 if match else 1
        return f"{self.path}:{line}"

    def check(self, sets: list[str], targets: list[str], extras: list[str]) -> None:
        """Refuse a set, target or extra the catalogue does not have, naming the file and line."""
        if self.ocaml is not None and self.ocaml not in sets:
            raise PinFileError(f"{self.where('ocaml')}: unknown toolchain set '{self.ocaml}' (sets: {', '.join(sets)})",
                               "fix the ocaml = line")
        unknown = [t for t in self.targets if t not in targets]
        if unknown:
            raise PinFileError(f"{self.where('targets')}: unknown target {', '.join(unknown)}",
                               f"valid targets: {', '.join(targets)}")
        unknown = [e for e in self.extras if e not in extras]
        if unknown:
            raise PinFileError(f"{self.where('with')}: unknown extra {', '.join(unknown)}",
                               f"known extras: {', '.join(extras) or 'none'}")


def find(start: Path) -> Path | None:
    """The nearest uktoolchain.toml in ``start`` or a directory above it."""
    for directory in (start, *start.parents):
        candidate = directory / PIN_FILE
        if candidate.is_file():
            return candidate
    return None


def load(path: Path) -> ProjectPin:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise PinFileError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}",
                           "fix its permissions or remove it") from exc
    import tomllib  # only for a project that has a pin: a fast path without one does not pay for it

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_of(str(exc), text)
        raise PinFileError(f"{path}:{line}: not valid TOML ({str(exc).split(' (at ', 1)[0]})",
                           'write e.g. ocaml = "5.4" and targets = ["spt"]') from exc
    pin = ProjectPin(path, None, (), (), text)
    for key in data:
        if key not in _KEYS:
            raise PinFileError(f"{pin.where(key)}: unknown key '{key}'", f"known keys: {', '.join(_KEYS)}")
    ocaml = data.get("ocaml")
    if ocaml is not None and not isinstance(ocaml, str):
        raise PinFileError(f"{pin.where('ocaml')}: ocaml must be a string", 'for example ocaml = "5.4"')
    lists = {}
    for key in ("targets", "with"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise PinFileError(f"{pin.where(key)}: {key} must be a list of strings", f'for example {key} = ["spt"]'
                               if key == "targets" else 'for example with = ["rust"]')
        lists[key] = tuple(value)
    return ProjectPin(path, ocaml, lists["targets"], lists["with"], text)


def _line_of(message: str, text: str) -> int:
    """The line tomllib's message names ("at line 3, column 1", or "at end of document")."""
    match = re.search(r"at line (\d+)", message)
    if match:
        return int(match.group(1))
    return max(1, len(text.rstrip("\n").splitlines())) if "end of document" in message else 1
