"""What is installed, and whether a new install would change it — answered without Conan.

A stamp per target records the fingerprint of every input (uktoolchain version, recipe files,
patches, pinned versions, host profile, local-source signatures) and the installed packages with
their folders relative to the Conan home. ``install`` is a no-op when the fingerprint matches and
the folders still exist; this check costs milliseconds, Conan's import alone ~0.4 s.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from uktoolchain import __version__, atomic
from uktoolchain.engine.conan_home import GLOBAL_CONF, profile_text
from uktoolchain.engine.model import InstalledPackage
from uktoolchain.home import Home
from uktoolchain.resources import BASE_RECIPE, RecipeIndex
from uktoolchain.sources import override_signature
from uktoolchain.targets import Catalogue, Target, host_arch, host_os

STAMP_FORMAT = 3
RUST_SYSROOT = "rust-sysroot"  # the component built by the host's Rust toolchain


def fingerprint(index: RecipeIndex, catalogue: Catalogue, target: Target, overrides: dict[str, Path],
                rust_record: Path | None = None) -> str:
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update(("\0".join(str(p) for p in parts) + "\n").encode())

    add("uktoolchain", __version__, STAMP_FORMAT, target)
    add("profile", profile_text(host_os(), host_arch()), GLOBAL_CONF.format(jobs=os.cpu_count() or 1))
    for component in (BASE_RECIPE, *target.components, *target.host_components):
        add("component", component, catalogue.versions.get(component, ""))
        for path in index.inputs_of(component):
            add(path.relative_to(index.root), hashlib.sha256(path.read_bytes()).hexdigest())
        if component in overrides:
            add("override", component, overrides[component], override_signature(overrides[component]))
    if RUST_SYSROOT in target.components:
        add("rust", rust_fingerprint(rust_record))
    return digest.hexdigest()


@functools.cache  # one answer per process (several targets, stamp writing)
def rust_fingerprint(record: Path | None = None) -> str:
    """The Rust toolchain a sysroot would be built with now: another rustc means a rebuild. With
    ``record`` (see rust_record_file), answered by stat while the choice recorded there holds."""
    from uktoolchain.errors import UkError
    from uktoolchain.rust_toolchain import select, select_recorded

    try:
        return (select() if record is None else select_recorded(record)).fingerprint()
    except UkError as exc:  # install itself reports it; here it only means "not up to date"
        return f"unusable: {exc}"


def rust_record_file(home: Home) -> Path:
    """Where install records the Rust toolchain it chose (rust_toolchain.ToolchainRecord)."""
    return home.state / "rust-toolchain.json"


def write_stamp(home: Home, target: Target, fingerprint_value: str, packages: list[InstalledPackage]) -> None:
    data = {
        "format": STAMP_FORMAT,
        "target": target.name,
        "fingerprint": fingerprint_value,
        "extras": list(target.extras),
        "packages": [asdict(p) for p in packages],
    }
    atomic.write_text(home.stamp(target.name), json.dumps(data, indent=1))


def read_stamp(home: Home, target_name: str) -> dict | None:
    try:
        data = json.loads(home.stamp(target_name).read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("format") == STAMP_FORMAT else None


def installed_extras(home: Home, target_name: str) -> tuple[str, ...]:
    """The optional parts (e.g. rust) the target was installed with."""
    stamp = read_stamp(home, target_name)
    return tuple(stamp.get("extras", ())) if stamp else ()


def installed_packages(stamp: dict) -> list[InstalledPackage]:
    return [
        InstalledPackage(
            label=p["label"], name=p["name"], ref=p["ref"], package_id=p["package_id"], folder=p["folder"],
            env=tuple(tuple(pair) for pair in p["env"]), facts=tuple(tuple(pair) for pair in p.get("facts", ())),
        )
        for p in stamp["packages"]
    ]


def folders_present(home: Home, stamp: dict) -> bool:
    return all((home.conan / p["folder"]).is_dir() for p in stamp["packages"])


def up_to_date(home: Home, index: RecipeIndex, catalogue: Catalogue, target: Target, overrides: dict[str, Path]) -> bool:
    stamp = read_stamp(home, target.name)
    return (
        stamp is not None
        and stamp["fingerprint"] == fingerprint(index, catalogue, target, overrides, rust_record_file(home))
        and folders_present(home, stamp)
    )
