"""``push``: upload installed toolchains (recipes, package binaries and, when the remote has a
sources-backup server, their source archives) so other machines install them without building.

What is pushed is what the install stamps record, i.e. exactly the binaries the targets use here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import yaml

from uktoolchain.engine import backup, conan_home, state
from uktoolchain.engine.home_lock import home_lock
from uktoolchain.engine.remotes import RemoteSettings
from uktoolchain.errors import NotInstalledError
from uktoolchain.home import Home
from uktoolchain.resources import BASE_RECIPE
from uktoolchain.sources import SourceStore
from uktoolchain.targets import Catalogue


@dataclass(frozen=True)
class PushReport:
    targets: list[str]
    recipes: int  # uploaded now (those the remote had are skipped)
    packages: int
    sources_backed_up: list[str]  # name/version whose source archive went to the backup server
    sources_missing: list[str]  # name/version whose archive this home does not have
    sources_backup: str | None  # the backup URL, None when the remote has none


def installed_targets(home: Home, catalogue: Catalogue) -> list[str]:
    """The targets installed in the home's set."""
    return [name for name in catalogue.targets if state.read_present(home, name) is not None]


def push(home: Home, catalogue: Catalogue, remote: str, target_names: list[str], force: bool,
         say: Callable[[str], None]) -> PushReport:
    names = target_names or installed_targets(home, catalogue)
    if not names:
        raise NotInstalledError(f"nothing is installed in this home for OCaml set {home.toolset}, so there is nothing to push",
                                "install targets first (`uktoolchain install TARGET`)")
    packages: dict[tuple[str, str], str] = {}
    for name in names:
        record = state.read_present(home, name)
        if record is None:
            raise NotInstalledError(f"target {name} is not installed here for OCaml set {home.toolset}, "
                                    "so it cannot be pushed", f"run `uktoolchain install {name}` first")
        for package in record.packages:
            packages[(package.ref, package.package_id)] = package.name

    home.ensure_writable()
    with home_lock(home.lock_file, True, say):
        settings = RemoteSettings.load(home.state)
        upload_url = settings.sources_backup.get(remote)
        conan_home.prepare(home.conan, catalogue, settings.backup_urls())
        from uktoolchain.engine.conan_adapter import ConanEngine  # the slow import, only now

        engine = ConanEngine(home.conan, home.logs / "engine.log")
        refs = sorted({ref for ref, _ in packages})
        sent = engine.upload(remote, sorted(packages), refs + [f"{BASE_RECIPE}/*"], force=force)
        staged: list[str] = []
        missing: list[str] = []
        if upload_url:
            entries = []
            for ref in refs:
                name, version = ref.split("#", 1)[0].split("/", 1)
                conandata = yaml.safe_load((engine.export_folder(ref) / "conandata.yml").read_text()) or {}
                entries += backup.entries_of(conandata, name, version)
            staged, missing = backup.stage(entries, SourceStore(home.sources), engine.sources_backup_folder())
            # Conan reads core.sources:upload_url when it starts: a second engine, with it set.
            conan_home.prepare(home.conan, catalogue, settings.backup_urls(), upload_url)
            try:
                ConanEngine(home.conan, home.logs / "engine.log").upload_sources_backup(refs)
            finally:
                conan_home.prepare(home.conan, catalogue, settings.backup_urls())
    return PushReport(names, sent["recipes"], sent["packages"], staged, missing, upload_url)
