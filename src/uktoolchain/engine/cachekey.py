"""A cache key for CI (``actions/cache``, GitLab ``cache:key``) — computed without Conan.

It hashes every input that shapes the targets' binaries, as listed by inputs.build_inputs (the
list the no-op fingerprint hashes too): uktoolchain's version, the host profile and Conan
settings uktoolchain writes, each target's entry in the catalogue, and for the recipe base and
every component its pinned version, recipe files and patches (conandata.yml pins the sources'
URLs and checksums) and the content of any local source. It contains no path, time or
machine-specific value (not even the number of CPUs, which does not change a binary), so two
machines of the same OS and architecture with the same inputs print the same key.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from uktoolchain.engine.inputs import build_inputs, digest_of
from uktoolchain.resources import RecipeIndex
from uktoolchain.sources import DigestMemo, file_digest
from uktoolchain.targets import Catalogue, Target, host_arch, host_os

KEY_FORMAT = 2  # 2: the inputs of engine/inputs.py


def cache_key(index: RecipeIndex, catalogue: Catalogue, targets: list[Target], overrides: dict[str, Path],
              memo: DigestMemo | None = None) -> str:
    """The targets' build inputs (inputs.build_inputs) with nothing of this machine: a local
    source enters by its content, wherever it lies; the host's Rust toolchain is left out (see
    stamps.fingerprint). ``memo``: where local sources' digests are kept between runs (see
    sources.DigestMemo)."""
    def local_source(component: str, path: Path) -> str:
        return memo.digest(path, "content", content_digest) if memo else content_digest(path)

    digest = digest_of(build_inputs(index, catalogue, targets, overrides, local_source))
    digest.update(f"key format {KEY_FORMAT}\n".encode())
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
