"""``uktoolchain.lock``: the recipe revisions and source checksums a set of targets was built from.

Written by ``uktoolchain lock``, enforced by ``install --locked``. Plain sorted JSON with no
timestamps and no paths, so the same inputs give the same bytes on every machine (and the file
can key a CI cache). The other locks: engine/home_lock.py (one writer per home) and Conan's
lockfiles (the plan-*.lock an install writes).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from uktoolchain.errors import ConfigError, LockMismatchError

LOCK_FORMAT = 1


@dataclass(frozen=True)
class Pins:
    """What the recipes resolve to now: per component its reference and source checksum."""

    base: str  # the shared recipe base (python_requires), name/version#revision
    recipes: dict[str, str]  # component -> name/version#revision
    sources: dict[str, str]  # component -> "sha256 <hex>" / "sha512 <hex>"


@dataclass(frozen=True)
class ToolchainLock:
    targets: dict[str, list[str]]  # target -> its components
    pins: Pins
    path: Path | None = None  # where it was read from, for messages
    # The targets' `uktoolchain cache-key` when written: a CI cache keyed on this file's content
    # (GitLab's cache:key:files) then follows every input, not only the recipes. Not enforced.
    cache_key: str = ""
    toolset: str = ""  # the toolchain set the targets were locked for

    def text(self) -> str:
        data = {
            "format": LOCK_FORMAT,
            "targets": {name: sorted(components) for name, components in sorted(self.targets.items())},
            "base": self.pins.base,
            "cache_key": self.cache_key,
            "toolset": self.toolset,
            "components": {
                c: {"recipe": self.pins.recipes[c], "source": self.pins.sources[c]} for c in sorted(self.pins.recipes)
            },
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: Path) -> "ToolchainLock":
        try:
            data = json.loads(path.read_text())
            if data.get("format") != LOCK_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, this uktoolchain reads {LOCK_FORMAT}")
            components = data["components"]
            pins = Pins(
                base=str(data["base"]),
                recipes={str(c): str(v["recipe"]) for c, v in components.items()},
                sources={str(c): str(v["source"]) for c, v in components.items()},
            )
            targets = {str(t): [str(c) for c in cs] for t, cs in data["targets"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"cannot read the lock file {path}: {exc}",
                              "write it with `uktoolchain lock TARGET... -o FILE`") from exc
        return cls(targets, pins, path, str(data.get("cache_key", "")), str(data.get("toolset", "")))

    def check(self, targets: list[str], now: Pins, toolset: str = "") -> None:
        """Refuse unless the lock is of this toolchain set, every target is in it and every pin is
        what the recipes give now."""
        path = self.path or "the lock"
        if self.toolset and toolset and self.toolset != toolset:
            raise LockMismatchError(f"{path} locks OCaml set {self.toolset}, not {toolset}",
                                    f"install with --ocaml {self.toolset}, or write a new lock with --ocaml {toolset}")
        absent = [t for t in targets if t not in self.targets]
        if absent:
            raise LockMismatchError(
                f"{path} does not lock {', '.join(absent)} (it locks {', '.join(sorted(self.targets)) or 'nothing'})",
                f"add them: `uktoolchain lock {' '.join(sorted(set(self.targets) | set(absent)))} -o {path}`",
            )
        differences = []
        if now.base != self.pins.base:
            differences.append(f"recipe base is {now.base}, locked {self.pins.base}")
        for component in sorted(now.recipes):
            if component not in self.pins.recipes:
                differences.append(f"{component} is not in the lock")
                continue
            if now.recipes[component] != self.pins.recipes[component]:
                differences.append(f"{component} recipe is {now.recipes[component]}, locked {self.pins.recipes[component]}")
            if now.sources[component] != self.pins.sources[component]:
                differences.append(f"{component} source is {now.sources[component]}, locked {self.pins.sources[component]}")
        if differences:
            raise LockMismatchError(
                f"the recipes do not match {path}: " + "; ".join(differences),
                "install the recipes the lock was written from (same uktoolchain and --source files), "
                f"or write a new lock with `uktoolchain lock {' '.join(targets)} -o {path}`",
            )

    def covers(self, home, target: str) -> bool:
        """Whether an installed target's packages are exactly the locked recipe revisions (the
        no-op path of ``install --locked``)."""
        from uktoolchain.engine import state

        record = state.read(home, target)
        locked = set(self.pins.recipes.values())
        return target in self.targets and record is not None and all(p.ref in locked for p in record.packages)
