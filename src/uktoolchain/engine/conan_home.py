"""The private CONAN_HOME: written by uktoolchain, never the user's ~/.conan2.

Written without importing Conan (plain files Conan reads at start-up); rewritten only when the
content changes, so the files' mtimes stay stable for the no-op check.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from uktoolchain import atomic
from uktoolchain.targets import Catalogue, host_arch, host_os

GLOBAL_CONF = """\
# Written by uktoolchain; changes are overwritten.
core:non_interactive=True
core.download:retry=2
core.download:retry_wait=1
core.upload:retry=2
core.upload:retry_wait=1
# Toolchains are hundreds of MB: level 1 uploads ~15x faster than the default 9 for ~10% more bytes.
core.gzip:compresslevel=1
tools.build:jobs={jobs}
"""


def profile_text(os_name: str, arch: str) -> str:
    return f"[settings]\nos={os_name}\narch={arch}\n"


def settings_user_text(catalogue: Catalogue) -> str:
    """Settings for unikernel host profiles: the OS is Solo5 or bare metal on a board."""
    boards = sorted({t.board for t in catalogue.targets.values() if t.board})
    lines = ["# Written by uktoolchain from its target catalogue.", "os:", "  Solo5:"]
    if boards:
        lines += ["  Baremetal:", f"    board: [{', '.join(boards)}]"]
    return "\n".join(lines) + "\n"


def sources_backup_conf(backup_urls: list[str], upload_url: str | None) -> str:
    """Conan's sources backup: archives are looked up at their pinned URLs ("origin") first, then
    at ``<backup>/<checksum>``; ``upload_url`` is where ``push`` sends them."""
    lines = []
    if backup_urls:
        lines.append(f"core.sources:download_urls={['origin'] + [u.rstrip('/') + '/' for u in backup_urls]!r}")
    if upload_url:
        lines.append(f"core.sources:upload_url={upload_url.rstrip('/')}/")
    return "".join(line + "\n" for line in lines)


def prepare(conan_home: Path, catalogue: Catalogue, backup_urls: list[str] = (), upload_url: str | None = None) -> None:
    conan_home.mkdir(parents=True, exist_ok=True)
    profile = profile_text(host_os(), host_arch())
    files = {
        "global.conf": GLOBAL_CONF.format(jobs=os.cpu_count() or 1) + sources_backup_conf(list(backup_urls), upload_url),
        "settings_user.yml": settings_user_text(catalogue),
        "profiles/default": profile,
        "profiles/build": profile,
    }
    for relative, content in files.items():
        atomic.write_text_if_changed(conan_home / relative, content)
    remotes = conan_home / "remotes.json"
    if not remotes.exists():
        # Without this file Conan adds ConanCenter; uktoolchain uses only remotes the user adds.
        atomic.write_text(remotes, json.dumps({"remotes": []}, indent=2))
