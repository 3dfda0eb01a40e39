"""The one module that imports Conan. Its API is marked experimental: keep every use here.

Work in this process: exporting recipes, computing the plan (graph, package ids, what is cached,
downloadable or to build), reading what installed packages publish, remotes (add, login, upload)
and verifying downloaded packages. Building or downloading a package runs in a separate
``conan install`` process (see ``build_command``), so each job has its own log file, can be
interrupted cleanly and can run beside an independent one.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import sqlite3
import sys
import threading
from pathlib import Path

from conan.api.conan_api import ConanAPI
from conan.errors import ConanException
from conan.internal.errors import AuthenticationException, ConanConnectionError, ForbiddenException

from uktoolchain.engine.model import BUILD, CACHED, DOWNLOAD, InstalledPackage, Plan, PlannedPackage, package_label
from uktoolchain.engine.remotes import credential_vars
from uktoolchain.errors import EngineError, RemoteError, UnknownRemoteError, UsageError
from uktoolchain.home import home_error

_ACTIONS = {"Cache": CACHED, "Download": DOWNLOAD, "Update": DOWNLOAD, "Build": BUILD, "Missing": BUILD}


class ConanEngine:
    def __init__(self, conan_home: Path, log_path: Path, use_remotes: bool = True):
        self.home = conan_home
        self.log_path = log_path
        self.use_remotes = use_remotes
        # Remotes that failed to answer during this run (name -> reason): left out from then on.
        self.unreachable: dict[str, str] = {}
        self._shared_source: set[str] = set()  # recipes that build in their source folder (see source_ready)
        self._remote_revisions: dict[tuple[str, str], str] = {}  # (ref, package_id) -> package revision to download
        self._verify_lock = threading.Lock()
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
        if not self.use_remotes:
            return []
        return [r for r in self.api.remotes.list() if not r.disabled and r.name not in self.unreachable]

    def remote_names(self) -> list[str]:
        return [r.name for r in self._remotes()]

    @staticmethod
    def in_range(version: str, version_range: str) -> bool:
        """Whether ``version`` satisfies a Conan version range such as "[>=4.08.0 <5.4.0]"."""
        from conan.internal.model.version import Version
        from conan.internal.model.version_range import VersionRange

        return VersionRange(version_range.strip().removeprefix("[").removesuffix("]")).contains(Version(version), None)

    def _graph(self, refs: list[str], conf: list[str], options: list[str], build_mode: list[str] | None,
               lockfile=None, remotes=None):
        host, build = self._profiles(conf, options)
        remotes = self._remotes() if remotes is None else remotes
        graph = self.api.graph.load_graph_requires(refs, None, host, build, lockfile, remotes, None)
        graph.report_graph_error()
        self.api.graph.analyze_binaries(graph, build_mode, remotes=remotes, lockfile=lockfile)
        return graph, remotes

    def _graph_with_reachable_remotes(self, refs, conf, options, build_mode, lockfile=None):
        """The graph, asking the remotes for binaries; a remote that cannot be reached is left out
        (noted in ``self.unreachable``) and the graph computed again without it."""
        while True:
            remotes = self._remotes()
            try:
                with _remote_failures(None):
                    return self._graph(refs, conf, options, build_mode, lockfile=lockfile, remotes=remotes)
            except _Unreachable as exc:
                culprit = _named_remote(str(exc.__cause__), remotes) or self._first_unreachable(remotes)
                if culprit is None:
                    raise RemoteError(f"cannot reach a remote: {exc.reason}") from exc
                self.unreachable[culprit.name] = f"{culprit.url}: {exc.reason}"

    def _first_unreachable(self, remotes):
        """Ask each remote one small question; the first that cannot answer is the culprit."""
        from conan.api.model import ListPattern

        for remote in remotes:
            try:
                self.api.list.select(ListPattern("ukbase/*", only_recipe=True), remote=remote)
            except ConanConnectionError:
                return remote
            except ConanException:
                continue
        return None

    def plan(self, refs: list[str], conf: list[str], options: list[str], lockfile_path: Path,
             build_missing: bool = True, locked_refs: list[str] = (), locked_base: str | None = None) -> Plan:
        """What it takes to have ``refs`` (one graph: one set of options, e.g. one target arch).

        ``locked_refs`` (name/version#revision) decide the recipes' version ranges: the exact
        versions of the toolchain set, whatever else the cache or a remote holds; a range that
        none of them satisfies is an error, never a silent pick. ``locked_base``: the recipe base
        (python_requires) they were exported with. A package that
        is in no cache is looked up in the remotes first (action DOWNLOAD); only what no remote
        has is built (BUILD), and only with ``build_missing``."""
        with self._quiet():
            from conan.api.model import RecipeReference

            seeded = self.api.lockfile.add_lockfile(
                None, requires=[RecipeReference.loads(r) for r in locked_refs],
                python_requires=[RecipeReference.loads(locked_base)] if locked_base else None)
            graph, _ = self._graph_with_reachable_remotes(refs, conf, options, ["missing"] if build_missing else None,
                                                          lockfile=seeded if locked_refs else None)
            lockfile = self.api.lockfile.update_lockfile(None, graph)
            self.api.lockfile.save_lockfile(lockfile, str(lockfile_path))
            packages: dict[str, PlannedPackage] = {}
            for node in _dependencies_first(graph):
                action = _ACTIONS.get(node.binary)
                if action is None:
                    raise EngineError(f"{node.ref}: Conan cannot provide a binary ({node.binary})")
                label = _label(node)
                if getattr(node.conanfile, "no_copy_source", False):
                    self._shared_source.add(node.ref.repr_notime())
                if action == DOWNLOAD:
                    self._remote_revisions[(node.ref.repr_notime(), node.package_id)] = node.prev
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
                    remote=node.binary_remote.name if action == DOWNLOAD and node.binary_remote else None,
                )
        return Plan(packages)

    def build_command(self, package: PlannedPackage, conf: list[str]) -> list[str]:
        """A ``conan install`` of one package from the plan: builds it, or downloads it from the
        remote the plan found it on (and from no other: an unreachable remote is never retried)."""
        command = [sys.executable, "-m", "conans.conan", "install", f"--requires={package.ref}",
                   f"--lockfile={package.lockfile}", f"--build=missing:{package.name}/{package.version}",
                   "-pr:h", "default", "-pr:b", "build",
                   # Conan writes env scripts for the consumer: into the home, not the caller's directory.
                   f"--output-folder={self.home.parent / 'state' / 'generated'}"]
        command += ["-r", package.remote] if package.remote else ["--no-remote"]
        for item in conf:
            command += ["-c", item]
        for item in package.options:
            command += ["-o", item]
        return command

    def download_command(self, packages: list[PlannedPackage], list_path: Path, parallel: int) -> list[str]:
        """One `conan download` of packages the plan found on one remote, ``parallel`` at a time:
        exactly the package revisions planned, no graph to resolve, no dependency order (a
        binary needs nothing else present to be downloaded). Writes the package list it reads."""
        from conan.api.model import MultiPackagesList, PackagesList, PkgReference, RecipeReference

        [remote] = {package.remote for package in packages}
        selected = PackagesList()
        for package in packages:
            ref = RecipeReference.loads(package.ref)
            selected.add_ref(ref)
            selected.add_pref(PkgReference(ref, package.package_id,
                                           self._remote_revisions[(package.ref, package.package_id)]))
        lists = MultiPackagesList()
        lists.add(remote, selected)
        list_path.write_text(json.dumps(lists.serialize(), indent=1))
        return [sys.executable, "-m", "conans.conan", "download", f"--list={list_path}", "-r", remote,
                "-c", f"core.download:parallel={max(1, parallel)}"]

    def source_ready(self, ref: str):
        """For the scheduler: a check that Conan's source folder of ``ref`` is complete (source()
        has run), after which another build of the recipe may start beside the one that filled it:
        each build copies it into its own build folder. None (never side by side) for a recipe that
        builds in that shared folder (no_copy_source)."""
        from conan.api.model import RecipeReference
        from conan.internal.cache.conan_reference_layout import EXPORT_FOLDER, SRC_FOLDER

        if ref in self._shared_source:
            return None
        with self._quiet():  # source_path() would refuse a folder that does not exist yet
            export = self.api.cache.export_path(RecipeReference.loads(ref))
        assert os.path.basename(export) == EXPORT_FOLDER
        folder = os.path.join(os.path.dirname(export), SRC_FOLDER)  # Conan's recipe layout: e/, s/, ...
        dirty = os.path.normpath(folder) + ".dirty"  # Conan marks a folder being written this way
        return lambda: os.path.isdir(folder) and not os.path.exists(dirty)

    def build_env(self) -> dict[str, str]:
        return {**os.environ, "CONAN_HOME": str(self.home)}

    # -- results ------------------------------------------------------------------------------
    def installed(self, refs: list[str], conf: list[str], options: list[str], lockfile_path: Path) -> list[InstalledPackage]:
        """Package folders and published environment, once everything is in the cache."""
        with self._quiet():
            lockfile = self.api.lockfile.get_lockfile(lockfile=str(lockfile_path), partial=True)
            graph, remotes = self._graph(refs, conf, options, None, lockfile=lockfile, remotes=[])
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

    def remove_build_folder(self, package: PlannedPackage) -> None:
        """A built package's build folder (an OCaml tree is ~0.5 GB) is not needed once the package
        exists: removed now, beside the builds still running, rather than all at the end (where
        it was the install's last tens of seconds on a busy machine). Never temporary folders:
        those of the running builds are among them."""
        from conan.api.model import ListPattern

        with self._verify_lock, self._quiet():  # jobs finish on several threads
            listing = self.api.list.select(ListPattern(f"{package.ref}:{package.package_id}"))
            self.api.cache.clean(listing, source=False, build=True, download=False, temp=False)

    # -- downloaded packages ------------------------------------------------------------------
    def verify_download(self, package: PlannedPackage) -> None:
        """Refuse a package whose files do not match its manifest, or whose manifest does not
        hash to its package revision: Conan unpacks downloads without checking either. A refused
        package is removed from the cache, so nothing ever uses it."""
        from conan.api.model import ListPattern
        from conan.internal.model.manifest import FileTreeManifest

        with self._verify_lock, self._quiet():  # jobs finish on several threads
            listing = self.api.list.select(ListPattern(f"{package.ref}:{package.package_id}"))
            prefs = [pref for _, packages in listing.items() for pref in packages]
            problem = None if prefs else "it is not in the cache after the download"
            if prefs and any(True for _ in self.api.cache.check_integrity(listing, return_pkg_list=True).items()):
                problem = "its files do not match its manifest"
            for pref in prefs:
                if not problem and FileTreeManifest.load(self.api.cache.package_path(pref)).summary_hash != pref.revision:
                    problem = f"its manifest does not hash to its revision {pref.revision}"
            if problem:
                for pref in prefs:
                    self.api.remove.package(pref)
        if problem:
            raise RemoteError(
                f"refused {package.label} ({package.ref}:{package.package_id}) from remote {package.remote}: "
                f"{problem}; it was not installed",
                f"the copy on {package.remote} is damaged: push a good build again "
                f"(`uktoolchain push {package.remote} TARGET --force`), or install with --no-remote to build it here",
            )

    # -- remotes ------------------------------------------------------------------------------
    def remote_add(self, name: str, url: str, force: bool) -> None:
        from conan.api.model import Remote

        with self._quiet():
            if not force and name in {r.name for r in self.api.remotes.list(only_enabled=False)}:
                raise UsageError(f"a remote named {name} exists already",
                                  f"remove it first (`uktoolchain remote remove {name}`) or add with --force")
            self.api.remotes.add(Remote(name, url), force=force)

    def remote_list(self) -> list[dict]:
        """Each remote: name, url, enabled, and the user it is logged in as (never a token)."""
        with self._quiet():
            result = []
            for remote in self.api.remotes.list(only_enabled=False):
                info = self.api.remotes.user_info(remote)
                result.append({"name": remote.name, "url": remote.url, "enabled": not remote.disabled,
                               "user": info["user_name"] if info["authenticated"] else None})
        return result

    def remote_remove(self, name: str) -> None:
        with self._quiet():
            remote = self._remote(name)
            self.api.remotes.user_logout(remote)  # its token goes with it
            self.api.remotes.remove(name)

    def remote_login(self, name: str, user: str, password: str) -> None:
        """One authentication request: wrong credentials fail at once, never retried."""
        with self._quiet():
            remote = self._remote(name)
            with _remote_failures(remote, user):
                self.api.remotes.user_login(remote, user, password)

    def _remote(self, name: str):
        remotes = {r.name: r for r in self.api.remotes.list(only_enabled=False)}
        if name not in remotes:
            known = ", ".join(remotes) or "none"
            raise UnknownRemoteError(f"no remote named {name} (configured: {known})",
                                     f"add it with `uktoolchain remote add {name} URL`")
        return remotes[name]

    # -- upload -------------------------------------------------------------------------------
    def upload(self, remote_name: str, packages: list[tuple[str, str]], recipes: list[str], force: bool = False) -> dict:
        """Upload recipes and package binaries ("name/version#rrev", package_id) to a remote.

        Conan uploads each binary's manifest last and a server lists a package revision only once
        its manifest arrived: an interrupted upload leaves nothing visible, and the next one
        uploads what is missing. Returns counts. (Source archives: ``upload_sources_backup``.)"""
        from conan.api.model import ListPattern, PackagesList

        with self._quiet():
            remote = self._remote(remote_name)
            selected = PackagesList()
            for ref in recipes:
                selected.merge(self.api.list.select(ListPattern(ref, only_recipe=True)))
            for ref, package_id in packages:
                selected.merge(self.api.list.select(ListPattern(f"{ref}:{package_id}")))
            enabled = [r for r in self.api.remotes.list() if not r.disabled]
            try:
                with _remote_failures(remote):
                    self.api.upload.upload_full(selected, remote, enabled, check_integrity=True, force=force)
            except ConanException as exc:
                if "No space left" in str(exc):
                    raise
                raise RemoteError(f"uploading to remote {remote_name} failed: {_first_line(exc)}",
                                  f"rerun `uktoolchain push {remote_name}` to complete it; details in {self.log_path}") from exc
            sent = {"recipes": 0, "packages": 0}
            for ref, prefs in selected.items():
                sent["recipes"] += bool(selected.recipe_dict(ref).get("upload"))
                sent["packages"] += sum(bool(selected.package_dict(p).get("upload")) for p in prefs)
        return sent

    def upload_sources_backup(self, recipes: list[str]) -> int:
        """Send the sources-backup folder's archives of these recipes to ``core.sources:upload_url``
        (the engine must have been made with it set); archives the server has are skipped."""
        from conan.api.model import ListPattern, PackagesList

        with self._quiet():
            url = self.api.config.get("core.sources:upload_url")
            selected = PackagesList()
            for ref in recipes:
                selected.merge(self.api.list.select(ListPattern(ref, only_recipe=True)))
            files = self.api.cache.get_backup_sources(selected, only_upload=False)
            try:
                self.api.upload.upload_backup_sources(files)
            except ConanException as exc:
                raise RemoteError(
                    f"the packages were pushed, but the sources-backup server {url} refused the source archives: "
                    f"{_first_line(exc)}",
                    "it must be a file store that takes HTTP PUT and GET (e.g. an Artifactory generic repository); "
                    "conan_server is not one: `uktoolchain remote add NAME URL --force` without --sources-backup",
                ) from exc
        return len([f for f in files if not f.endswith(".json")])

    def sources_backup_folder(self) -> Path:
        """Where Conan keeps source archives to upload to the sources-backup server (``s/``)."""
        from conan.internal.cache.home_paths import HomePaths

        configured = self.api.config.get("core.sources:download_cache")
        return Path(configured or HomePaths(str(self.home)).default_sources_backup_folder) / "s"

    def export_folder(self, ref: str) -> Path:
        from conan.api.model import RecipeReference

        with self._quiet():
            return Path(self.api.cache.export_path(RecipeReference.loads(ref)))

    # -- housekeeping -------------------------------------------------------------------------
    def remove_unused(self, keep: set[str], only: set[str] | None = None) -> list[str]:
        """Remove every package binary whose "name/version#rrev:package_id" is not in ``keep``
        (and, with ``only``, whose "name/version" is in it), then recipes left without binaries
        and temporary folders; return what was removed."""
        from conan.api.model import ListPattern

        removed = []
        with self._quiet():
            listing = self.api.list.select(ListPattern("*/*#*:*", rrev="*", prev="*"))
            for ref, packages in listing.items():
                if only is not None and f"{ref.name}/{ref.version}" not in only:
                    continue
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


class _Unreachable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@contextlib.contextmanager
def _remote_failures(remote, user: str | None = None):
    """Conan's remote errors as uktoolchain's: exit 7 with what to do, never Conan's traceback.
    An unreachable remote raises _Unreachable when ``remote`` is None (the planner decides)."""
    try:
        yield
    except ConanConnectionError as exc:
        reason = _connection_reason(exc)
        if remote is None:
            raise _Unreachable(reason) from exc
        raise RemoteError(f"remote {remote.name} ({remote.url}) is unreachable: {reason}",
                          "check the URL (`uktoolchain remote list`) and the network") from exc
    except AuthenticationException as exc:
        name = remote.name if remote is not None else _named_remote_text(str(exc)) or "a remote"
        if user is not None:
            raise RemoteError(f"remote {name} rejected the credentials of user {user}",
                              f"check the user and password, then `uktoolchain remote login {name}`") from exc
        raise _credentials_problem(name) from exc
    except ForbiddenException as exc:
        name = remote.name if remote is not None else "the remote"
        raise RemoteError(f"remote {name} refused this: the user has no permission ({_first_line(exc)})",
                          f"ask its administrator for write access, or log in as another user "
                          f"(`uktoolchain remote login {name} USER`)") from exc
    except ConanException as exc:
        text = str(exc)
        if "interactive mode disabled" not in text:
            raise
        # Conan would prompt (no token, or the credential variables were refused), and must not.
        name = remote.name if remote is not None else _named_remote_text(text) or "a remote"
        raise _credentials_problem(name) from exc


def _credentials_problem(name: str) -> RemoteError:
    user_var, password_var = credential_vars(name)
    if os.environ.get(user_var) and os.environ.get(password_var):
        return RemoteError(f"remote {name} rejected the credentials of user {os.environ[user_var]} "
                           f"(from {user_var} and {password_var})", "check both variables")
    return RemoteError(f"remote {name} needs credentials",
                       f"`uktoolchain remote login {name} USER`, or set {user_var} and {password_var}")


def _connection_reason(exc: Exception) -> str:
    """"Connection refused", "timed out", ... rather than urllib3's paragraph."""
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] ([^\"')]+)", text)
    if match:
        return match.group(1).strip()
    for phrase in ("timed out", "Name or service not known", "Connection refused", "Connection reset"):
        if phrase in text:
            return phrase
    return _first_line(exc)[:160]


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _named_remote(text: str, remotes) -> object | None:
    """The remote an error message names (by name, URL, or urllib3's "host='h', port=p")."""
    from urllib.parse import urlsplit

    for remote in remotes:
        parts = urlsplit(remote.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if f"'{remote.name}'" in text or remote.url in text or f"host='{parts.hostname}', port={port}" in text:
            return remote
    return None


def _named_remote_text(text: str) -> str | None:
    match = re.search(r"remote '([^']+)'", text)
    return match.group(1) if match else None


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
