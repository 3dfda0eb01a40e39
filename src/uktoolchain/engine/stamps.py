"""Whether a new install would change what is installed — answered without Conan.

Each installed target's record (engine/state.py) carries the fingerprint of every input
(uktoolchain version, toolchain set, recipe files, patches, pinned versions, host profile,
local-source signatures). ``install`` is a no-op when the fingerprint matches and the package
folders still exist; this check costs milliseconds, Conan's import alone ~0.4 s.
"""
from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from uktoolchain import __version__
from uktoolchain.engine import state
from uktoolchain.engine.conan_home import GLOBAL_CONF, profile_text
from uktoolchain.home import Home
from uktoolchain.resources import BASE_RECIPE, RecipeIndex
from uktoolchain.sources import override_signature
from uktoolchain.targets import Catalogue, Target, host_arch, host_os

RUST_SYSROOT = "rust-sysroot"  # the component built by the host's Rust toolchain


def fingerprint(index: RecipeIndex, catalogue: Catalogue, target: Target, overrides: dict[str, Path],
                rust_record: Path | None = None) -> str:
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update(("\0".join(str(p) for p in parts) + "\n").encode())

    add("uktoolchain", __version__, state.STATE_FORMAT, catalogue.toolset, target)
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
    """Where install records the Rust toolchain it chose (rust_toolchain.ToolchainRecord); one per
    home, as the host's Rust toolchains are the same for every set."""
    return home.state / "rust-toolchain.json"


def up_to_date(home: Home, index: RecipeIndex, catalogue: Catalogue, target: Target, overrides: dict[str, Path]) -> bool:
    record = state.read_present(home, target.name)
    return record is not None and record.fingerprint == fingerprint(index, catalogue, target, overrides,
                                                                     rust_record_file(home))
