"""``install``: from target names to installed, stamped toolchains.

Order: check the home, take the lock, write the Conan home, stage local sources, export recipes,
(check them against a lock file), plan (cache, then remotes, then build), fetch sources and build
or download (scheduler; downloads are verified), read what the packages publish, write stamps. A
stamp is written only after everything succeeded, so a failed or interrupted run leaves the
previous toolchain (and its stamp) as it was.
"""
from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from uktoolchain.config import Config
from uktoolchain.engine import conan_home, stamps, state
from uktoolchain.engine.home_lock import home_lock
from uktoolchain.engine.jobserver import CONF as JOBSERVER_CONF
from uktoolchain.engine.jobserver import JobServer
from uktoolchain.engine.model import BUILD, DOWNLOAD, InstalledPackage, Plan, PlannedPackage
from uktoolchain.engine.pins import Pins, ToolchainLock
from uktoolchain.engine.remotes import RemoteSettings
from uktoolchain.engine.scheduler import Batch, Job, Scheduler, Timings
from uktoolchain.errors import ConfigError, MirrorsUnreachableError, RemoteError, SourceOverrideError
from uktoolchain.home import Home, home_error, require_path_for_builds, require_path_for_use
from uktoolchain.resources import BASE_RECIPE, RecipeIndex
from uktoolchain.sources import (
    Checksum,
    SourceOverride,
    SourceStore,
    check_local_source,
    local_source_example,
    override_signature,
    source_entries,
    source_parts,
)
from uktoolchain.targets import Catalogue, Target, host_target_arch

CONF_SOURCE_DIRS = "user.uktoolchain:source_dirs"


@dataclass(frozen=True)
class InstallOptions:
    parallel: int = 2
    wait_for_lock: bool = True
    build_missing: bool = True  # False: --build=never, everything from the cache or a remote
    use_remotes: bool = True
    locked: ToolchainLock | None = None


@dataclass(frozen=True)
class Exported:
    """The recipes of an install, exported into the Conan cache."""

    recipe_dirs: dict[str, Path]
    refs: dict[str, str]  # component -> name/version#revision
    pins: Pins
    local_digests: dict[str, str]  # component -> sha256 of the local source it is built from


@dataclass(frozen=True)
class InstallReport:
    plan: Plan
    packages: dict[str, list[InstalledPackage]]  # by target


class Installer:
    def __init__(self, home: Home, index: RecipeIndex, catalogue: Catalogue, config: Config,
                 say: Callable[[str], None]):
        self.home = home
        self.index = index
        self.catalogue = catalogue
        self.config = config
        self.say = say
        self.store = SourceStore(home.sources)

    def install(self, targets: Callable[[], list[Target]], overrides: list[SourceOverride], view,
                options: InstallOptions) -> InstallReport:
        """``targets`` is called once the home lock is held: what they are (e.g. the extras they
        are installed with) is read from the home's state then, not before another install ends."""
        return self._with_home(options.wait_for_lock, lambda: self._install_locked(targets(), overrides, view, options))

    def pins(self, targets: list[Target], overrides: list[SourceOverride]) -> Pins:
        """What the recipes of ``targets`` resolve to (for a lock file): exports, builds nothing."""
        def export() -> Pins:
            from uktoolchain.engine.conan_adapter import ConanEngine

            conan_home.prepare(self.home.conan, self.catalogue, RemoteSettings.load(self.home.state).backup_urls())
            engine = ConanEngine(self.home.conan, self.home.logs / "engine.log", use_remotes=False)
            return self._export(engine, targets, overrides).pins

        return self._with_home(True, export)

    def _with_home(self, wait: bool, work):
        require_path_for_use(self.home.root)
        self.home.ensure_writable()
        try:
            with home_lock(self.home.lock_file, wait, self.say):
                return work()
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT):
                raise home_error(self.home.root, exc) from exc
            raise

    def _export(self, engine, targets: list[Target], overrides: list[SourceOverride]) -> Exported:
        """Stage local sources, export the base and every component's recipe."""
        local_digests = {}
        for override in overrides:
            data = self._conandata(self.index.recipe_dir(override.component))
            owner = data.get("sources_from")
            if owner:
                raise SourceOverrideError(f"{override.component} is built from {owner}'s source",
                                          f"give it as --source {owner}=PATH")
            version = self.catalogue.versions.get(override.component)
            check_local_source(override, data.get("local_source", {}), version,
                               source_parts(data.get("sources", {}).get(version)))
            digest = self.store.stage_override(override)
            local_digests[override.component] = digest
            self.say(f"using local source for {override.component} (sha256 {digest}) from {override.path}")
        base = engine.export(self.index.recipe_dir(BASE_RECIPE))
        components = self.catalogue.components_of(targets)
        recipe_dirs = {c: self._recipe_dir(c, local_digests) for c in components}
        self._check_requirements(engine, components, recipe_dirs)
        refs = {c: engine.export(recipe_dirs[c], self.catalogue.versions[c]) for c in components}
        sources = {c: self._source_pin(c, recipe_dirs) for c in components}
        return Exported(recipe_dirs, refs, Pins(base, dict(refs), sources), local_digests)

    def _check_requirements(self, engine, components: list[str], recipe_dirs: dict[str, Path]) -> None:
        """Each component's version must fit the ranges its dependants declare (conandata.yml
        ``requires``): a set that pairs, say, dune 3.17 with OCaml 5.4 is refused here, by name."""
        versions = self.catalogue.versions
        for component in components:
            ranges = self._conandata(recipe_dirs[component]).get("requires", {}).get(versions[component], {})
            for dependency, version_range in ranges.items():
                chosen = versions.get(dependency)
                if chosen is not None and not engine.in_range(chosen, version_range):
                    raise ConfigError(
                        f"toolchain set {self.catalogue.toolset} pairs {component} {versions[component]} with "
                        f"{dependency} {chosen}, but {component} {versions[component]} needs {dependency} {version_range}",
                        f"fix the set in {self.index.catalogue_file} or the range in "
                        f"{recipe_dirs[component] / 'conandata.yml'}")

    def _install_locked(self, targets, overrides, view, options) -> InstallReport:
        from uktoolchain.engine.conan_adapter import ConanEngine  # the slow import, only now

        backups = RemoteSettings.load(self.home.state).backup_urls()
        conan_home.prepare(self.home.conan, self.catalogue, backups)
        engine = ConanEngine(self.home.conan, self.home.logs / "engine.log", use_remotes=options.use_remotes)
        exported = self._export(engine, targets, overrides)
        if options.locked is not None:
            options.locked.check([t.name for t in targets], exported.pins, self.catalogue.toolset)
        recipe_dirs, refs = exported.recipe_dirs, exported.refs

        conf = [f"{CONF_SOURCE_DIRS}={[str(self.home.sources)] + [str(m) for m in self.config.mirror_dirs]}"]
        if stamps.RUST_SYSROOT in self.catalogue.components_of(targets):  # built by the host's Rust toolchain: choose it now
            from uktoolchain.rust_toolchain import record_choice, save_record

            record = record_choice()  # the rule, applied now; env and no-op installs stat what it looked at
            save_record(stamps.rust_record_file(self.home), record)
            toolchain = record.toolchain
            self.say(f"using Rust {toolchain.release}: {toolchain.rustc}, {toolchain.cargo}")
            conf += toolchain.conan_conf()
        # One Conan graph per target architecture: a graph holds one build of each component.
        graphs: dict[str | None, list[str]] = {}
        for target in targets:
            wanted = graphs.setdefault(self.catalogue.build_arch(target), [])
            wanted += [c for c in target.components if c not in wanted]
            if target.host_components:
                wanted = graphs.setdefault(host_target_arch(), [])
                wanted += [c for c in target.host_components if c not in wanted]
        self.home.state.mkdir(parents=True, exist_ok=True)
        lockfiles = {arch: self.home.state / f"plan-{os.getpid()}-{arch or 'host'}.lock" for arch in graphs}
        pools, download_lists = [], []
        try:
            plan = Plan({})
            for arch, wanted in graphs.items():
                plan = plan.merged(engine.plan([refs[c] for c in wanted], conf, self._options(arch, wanted),
                                               lockfiles[arch], build_missing=options.build_missing,
                                               locked_refs=list(refs.values()), locked_base=exported.pins.base))
            for name, reason in engine.unreachable.items():
                self.say(f"remote {name} is unreachable ({reason}); building here what it would have provided")
            if not options.build_missing:
                self._refuse_builds(plan, engine)
            if any(package.action == BUILD for package in plan.packages.values()):
                require_path_for_builds(self.home.root)
            self._fetch_extras_first(targets, plan, recipe_dirs, backups)
            # One pool of job slots for all builds side by side (engine/jobserver.py), another for
            # the fillers beside them (engine/critical_path.py).
            builds_pool, fillers_pool = JobServer.for_cores(os.cpu_count() or 1), JobServer.for_cores(os.cpu_count() or 1)
            pools = [pool for pool in (builds_pool, fillers_pool) if pool is not None]
            build_conf, filler_conf = _using_pool(conf, builds_pool), _using_pool(conf, fillers_pool)
            jobs = {
                label: Job(
                    package=package,
                    command=engine.build_command(package, build_conf if package.action == BUILD else conf),
                    filler_command=engine.build_command(package, filler_conf) if package.action == BUILD else None,
                    log_path=self.home.logs / f"{label}.log",
                    fetch=self._fetcher([package.name] + [plan.packages[d].name for d in package.deps], recipe_dirs,
                                        backups)
                    if package.action == BUILD else None,
                    verify=(lambda package=package: engine.verify_download(package)) if package.action == DOWNLOAD else None,
                    source_ready=engine.source_ready(package.ref) if package.action == BUILD else None,
                    cleanup=(lambda package=package: engine.remove_build_folder(package)) if package.action == BUILD else None,
                )
                for label, package in plan.packages.items()
            }
            batches = self._download_batches(plan, engine, download_lists)
            view.start(list(plan.packages))
            with view:
                Scheduler(plan, jobs, engine.build_env(), view, Timings(self.home.state / "timings.json"),
                          options.parallel, batches, self.catalogue.build_costs).run()
            installed = {}
            for arch, wanted in graphs.items():
                for package in engine.installed([refs[c] for c in wanted], conf, self._options(arch, wanted),
                                                lockfiles[arch]):
                    installed[package.label] = package
        finally:
            for lockfile in [*lockfiles.values(), *download_lists]:
                lockfile.unlink(missing_ok=True)
            for pool in pools:
                pool.close()

        overrides_by_component = {o.component: o.path for o in overrides}
        local = {o.component: state.LocalSource(o.component, str(o.path), exported.local_digests[o.component],
                                                override_signature(o.path))
                 for o in overrides}
        report = {}
        for target in targets:
            labels = self.catalogue.labels_of(target)
            packages = [installed[label] for label in _with_dependencies(labels, plan)]
            used = target.components + target.host_components
            state.write(self.home, state.InstalledTarget(
                toolset=self.catalogue.toolset, target=target.name,
                fingerprint=stamps.fingerprint(self.index, self.catalogue, target, overrides_by_component,
                                               stamps.rust_record_file(self.home)),
                packages=tuple(packages), extras=target.extras,
                local_sources=tuple(local[c] for c in sorted(local) if c in used)))
            report[target.name] = packages
        return InstallReport(plan, report)

    def _fetch_extras_first(self, targets: list[Target], plan: Plan, recipe_dirs: dict[str, Path],
                            backups: list[str]) -> None:
        """An optional part (--with editor) whose sources cannot be had fails the install before
        anything is built: one error naming the part and every archive it lacks, the installed
        toolchain as it was, instead of a failure after the compiler took minutes to build."""
        owners = {c: extra for t in targets for extra in t.extras for c in self.catalogue.extras[extra]}
        missing: dict[str, list[tuple[PlannedPackage, MirrorsUnreachableError]]] = {}
        for package in plan.packages.values():
            extra = owners.get(package.name)
            fetch = self._fetcher([package.name], recipe_dirs, backups) if extra and package.action == BUILD else None
            if fetch is None:
                continue
            try:
                fetch(lambda done, total: None)
            except MirrorsUnreachableError as exc:
                missing.setdefault(extra, []).append((package, exc))
        for extra, failures in missing.items():
            names = ", ".join(f"{package.name} {package.version}" for package, _ in failures)
            first = failures[0][1]
            raise MirrorsUnreachableError(
                f"--with {extra}: no source reachable for {names}; nothing was built (first: {first.message})",
                first.hint)

    def _download_batches(self, plan: Plan, engine, lists: list[Path]) -> list[Batch]:
        """All downloads from one remote in one process (scheduler.Batch); ``lists`` gets the
        package lists they read, removed with the plan's lock files."""
        by_remote: dict[str, list] = {}
        for package in plan.packages.values():
            if package.action == DOWNLOAD:
                by_remote.setdefault(package.remote, []).append(package)
        batches = []
        for remote, packages in by_remote.items():
            listed = self.home.state / f"download-{os.getpid()}-{remote}.json"
            lists.append(listed)
            command = engine.download_command(packages, listed, os.cpu_count() or 1)
            batches.append(Batch([p.label for p in packages], command, self.home.logs / f"download-{remote}.log", remote))
        return batches

    def _refuse_builds(self, plan: Plan, engine) -> None:
        missing = [label for label, package in plan.packages.items() if package.action == BUILD]
        if not missing:
            return
        asked = engine.remote_names()
        where = f"the remotes ({', '.join(asked)})" if asked else "any remote (none reachable or configured)"
        raise RemoteError(
            f"--build=never, but {', '.join(missing)} is neither in this home nor on {where}",
            "push it from a machine that built it (`uktoolchain push REMOTE TARGET`), or install with --build=missing",
        )

    def _options(self, arch: str | None, components: list[str]) -> list[str]:
        return [f"{c}/*:target_arch={arch}" for c in components if arch and c in self.catalogue.per_arch]

    def _recipe_dir(self, component: str, local_digests: dict[str, str]) -> Path:
        """The recipe to export: the index's own, or a copy whose conandata names the local source.

        The copy differs only in conandata (checksum, no URL), so its recipe revision, hence every
        binary built from it, is distinct from the pinned one and never passed off as it. A recipe
        built from another's source (conandata ``sources_from``; its export() copies that pin)
        is copied beside that one's copy when it has a local source.
        """
        original = self.index.recipe_dir(component)
        owner = self._conandata(original).get("sources_from") or component
        local_digest = local_digests.get(owner)
        if local_digest is None:
            return original
        if not (original / "conandata.yml").is_file():
            raise SourceOverrideError(f"{component} has no source archive to replace",
                                      "its sources come from the host toolchain (see uktoolchain doctor)")
        import yaml

        staged_root = self.home.staging / f"{owner}-{local_digest[:16]}"
        staged = staged_root / "recipes" / component
        for previous in (staged, staged_root / "patches"):
            if previous.exists():
                shutil.rmtree(previous)
        shutil.copytree(original, staged, ignore=shutil.ignore_patterns("__pycache__"))
        if self.index.patches.is_dir():  # whole tree: a recipe may export another's patches
            shutil.copytree(self.index.patches, staged_root / "patches")
        if owner == component:
            data = yaml.safe_load((original / "conandata.yml").read_text())
            data["sources"][self.catalogue.versions[component]] = {"url": [], "sha256": local_digest}
            (staged / "conandata.yml").write_text(yaml.safe_dump(data, sort_keys=True))
        return staged

    def _source_pin(self, component: str, recipe_dirs: dict[str, Path]) -> str:
        """What a lock file pins of a component's source: its checksum(s), or that it has none."""
        data = self._sources_data(component, recipe_dirs)
        entry = data["sources"].get(self.catalogue.versions[component])
        if entry is None:
            return "none: built from what the recipe exports or the host provides"
        return "; ".join(f"{name} {Checksum.of_entry(e)}" if name else str(Checksum.of_entry(e))
                         for name, e in source_entries(entry))

    def _fetcher(self, components: list[str], recipe_dirs: dict[str, Path], backups: list[str]):
        """A build's first step: its own source archive and its dependencies' (a cross-compiler is
        built from its host compiler's source), or None when the store has them all."""
        wanted = []
        for component in components:
            data = self._sources_data(component, recipe_dirs)
            version = self.catalogue.versions[component]
            hint = local_source_example(data.get("local_source") or {}, version)
            if version not in data["sources"]:
                continue
            for name, entry in source_entries(data["sources"][version]):
                if not self.store.has(Checksum.of_entry(entry).digest):
                    wanted.append((component, name, entry, hint))
        if not wanted:
            return None

        def fetch(progress) -> None:
            for component, name, entry, hint in wanted:
                try:
                    self.store.ensure(component, entry, self.config.mirror_dirs, progress, what=name,
                                      backup_urls=backups)
                except MirrorsUnreachableError as exc:
                    if hint is None:
                        raise
                    raise MirrorsUnreachableError(exc.message, f"{exc.hint}; for example {hint}") from exc

        return fetch

    def _sources_data(self, component: str, recipe_dirs: dict[str, Path]) -> dict:
        """A component's conandata, with the ``sources`` (and local-source rules) of the recipe it
        takes them from."""
        data = self._conandata(recipe_dirs[component])
        owner = data.get("sources_from")
        if owner:
            owners = self._conandata(recipe_dirs.get(owner) or self.index.recipe_dir(owner))
            data["sources"] = owners["sources"]
            data["local_source"] = owners.get("local_source")
        return data

    @staticmethod
    def _conandata(recipe_dir: Path) -> dict:
        import yaml

        data_file = recipe_dir / "conandata.yml"
        data = yaml.safe_load(data_file.read_text()) if data_file.is_file() else None
        data = data or {}
        data.setdefault("sources", {})  # none: our own code, exported with the recipe (e.g. solo5-rpi4)
        return data


def _using_pool(conf: list[str], pool: JobServer | None) -> list[str]:
    """``conf`` making a build's make a client of ``pool`` (without one: -j<cores> of its own)."""
    return conf + ([f"{JOBSERVER_CONF}={pool.path}"] if pool is not None else [])


def _with_dependencies(labels: list[str], plan: Plan) -> list[str]:
    """The target's packages plus everything they require, dependencies first (plan order)."""
    wanted: set[str] = set()
    stack = list(labels)
    while stack:
        name = stack.pop()
        if name not in wanted:
            wanted.add(name)
            stack.extend(plan.packages[name].deps)
    return [name for name in plan.packages if name in wanted]
