"""What is installed: one typed record per (toolchain set, target), read and written only here.

A record lists the target's packages (folders relative to the Conan home, so a copied or moved
home still resolves), the fingerprint of every input it was built from (see stamps.fingerprint),
its extras and the local sources it was built from. Records are JSON files under
``state/installed/<set>/<target>.json``, written atomically after everything else succeeded.
Reading them needs neither Conan nor YAML: ``install``'s no-op answer and ``env`` depend on it.
"""
from __future__ import annotations

import json
from typing import NamedTuple

from uktoolchain import atomic
from uktoolchain.engine.model import InstalledPackage
from uktoolchain.home import Home

# 4: per toolchain set, local sources recorded. Records of another format are not read: the
# target shows as not installed and the next install writes a current record.
STATE_FORMAT = 4


class LocalSource(NamedTuple):
    """A ``--source`` a target was built from: where it was, what it hashed to then, and a cheap
    signature (sizes, mtimes) to tell without hashing whether it may have changed since."""

    component: str
    path: str
    sha256: str
    signature: str


class InstalledTarget(NamedTuple):
    toolset: str
    target: str
    fingerprint: str
    packages: tuple[InstalledPackage, ...]
    extras: tuple[str, ...] = ()
    local_sources: tuple[LocalSource, ...] = ()

    def folders_present(self, home: Home) -> bool:
        return all((home.conan / p.folder).is_dir() for p in self.packages)

    def package_keys(self) -> set[str]:
        """``ref:package_id`` of every package, as Conan lists them."""
        return {f"{p.ref}:{p.package_id}" for p in self.packages}

    def to_dict(self) -> dict:
        return {
            "format": STATE_FORMAT,
            "toolset": self.toolset,
            "target": self.target,
            "fingerprint": self.fingerprint,
            "extras": list(self.extras),
            "local_sources": [s._asdict() for s in self.local_sources],
            "packages": [p._asdict() for p in self.packages],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "InstalledTarget":
        packages = tuple(
            InstalledPackage(
                label=p["label"], name=p["name"], ref=p["ref"], package_id=p["package_id"], folder=p["folder"],
                env=tuple(tuple(pair) for pair in p["env"]), facts=tuple(tuple(pair) for pair in p.get("facts", ())),
            )
            for p in data["packages"]
        )
        return cls(
            toolset=str(data["toolset"]),
            target=str(data["target"]),
            fingerprint=str(data["fingerprint"]),
            packages=packages,
            extras=tuple(data.get("extras", ())),
            local_sources=tuple(LocalSource(**s) for s in data.get("local_sources", ())),
        )


def read(home: Home, target: str) -> InstalledTarget | None:
    """The record of ``target`` in the home's set, or None (absent, unreadable, older format)."""
    try:
        data = json.loads(home.stamp(target).read_text())
        if data.get("format") != STATE_FORMAT:
            return None
        return InstalledTarget.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_present(home: Home, target: str) -> InstalledTarget | None:
    """The record, only if every package folder it names is still there."""
    record = read(home, target)
    return record if record is not None and record.folders_present(home) else None


def write(home: Home, record: InstalledTarget) -> None:
    atomic.write_text(home.for_set(record.toolset).stamp(record.target), json.dumps(record.to_dict(), indent=1))


def forget(home: Home, target: str) -> bool:
    """Drop a target's record (its packages stay until gc); True if there was one."""
    path = home.stamp(target)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def toolsets_with(home: Home, target: str) -> list[str]:
    """The sets ``target`` has a present record in."""
    if not home.installed.is_dir():
        return []
    return sorted(s.name for s in home.installed.iterdir()
                  if s.is_dir() and read_present(home.for_set(s.name), target) is not None)


def local_sources_of_set(home: Home) -> dict[str, LocalSource]:
    """The local sources the home's set's installed targets were built from, by component (the
    most recently installed target's, if they differ)."""
    found: dict[str, tuple[float, LocalSource]] = {}
    directory = home.stamp("x").parent
    if not directory.is_dir():
        return {}
    for path in directory.glob("*.json"):
        record = read(home, path.stem)
        if record is None:
            continue
        when = path.stat().st_mtime
        for source in record.local_sources:
            if source.component not in found or found[source.component][0] < when:
                found[source.component] = (when, source)
    return {component: source for component, (_, source) in found.items()}


def all_records(home: Home) -> list[InstalledTarget]:
    """Every readable record of every set in the home."""
    records = []
    if home.installed.is_dir():
        for path in sorted(home.installed.glob("*/*.json")):
            record = read(home.for_set(path.parent.name), path.stem)
            if record is not None:
                records.append(record)
    return records
