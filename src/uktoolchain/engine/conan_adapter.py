"""The one module that imports Conan. Its API is marked experimental: keep every use here.

Work in this process: exporting recipes, computing the plan (graph, package ids, what is cached,
downloadable or to build), and reading what installed packages publish. Building a package runs
in a separate ``conan install`` process (see ``build_command``), so each build has its own log
file, can be interrupted cleanly and can run beside an independent one.
"""
from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import sys
from pathlib import Path

from conan.api.conan_api import ConanAPI
from conan.errors import ConanException

from uktoolchain.engine.model import BUILD, CACHED, DOWNLOAD, InstalledPackage, Plan, PlannedPackage, package_label
from uktoolchain.errors import EngineError
from uktoolchain.home import home_error

_ACTIONS = {"Cache": CACHED, "Download": DOWNLOAD, "Update": DOWNLOAD, "Build": BUILD, "Missing": BUILD}


class ConanEngine:
    def __init__(self, conan_home: Path, log_path: Path):
        self.home = conan_home
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._quiet():
            self.api = ConanAPI(cache_folder=str(conan_home))

    @contextlib.contextmanager
    def _quiet(self):
        """Conan's own chatter goes to the engine log; failures become EngineError."""
        with open(self.log_path, "a") as log, contextlib.redirect_stderr(log), contextlib.redirect_stdout(log):
            try:
                yield
            except (ConanException, sqlite3.OperationalError) as exc:
                # Conan reports a full disk as its own error or lets SQLite's escape: exit 6, not 5 or 70.
                if "disk is full" in str(exc) or "No space left" in str(exc):
                    raise home_error(self.home, OSError(errno.ENOSPC, "No space left on device")) from exc
                if not isinstance(exc, ConanException):
                    raise
                raise EngineError(f"conan: {str(exc).strip().splitlines()[-1]}", f"details in {self.log_path}") from exc

    # -- recipes ------------------------------------------------------------------------------
    def export(self, recipe_dir: Path, version: str | None = None) -> str:
        with self._quiet():
            ref, _ = self.api.export.export(str(recipe_dir / "conanfile.py"), None, version, None, None)
        return ref.repr_notime()

    # -- planning -----------------------------------------------------------------------------
    def _profiles(self, conf: list[str], options: list[str]):
        host = self.api.profiles.get_profile([self.api.profiles.get_default_host()], conf=conf, options=options)
        build = self.api.profiles.get_profile([self.api.profiles.get_default_build()], conf=conf)
        return host, build

    def _remotes(self):
        return [r for r in self.api.remotes.list() if not r.disabled]

    def _graph(self, refs: list[str], conf: list[str], options: list[str], build_mode: list[str] | None,
               lockfile=None):
        host, build = self._profiles(conf, options)
        remotes = self._remotes()
        graph = self.api.graph.load_graph_requires(refs, None, host, build, lockfile, remotes, None)
        graph.report_graph_error()
        self.api.graph.analyze_binaries(graph, build_mode, remotes=remotes, lockfile=lockfile)
        return graph, remotes

    def plan(self, refs: list[str], conf: list[str], options: list[str], lockfile_path: Path,
             build_missing: bool = True) -> Plan:
        """What it takes to have ``refs`` (one graph: one set of options, e.g. one target arch)."""
        with self._quiet():
            graph, _ = self._graph(refs, conf, options, ["missing"] if build_missing else None)
            lockfile = self.api.lockfile.update_lockfile(None, graph)
            self.api.lockfile.save_lockfile(lockfile, str(lockfile_path))
            packages: dict[str, PlannedPackage] = {}
            for node in _dependencies_first(graph):
                action = _ACTIONS.get(node.binary)
                if action is None:
                    raise EngineError(f"{node.ref}: Conan cannot provide a binary ({node.binary})")
                label = _label(node)
                packages[label] = PlannedPackage(
                    label=label,
                    name=str(node.ref.name),
                    version=str(node.ref.version),
                    ref=node.ref.repr_notime(),
                    package_id=node.package_id,
                    action=action,
                    deps=tuple(_label(d) for d in node.neighbors()),
                    options=tuple(options),
                    lockfile=str(lockfile_path),
                )
        return Plan(packages)

    def build_command(self, package: PlannedPackage, conf: list[str]) -> list[str]:
        """A ``conan install`` of one package from the plan: builds it, or downloads it."""
        command = [sys.executable, "-m", "conans.conan", "install", f"--requires={package.ref}",
                   f"--lockfile={package.lockfile}", f"--build=missing:{package.name}/{package.version}",
                   "-pr:h", "default", "-pr:b", "build"]
        for item in conf:
            command += ["-c", item]
        for item in package.options:
            command += ["-o", item]
        return command

    def build_env(self) -> dict[str, str]:
        return {**os.environ, "CONAN_HOME": str(self.home)}

    # -- results ------------------------------------------------------------------------------
    def installed(self, refs: list[str], conf: list[str], options: list[str], lockfile_path: Path) -> list[InstalledPackage]:
        """Package folders and published environment, once everything is in the cache."""
        with self._quiet():
            lockfile = self.api.lockfile.get_lockfile(lockfile=str(lockfile_path), partial=True)
            graph, remotes = self._graph(refs, conf, options, None, lockfile=lockfile)
            missing = [n.ref for n in graph.nodes if n.ref and n.binary not in ("Cache", "Skip")]
            if missing:
                raise EngineError(f"packages still missing after the build: {', '.join(map(str, missing))}")
            self.api.install.install_binaries(graph, remotes)  # runs package_info()
            result = []
            for node in _dependencies_first(graph):
                folder = node.conanfile.package_folder
                env = node.conanfile.runenv_info.vars(node.conanfile, scope="run")
                templates = tuple(
                    (name, _relative_to_home(value, str(self.home)))
                    for name, value in env.items(variable_reference="${{{name}}}")
                )
                facts = tuple(
                    (key.split(":", 1)[1], _relative_to_home(str(value), str(self.home)))
                    for key, value in sorted(node.conanfile.conf_info.items())
                    if key.startswith("user.uktoolchain:")
                )
                result.append(InstalledPackage(
                    label=_label(node), name=str(node.ref.name), ref=node.ref.repr_notime(), package_id=node.package_id,
                    folder=os.path.relpath(folder, self.home), env=templates, facts=facts,
                ))
            # Build trees (an OCaml one is ~0.5 GB) are not needed once packages exist.
            self.api.cache.clean(source=False, build=True, download=True, temp=True)
        return result

    # -- housekeeping -------------------------------------------------------------------------
    def remove_unused(self, keep: set[str]) -> list[str]:
        """Remove every package binary whose "name/version#rrev:package_id" is not in ``keep``,
        then recipes left without binaries and temporary folders; return what was removed."""
        from conan.api.model import ListPattern

        removed = []
        with self._quiet():
            listing = self.api.list.select(ListPattern("*/*#*:*", rrev="*", prev="*"))
            for ref, packages in listing.items():
                kept_any = False
                for pref in packages:
                    key = f"{ref.repr_notime()}:{pref.package_id}"
                    if key in keep:
                        kept_any = True
                        continue
                    self.api.remove.package(pref)
                    removed.append(key)
                if not kept_any and not any(k.startswith(ref.repr_notime() + ":") for k in keep):
                    if ref.name != "ukbase":
                        self.api.remove.recipe(ref)
            self.api.cache.clean(source=True, build=True, download=True, temp=True)
        return removed


def _dependencies_first(graph):
    """Graph nodes without the virtual root, each after its dependencies."""
    ordered, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for dependency in node.neighbors():
            visit(dependency)
        if node.ref is not None:
            ordered.append(node)

    visit(graph.root)
    return ordered


def _label(node) -> str:
    return package_label(str(node.ref.name), node.conanfile.options.get_safe("target_arch"))


def _relative_to_home(value: str, home: str) -> str:
    return value.replace(home, "{conan_home}")
