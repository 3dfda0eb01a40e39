"""A cache key for CI (``actions/cache``, GitLab ``cache:key``) — computed without Conan.

It hashes every input that shapes the targets' binaries: uktoolchain's version, the host profile
and Conan settings uktoolchain writes, each target's entry in the catalogue, and for the recipe
base and every component its pinned version, recipe files and patches (conandata.yml pins the
sources' URLs and checksums) and the content of any local source. It contains no path, time or
machine-specific value (not even the number of CPUs, which does not change a binary), so two
machines of the same OS and architecture with the same inputs print the same key.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from uktoolchain import __version__
from uktoolchain.engine.conan_home import GLOBAL_CONF, profile_text, settings_user_text
from uktoolchain.resources import BASE_RECIPE, RecipeIndex
from uktoolchain.sources import DigestMemo, file_digest
from uktoolchain.targets import Catalogue, Target, host_arch, host_os

KEY_FORMAT = 1


def cache_key(index: RecipeIndex, catalogue: Catalogue, targets: list[Target], overrides: dict[str, Path],
              memo: DigestMemo | None = None) -> str:
    """``memo``: where local sources' digests are kept between runs (see sources.DigestMemo)."""
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update(("\0".join(str(p) for p in parts) + "\n").encode())

    add("uktoolchain", __version__, KEY_FORMAT, "set", catalogue.toolset)
    portable_conf = "".join(line + "\n" for line in GLOBAL_CONF.splitlines() if not line.startswith("tools.build:jobs"))
    add("profile", profile_text(host_os(), host_arch()), settings_user_text(catalogue), portable_conf)
    components: set[str] = {BASE_RECIPE}
    for target in sorted(targets, key=lambda t: t.name):
        add("target", target.name, target.arch, target.binding, target.board, target.components, target.host_components)
        components.update(target.components, target.host_components)
    for component in sorted(components):
        add("component", component, catalogue.versions.get(component, ""), component in catalogue.per_arch)
        for path in index.inputs_of(component):
            add(path.relative_to(index.root).as_posix(), hashlib.sha256(path.read_bytes()).hexdigest())
        if component in overrides:
            source = overrides[component]
            add("local source", component,
                memo.digest(source, "content", content_digest) if memo else content_digest(source))
    return f"uktoolchain-{host_os().lower()}-{host_arch()}-{digest.hexdigest()[:40]}"


def content_digest(path: Path) -> str:
    """A local source by content, wherever it lies: a file's sha256, or a tree's (names, exec
    bits and file contents; .git left out, as when it is staged)."""
    if path.is_file():
        return file_digest(path)
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            entry = Path(dirpath) / name
            relative = entry.relative_to(path).as_posix()
            if entry.is_symlink():
                digest.update(f"link {relative} {os.readlink(entry)}\n".encode())
            elif entry.is_file():
                executable = os.access(entry, os.X_OK)
                digest.update(f"file {relative} {int(executable)} {file_digest(entry)}\n".encode())
    return digest.hexdigest()
