"""The target catalogue, read from the recipe index's targets.toml. Targets are data."""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from uktoolchain import tomlcache
from uktoolchain.errors import (
    ConfigError,
    TargetNotAvailableError,
    UnknownSetError,
    UnknownTargetError,
    UsageError,
)


class Target(NamedTuple):
    name: str
    description: str
    arch: str  # "host" for the host toolchain, else the unikernel's architecture
    binding: str | None
    board: str | None
    components: tuple[str, ...]
    available: bool
    # Per-arch components needed as build-machine tools (e.g. solo5-elftool for an aarch64 target).
    host_components: tuple[str, ...] = ()
    # Optional parts installed with it (`install --with rust`); their components are in `components`.
    extras: tuple[str, ...] = ()
    # What it runs on: the module uktoolchain.platforms.<platform> (its board, else its binding,
    # else "host"; targets.toml may name another with `platform = ...`).
    platform: str = "host"
    # Doctor checks a build machine of another architecture needs to build and use its toolchain
    # ([arches.<arch>] cross_tools); None: no such machine can (build it on a machine of its arch).
    cross_tools: tuple[str, ...] | None = ()


def set_sort_key(name: str) -> tuple:
    """Newest first when sorted in reverse: numeric parts compare as numbers (5.10 > 5.9)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in name.replace("-", ".").split("."))


class ToolchainSet(NamedTuple):
    """A tested combination of component versions (OCaml, ocamlfind, dune, ocaml-solo5, Solo5...)."""

    name: str
    description: str
    versions: dict[str, str]  # component -> version: the catalogue's common ones plus the set's own
    available: bool = True
    note: str = ""  # why an unavailable set cannot be built here


class Catalogue(NamedTuple):
    targets: dict[str, Target]
    versions: dict[str, str]  # component -> pinned version, in the chosen set (``toolset``)
    per_arch: frozenset[str]  # components built once per target architecture
    extras: dict[str, tuple[str, ...]]  # optional part -> its components
    sets: dict[str, ToolchainSet]  # newest first
    toolset: str  # the set ``versions`` come from
    build_costs: dict[str, float]  # component -> CPU seconds of a build, before one was timed here

    @classmethod
    def load(cls, path: Path, cache: Path | None = None) -> "Catalogue":
        """The catalogue with the default set chosen (see ``for_set``). ``cache``: a directory for
        the parsed catalogue (see tomlcache)."""
        try:
            data = tomlcache.load(path, cache)
        except (OSError, ValueError) as exc:  # ValueError: tomllib.TOMLDecodeError
            raise ConfigError(f"cannot read the target catalogue {path}: {exc}") from exc
        common = {str(k): str(v) for k, v in data.get("components", {}).items()}
        sets = _read_sets(data, common, path)
        known = set().union(*(s.versions for s in sets.values()))
        per_arch = frozenset(data.get("per_arch", ()))
        arches = data.get("arches", {})
        targets = {}
        for name, entry in data.get("targets", {}).items():
            components = tuple(entry.get("components", ()))
            host_components = tuple(entry.get("host_components", ()))
            unknown = [c for c in components + host_components if c not in known]
            if unknown:
                raise ConfigError(f"target {name} in {path} names components without a version: {unknown}")
            if entry.get("arch", "host") == "host" and per_arch & set(components):
                raise ConfigError(f"target {name} in {path} uses per-architecture components but has no arch")
            arch = entry.get("arch", "host")
            cross = arches.get(arch, {}).get("cross_tools", ())
            targets[name] = Target(
                name=name,
                description=entry.get("description", ""),
                arch=arch,
                binding=entry.get("binding"),
                board=entry.get("board"),
                components=components,
                available=bool(entry.get("available", True)) and bool(components),
                host_components=host_components,
                platform=str(entry.get("platform") or entry.get("board") or entry.get("binding") or "host"),
                cross_tools=None if cross is False else tuple(str(c) for c in cross),
            )
        extras = {str(name): tuple(entry.get("components", ())) for name, entry in data.get("extras", {}).items()}
        for name, components in extras.items():
            if not components or [c for c in components if c not in known]:
                raise ConfigError(f"extra {name} in {path} needs components that have a version")
        needed = {c for t in targets.values() for c in t.components + t.host_components}
        needed |= {c for components in extras.values() for c in components}
        for toolset in sets.values():
            lacking = sorted(needed - set(toolset.versions))
            if lacking:
                raise ConfigError(f"toolchain set {toolset.name} in {path} has no version of {', '.join(lacking)}")
        costs = data.get("build_cost", {})
        if not all(isinstance(v, (int, float)) and v >= 0 for v in costs.values()):
            raise ConfigError(f"[build_cost] in {path} must give each component a number of CPU seconds")
        default = cls.default_set_of(sets)
        return cls(targets, dict(sets[default].versions), per_arch, extras, sets, default,
                   {str(k): float(v) for k, v in costs.items()})

    @staticmethod
    def default_set_of(sets: dict[str, ToolchainSet]) -> str:
        """The newest set that can be built here (sets are kept newest first)."""
        return next((name for name, s in sets.items() if s.available), next(iter(sets)))

    @property
    def default_set(self) -> str:
        return self.default_set_of(self.sets)

    def for_set(self, name: str) -> "Catalogue":
        """The same catalogue with another set's versions; an unknown name raises."""
        if name not in self.sets:
            raise UnknownSetError(unknown_set_message(name, self))
        return self._replace(versions=dict(self.sets[name].versions), toolset=name)

    def resolve(self, names: list[str]) -> list[Target]:
        """Targets by name, in order, without duplicates; unknown or unavailable names raise."""
        resolved: list[Target] = []
        for name in names:
            target = self.targets.get(name)
            if target is None:
                raise UnknownTargetError(unknown_target_message(name, self.targets))
            if not target.available:
                raise TargetNotAvailableError(
                    f"target {name} is planned but not yet available in this version",
                    f"available now: {', '.join(t.name for t in self.targets.values() if t.available)}",
                )
            if target not in resolved:
                resolved.append(target)
        return resolved

    def with_extras(self, target: Target, extras) -> Target:
        """The target with optional parts added (their components after its own)."""
        extras = tuple(sorted(set(extras)))
        unknown = [e for e in extras if e not in self.extras]
        if unknown:
            raise UsageError(f"unknown extra {', '.join(unknown)}", f"known extras: {', '.join(self.extras) or 'none'}")
        # Extras built per target architecture (rust) need one; host tools (editor) go anywhere.
        per_arch = [e for e in extras if self.per_arch.intersection(self.extras[e])]
        if per_arch and target.arch == "host":
            raise UsageError(f"the {', '.join(per_arch)} extra is for unikernel targets; {target.name} is not one",
                             f"give a Solo5 target, e.g. uktoolchain install spt --with {per_arch[0]}")
        added = tuple(c for e in extras for c in self.extras[e] if c not in target.components)
        return target._replace(components=target.components + tuple(dict.fromkeys(added)), extras=extras)

    def build_arch(self, target: Target) -> str | None:
        """The architecture its per-arch components are built for; None for host-only targets."""
        return target.arch if self.per_arch.intersection(target.components) else None

    def labels_of(self, target: Target) -> list[str]:
        """Package labels of a target's components (its arch) and host components (this machine's)."""
        from uktoolchain.engine.model import package_label

        def label(component: str, arch: str) -> str:
            return package_label(component, arch if component in self.per_arch else None)

        return [label(c, target.arch) for c in target.components] + [
            label(c, host_target_arch()) for c in target.host_components
        ]

    def components_of(self, targets: list[Target]) -> list[str]:
        """Union of the targets' components, first-seen order (shared components appear once)."""
        seen: dict[str, None] = {}
        for target in targets:
            for component in target.components + target.host_components:
                seen.setdefault(component, None)
        return list(seen)


def _read_sets(data: dict, common: dict[str, str], path: Path) -> dict[str, ToolchainSet]:
    """``[sets."<name>"]`` tables, newest first. A catalogue without any has one set, "default",
    made of ``[components]`` alone."""
    raw = data.get("sets") or {"default": {}}
    sets = {}
    for name in sorted(raw, key=set_sort_key, reverse=True):
        entry = raw[name]
        if not isinstance(entry, dict):
            raise ConfigError(f"toolchain set {name} in {path} is not a table")
        own = {str(k): str(v) for k, v in entry.items() if k not in _SET_FIELDS}
        versions = {**common, **own}
        for component, source in data.get("same_version_as", {}).items():
            if source not in versions:
                raise ConfigError(f"{component} in {path} has the version of {source}, "
                                  f"which toolchain set {name} does not give")
            versions[str(component)] = versions[source]
        sets[str(name)] = ToolchainSet(
            name=str(name),
            description=str(entry.get("description", "")),
            versions=versions,
            available=bool(entry.get("available", True)),
            note=str(entry.get("note", "")),
        )
    return sets


_SET_FIELDS = ("description", "available", "note")


def unknown_set_message(name: str, catalogue: "Catalogue") -> str:
    names = ", ".join(f"{n} (default)" if n == catalogue.default_set else n for n in catalogue.sets)
    return f"unknown toolchain set '{name}'; sets: {names}"


def unknown_target_message(name: str, targets: dict[str, Target]) -> str:
    binding_problem = _binding_problem(name, targets)
    if binding_problem:
        return binding_problem
    import difflib  # the error path only

    close = difflib.get_close_matches(name, list(targets), n=1)
    suggestion = f"did you mean {close[0]}? " if close else ""
    available = [t.name for t in targets.values() if t.available]
    planned = [t.name for t in targets.values() if not t.available]
    message = f"unknown target '{name}'; {suggestion}valid targets: {', '.join(available)}"
    return message + (f" (planned: {', '.join(planned)})" if planned else "")


# Solo5 bindings that exist upstream but have no target here.
_UNSUPPORTED_BINDINGS = {"genode": "Solo5 removed its Genode bindings", "stub": "stub is for build-system probes only"}


def _binding_problem(name: str, targets: dict[str, Target]) -> str | None:
    """For names shaped like a target (``[arch-]binding``) whose binding is the problem: a
    binding Solo5 has on another architecture, one we do not support, or an unknown one."""
    prefix, _, binding = name.rpartition("-")
    arch = prefix or "x86_64"
    if arch not in {t.arch for t in targets.values() if t.binding}:
        return None
    on_arch = ", ".join(sorted(t.name for t in targets.values() if t.arch == arch and t.binding))
    bindings = sorted({t.binding for t in targets.values() if t.binding})
    elsewhere = sorted({t.arch for t in targets.values() if t.binding == binding})
    if elsewhere:
        return (f"the {binding} binding is not available on {arch} (only on {', '.join(elsewhere)}); "
                f"{arch} targets: {on_arch}")
    if binding in _UNSUPPORTED_BINDINGS:
        return f"the {binding} binding is not supported ({_UNSUPPORTED_BINDINGS[binding]}); {arch} targets: {on_arch}"
    import difflib

    if prefix and not difflib.get_close_matches(binding, bindings, n=1):
        return f"unknown Solo5 binding '{binding}' in '{name}'; bindings: {', '.join(bindings)}; {arch} targets: {on_arch}"
    return None


def host_arch() -> str:
    machine = os.uname().machine.lower()  # platform.machine() on POSIX, without importing platform
    return {"amd64": "x86_64", "arm64": "armv8", "aarch64": "armv8"}.get(machine, machine)


def host_target_arch() -> str:
    """This machine's architecture as targets name it (x86_64, aarch64)."""
    return {"armv8": "aarch64"}.get(host_arch(), host_arch())


def host_os() -> str:
    system = os.uname().sysname  # platform.system() on POSIX
    return {"linux": "Linux", "darwin": "Macos", "freebsd": "FreeBSD"}.get(system.lower(), system)
