"""User configuration: ``<home>/config.toml`` plus environment variables.

    [sources]              # permanent local-source overrides, like --source NAME=PATH
    ocaml = "~/src/ocaml-5.3.0.tar.gz"

    [mirrors]              # directories of archives named by checksum, tried before any URL
    dirs = ["/srv/uktoolchain-mirror"]

``UKTOOLCHAIN_SOURCE_MIRROR`` (os.pathsep-separated) adds mirror directories in front.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from uktoolchain.errors import ConfigError
from uktoolchain.sources import mirror_dirs_from


# What config.toml may hold; anything else is named in a warning (a typo must not go unnoticed).
KNOWN_KEYS = {"sources": None, "mirrors": {"dirs"}}


class Config(NamedTuple):
    sources: dict[str, str]
    mirror_dirs: list[Path]
    warnings: tuple[str, ...] = ()  # for the CLI to print: unknown keys, which are ignored

    @classmethod
    def load(cls, path: Path) -> "Config":
        data: dict = {}
        if path.exists() or path.is_symlink():
            import tomllib  # only when there is a file: most homes have none

            try:
                data = tomllib.loads(path.read_bytes().decode("utf-8"))
            except OSError as exc:
                raise ConfigError(f"cannot read {path}: {exc.strerror or exc}",
                                  "make it a readable file, or remove it") from exc
            except UnicodeDecodeError as exc:
                raise ConfigError(f"cannot read {path}: not UTF-8 text (byte {exc.start})",
                                  "save it as UTF-8, or remove it") from exc
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"cannot read {path}: {exc}", "fix its TOML syntax, or remove it") from exc
        sources = data.get("sources", {})
        mirrors = data.get("mirrors", {})
        if not isinstance(sources, dict) or not isinstance(mirrors, dict) or not isinstance(mirrors.get("dirs", []), list):
            raise ConfigError(f"{path}: [sources] must be a table and [mirrors] dirs a list",
                              'e.g. [sources] ocaml = "~/ocaml-5.3.0.tar.gz" and [mirrors] dirs = ["/srv/mirror"]')
        return cls(
            sources={str(k): str(v) for k, v in sources.items()},
            mirror_dirs=mirror_dirs_from(os.environ.get("UKTOOLCHAIN_SOURCE_MIRROR"),
                                         [str(m) for m in mirrors.get("dirs", [])]),
            warnings=tuple(f"{path}: unknown key '{key}' is ignored (known: {known})"
                           for key, known in unknown_keys(data)),
        )


def unknown_keys(data: dict) -> list[tuple[str, str]]:
    """(dotted key, what is known at that level) for every key config.toml does not define."""
    found = []
    for key, value in data.items():
        if key not in KNOWN_KEYS:
            found.append((key, ", ".join(f"[{k}]" for k in KNOWN_KEYS)))
        elif KNOWN_KEYS[key] is not None and isinstance(value, dict):
            found += [(f"{key}.{sub}", ", ".join(sorted(KNOWN_KEYS[key]))) for sub in value if sub not in KNOWN_KEYS[key]]
    return found
