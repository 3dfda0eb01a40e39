"""User configuration: ``<home>/config.toml`` plus environment variables.

    [sources]              # permanent local-source overrides, like --source NAME=PATH
    ocaml = "~/src/ocaml-5.3.0.tar.gz"

    [mirrors]              # directories of archives named by checksum, tried before any URL
    dirs = ["/srv/uktoolchain-mirror"]

``UKTOOLCHAIN_SOURCE_MIRROR`` (os.pathsep-separated) adds mirror directories in front.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from uktoolchain.errors import ConfigError
from uktoolchain.sources import mirror_dirs_from


@dataclass(frozen=True)
class Config:
    sources: dict[str, str] = field(default_factory=dict)
    mirror_dirs: list[Path] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> "Config":
        data: dict = {}
        if path.is_file():
            import tomllib  # only when there is a file: most homes have none

            try:
                data = tomllib.loads(path.read_text())
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"cannot read {path}: {exc}", "fix or remove the file") from exc
        sources = data.get("sources", {})
        mirrors = data.get("mirrors", {}).get("dirs", [])
        if not isinstance(sources, dict) or not isinstance(mirrors, list):
            raise ConfigError(f"{path}: [sources] must be a table and [mirrors] dirs a list")
        return cls(
            sources={str(k): str(v) for k, v in sources.items()},
            mirror_dirs=mirror_dirs_from(os.environ.get("UKTOOLCHAIN_SOURCE_MIRROR"), [str(m) for m in mirrors]),
        )
