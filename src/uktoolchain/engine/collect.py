"""Garbage collection of a home: the package binaries no installed target of any set uses go,
with Conan's build and temporary folders. ``gc`` and ``remove`` (which first forgets targets)
both end here."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from uktoolchain.engine import state
from uktoolchain.engine.home_lock import home_lock
from uktoolchain.home import Home
from uktoolchain.targets import Catalogue


@dataclass(frozen=True)
class Collected:
    removed: list[str]  # name/version#revision[:package_id] of what went
    kept: int  # packages installed targets use


def report(collected: Collected | None, scope: str = "") -> list[str]:
    """What gc and remove print: each package removed and the count (``scope``: e.g.
    " of OCaml set 5.3"), or that there was nothing to collect."""
    if collected is None:
        return ["nothing to collect"]
    return [f"removed {key}" for key in collected.removed] + [
        f"{len(collected.removed)} package(s){scope} removed, {collected.kept} kept"]


def forget(home: Home, names: list[str], say: Callable[[str], None]) -> list[str]:
    """Drop the records of ``names`` in the home's set (their packages stay until collected), under
    the home lock; returns the names that had none."""
    home.ensure_writable()
    with home_lock(home.lock_file, True, say):
        return [name for name in names if not state.forget(home, name)]


def collect(home: Home, catalogue: Catalogue, only_set: bool, say: Callable[[str], None]) -> Collected | None:
    """Remove what no installed target of any set uses; with ``only_set``, only builds of the
    component versions that no other set names (what the catalogue's set alone leaves behind).
    None when the home has no Conan cache (nothing was ever installed)."""
    if not home.conan.is_dir():
        return None
    home.ensure_writable()  # a read-only or full home is an exit-6 message, not a traceback
    from uktoolchain.engine.conan_adapter import ConanEngine  # the slow import, only now

    with home_lock(home.lock_file, True, say):
        # Read under the lock: an install that ends meanwhile has written its records.
        keep = set().union(*(r.package_keys() for r in state.all_records(home)))
        only = own_versions(catalogue) if only_set else None
        removed = ConanEngine(home.conan, home.logs / "engine.log").remove_unused(keep, only)
    return Collected(removed, len(keep))


def own_versions(catalogue: Catalogue) -> set[str]:
    """"name/version" of the components the catalogue's set has and no other set has."""
    others = {f"{c}/{v}" for name, s in catalogue.sets.items() if name != catalogue.toolset
              for c, v in s.versions.items()}
    return {f"{c}/{v}" for c, v in catalogue.versions.items()} - others
