"""uktoolchain's own view of Conan's graph: plain data the rest of the program speaks."""
from __future__ import annotations

from dataclasses import dataclass, field

CACHED, DOWNLOAD, BUILD = "cached", "download", "build"


@dataclass(frozen=True)
class PlannedPackage:
    name: str
    version: str
    ref: str  # name/version#recipe_revision
    package_id: str
    action: str  # CACHED | DOWNLOAD | BUILD
    deps: tuple[str, ...]  # names of the packages it requires


@dataclass(frozen=True)
class Plan:
    packages: dict[str, PlannedPackage]  # by name, dependencies before dependants
    lockfile: str  # path of the lockfile pinning exactly these revisions

    def ready(self, finished: set[str]) -> list[PlannedPackage]:
        """Packages still to do whose dependencies are all finished."""
        return [p for p in self.packages.values() if p.name not in finished and set(p.deps) <= finished]


@dataclass(frozen=True)
class InstalledPackage:
    name: str
    ref: str
    package_id: str
    folder: str  # relative to the Conan home, so a copied or moved home still resolves
    # Environment published by package_info(): (variable, template). Templates use
    # "{conan_home}" for the home and "${VAR}" for the value before this package.
    env: tuple[tuple[str, str], ...] = field(default=())
