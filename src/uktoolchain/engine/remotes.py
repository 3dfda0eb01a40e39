"""What uktoolchain itself remembers about remotes, without Conan: names and URLs are checked
here, and each remote's optional sources-backup server is kept in ``<home>/state/remotes.json``
(Conan's own remotes.json, in the Conan home, holds the remotes; its database holds tokens).

A sources-backup server is a plain HTTP file store (GET, HEAD, PUT of ``<url>/<checksum>``, e.g.
an Artifactory generic repository or a WebDAV directory). conan_server is not one: it serves only
Conan's own API.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from uktoolchain import atomic
from uktoolchain.errors import ConfigError, UsageError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(f"invalid remote name '{name}'",
                         "use letters, digits, '.', '_' or '-' (e.g. ci, team-cache)")
    return name


def check_url(url: str, what: str = "remote URL") -> str:
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"invalid {what} '{url}'", "give an http:// or https:// URL, e.g. http://cache.example:9300")
    return url.rstrip("/")


def credential_vars(name: str) -> tuple[str, str]:
    """The environment variables Conan reads a remote's user and password from (its rule)."""
    upper = name.replace("-", "_").upper()
    return f"CONAN_LOGIN_USERNAME_{upper}", f"CONAN_PASSWORD_{upper}"


@dataclass
class RemoteSettings:
    path: Path
    sources_backup: dict[str, str] = field(default_factory=dict)  # remote name -> backup URL

    @classmethod
    def load(cls, state_dir: Path) -> "RemoteSettings":
        path = state_dir / "remotes.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}", "fix or remove the file, then add the remotes again") from exc
        return cls(path, {str(k): str(v) for k, v in data.get("sources_backup", {}).items()})

    def save(self) -> None:
        atomic.write_text(self.path, json.dumps({"sources_backup": self.sources_backup}, indent=1, sort_keys=True) + "\n")

    def backup_urls(self) -> list[str]:
        """Every configured sources-backup URL, in a stable order."""
        return [self.sources_backup[name] for name in sorted(self.sources_backup)]
