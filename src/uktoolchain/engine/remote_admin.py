"""The remotes a home shares toolchains through: add, list, remove, log in. Conan keeps the
remotes (its remotes.json) and tokens (its database); uktoolchain keeps each remote's optional
sources-backup server beside them (engine/remotes.py). Conan is imported only when one is called."""
from __future__ import annotations

from dataclasses import dataclass

from uktoolchain.engine import conan_home
from uktoolchain.engine.remotes import RemoteSettings
from uktoolchain.home import Home
from uktoolchain.targets import Catalogue


@dataclass(frozen=True)
class RemoteStatus:
    name: str
    url: str
    enabled: bool
    user: str | None  # who it is logged in as (a token is never read out)
    sources_backup: str | None


def _engine(home: Home, catalogue: Catalogue):
    """The Conan engine on a prepared home (a home without remotes.json would get ConanCenter)."""
    home.ensure_writable()
    conan_home.prepare(home.conan, catalogue, RemoteSettings.load(home.state).backup_urls())
    from uktoolchain.engine.conan_adapter import ConanEngine  # the slow import, only now

    return ConanEngine(home.conan, home.logs / "engine.log")


def add(home: Home, catalogue: Catalogue, name: str, url: str, sources_backup: str | None, force: bool) -> None:
    """Add (with ``force``: replace) a remote; its sources-backup server is set or cleared with it."""
    _engine(home, catalogue).remote_add(name, url, force)
    settings = RemoteSettings.load(home.state)
    settings.sources_backup.pop(name, None)
    if sources_backup:
        settings.sources_backup[name] = sources_backup
    settings.save()


def statuses(home: Home, catalogue: Catalogue) -> list[RemoteStatus]:
    settings = RemoteSettings.load(home.state)
    return [RemoteStatus(r["name"], r["url"], r["enabled"], r["user"], settings.sources_backup.get(r["name"]))
            for r in _engine(home, catalogue).remote_list()]


def remove(home: Home, catalogue: Catalogue, name: str) -> None:
    """Remove a remote, its token and its sources-backup setting."""
    _engine(home, catalogue).remote_remove(name)
    settings = RemoteSettings.load(home.state)
    if settings.sources_backup.pop(name, None) is not None:
        settings.save()


def login(home: Home, catalogue: Catalogue, name: str, user: str, password: str) -> None:
    _engine(home, catalogue).remote_login(name, user, password)
