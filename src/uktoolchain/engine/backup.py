"""Source archives for a sources-backup server, in the layout Conan's sources backup uses.

``push`` puts every source archive it has for the pushed recipes into Conan's sources-backup
folder: ``<checksum>`` (a hard link to the store's file) and ``<checksum>.json`` (which recipes
use it and its origin URLs). Conan's upload then sends both to ``core.sources:upload_url``, and
any machine finds them at ``<backup>/<checksum>`` when the origin URLs are gone.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from uktoolchain import atomic
from uktoolchain.sources import Checksum, SourceStore


@dataclass(frozen=True)
class BackupEntry:
    reference: str  # name/version, as Conan names the user of an archive
    checksum: Checksum
    urls: tuple[str, ...]


def entries_of(conandata: dict, name: str, version: str) -> list[BackupEntry]:
    """The pinned source of a recipe's conandata, if it has origin URLs (a local source has none)."""
    entry = (conandata.get("sources") or {}).get(version)
    if not entry:
        return []
    urls = entry.get("url") or []
    urls = (urls,) if isinstance(urls, str) else tuple(urls)
    return [BackupEntry(f"{name}/{version}", Checksum.of_entry(entry), urls)] if urls else []


def stage(entries: list[BackupEntry], store: SourceStore, folder: Path) -> tuple[list[str], list[str]]:
    """Put the archives the store has into ``folder``; return (staged, missing) references."""
    staged, missing = [], []
    for entry in entries:
        archive = store.path_for(entry.checksum.digest)
        if not archive.is_file():
            missing.append(entry.reference)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        blob = folder / entry.checksum.digest
        if not blob.is_file():
            temporary = folder / f".{entry.checksum.digest}.{os.getpid()}"
            try:
                os.link(archive, temporary)
            except OSError:  # another filesystem: copy
                shutil.copyfile(archive, temporary)
            os.replace(temporary, blob)
        summary_path = folder / f"{entry.checksum.digest}.json"
        try:
            summary = json.loads(summary_path.read_text())
        except (OSError, ValueError):
            summary = {"references": {}, "timestamp": time.time()}
        known = summary["references"].setdefault(entry.reference, [])
        known += [url for url in entry.urls if url not in known]
        atomic.write_text_if_changed(summary_path, json.dumps(summary))
        staged.append(entry.reference)
    return staged, missing
