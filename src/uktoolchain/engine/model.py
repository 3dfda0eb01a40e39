"""uktoolchain's own view of Conan's graph: plain data the rest of the program speaks."""
from __future__ import annotations

from typing import NamedTuple

CACHED, DOWNLOAD, BUILD = "cached", "download", "build"


def package_label(name: str, target_arch: str | None) -> str:
    """How a package is shown and keyed: per-architecture builds carry their architecture."""
    return f"{name}[{target_arch}]" if target_arch else name


class PlannedPackage(NamedTuple):
    label: str  # name, or name[arch] for a per-architecture build
    name: str
    version: str
    ref: str  # name/version#recipe_revision
    package_id: str
    action: str  # CACHED | DOWNLOAD | BUILD
    deps: tuple[str, ...]  # labels of the packages it requires
    options: tuple[str, ...]  # Conan option assignments of the graph it belongs to
    lockfile: str  # the lockfile pinning that graph's revisions
    remote: str | None = None  # the remote a DOWNLOAD comes from


class Plan(NamedTuple):
    packages: dict[str, PlannedPackage]  # by label, dependencies before dependants

    def ready(self, finished: set[str]) -> list[PlannedPackage]:
        """Packages still to do whose dependencies are all finished."""
        return [p for p in self.packages.values() if p.label not in finished and set(p.deps) <= finished]

    def merged(self, other: "Plan") -> "Plan":
        """Union of two graphs' plans; a package both share (same label) must be the same binary."""
        packages = dict(self.packages)
        for label, package in other.packages.items():
            mine = packages.get(label)
            if mine is not None and (mine.ref, mine.package_id) != (package.ref, package.package_id):
                raise ValueError(f"{label} resolves to two different binaries: {mine.ref}:{mine.package_id} "
                                 f"and {package.ref}:{package.package_id}")
            packages.setdefault(label, package)
        return Plan(packages)


class InstalledPackage(NamedTuple):
    label: str
    name: str
    ref: str
    package_id: str
    folder: str  # relative to the Conan home, so a copied or moved home still resolves
    # Environment published by package_info(): (variable, template). Templates use
    # "{conan_home}" for the home and "${VAR}" for the value before this package.
    env: tuple[tuple[str, str], ...] = ()
    # What the package tells uktoolchain through conf_info "user.uktoolchain:<key>" (e.g. a
    # cross-compiler's sysroot and findlib toolchain name), paths templated like env.
    facts: tuple[tuple[str, str], ...] = ()
