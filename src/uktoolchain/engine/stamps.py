"""Whether a new install would change what is installed — answered without Conan.

Each installed target's record (engine/state.py) carries the fingerprint of every input
(uktoolchain version, toolchain set, recipe files, patches, pinned versions, host profile,
local-source signatures). ``install`` is a no-op when the fingerprint matches and the package
folders still exist; this check costs milliseconds, Conan's import alone ~0.4 s.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from uktoolchain.engine import state
from uktoolchain.engine.inputs import build_inputs, digest_of
from uktoolchain.home import Home
from uktoolchain.resources import RecipeIndex
from uktoolchain.sources import override_signature
from uktoolchain.targets import Catalogue, Target

if TYPE_CHECKING:  # the lock file's module is loaded only by install --locked
    from uktoolchain.engine.pins import ToolchainLock

RUST_SYSROOT = "rust-sysroot"  # the component built by the host's Rust toolchain


def fingerprint(index: RecipeIndex, catalogue: Catalogue, target: Target, overrides: dict[str, Path],
                rust_record: Path | None = None) -> str:
    """What ``target`` would be built from now, in this home: its build inputs (the cache key's,
    inputs.build_inputs), two of them taken as only this machine can."""
    # A local source by its path and a stat signature (sizes, mtimes), not its content: the
    # no-op check reads no source's bytes, and a touched source sends install to look again
    # (it compares the content with the recorded sha256 and restages only what changed).
    parts = build_inputs(index, catalogue, [target], overrides,
                         lambda component, path: f"{path}\0{override_signature(path)}")
    digest = digest_of(parts)
    digest.update(f"record format {state.STATE_FORMAT}\n".encode())
    if RUST_SYSROOT in target.components:
        # The host's Rust toolchain builds the sysroot, and another rustc cannot use it. The key
        # leaves it out (it is computed before any toolchain is chosen, the same on every
        # machine); a cache restored where another rustc is chosen fails this check and the
        # sysroot is rebuilt.
        digest.update(f"rust\0{rust_fingerprint(rust_record)}\n".encode())
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


def all_up_to_date(home: Home, index: RecipeIndex, catalogue: Catalogue, targets: list[Target],
                   overrides: dict[str, Path], locked: ToolchainLock | None = None) -> bool:
    """Whether installing ``targets`` (with their extras, see with_installed_extras) would change
    nothing: each is up to date and, with a lock file, installed from exactly the locked recipe
    revisions. A first look without the home lock, so that the common no-op answers in
    milliseconds; whatever decides a build is looked at again under the lock (Installer)."""
    return all(up_to_date(home, index, catalogue, t, overrides) for t in targets) and (
        locked is None or all(locked.covers(home, t.name) for t in targets))


def with_installed_extras(home: Home, catalogue: Catalogue, target: Target, extras: set[str], drop: list[str]) -> Target:
    """The target with the extras it is installed with, plus ``extras``, minus ``drop``."""
    record = state.read(home, target.name)
    kept = set(record.extras) & set(catalogue.extras) if record else set()
    return catalogue.with_extras(target, (kept | extras) - set(drop))
