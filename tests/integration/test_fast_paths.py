"""The paths that must answer in milliseconds load none of the heavy libraries: a no-op install
(also with a local source), env in its three forms, and cache-key. (Their speed itself is measured
by bench/noop_install.py, side by side with `python -c pass` and `conan install`.)"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import synthetic

HEAVY = ("conan", "conans", "rich", "requests", "yaml", "urllib3")
# Slow to import, and not needed while the target catalogue's parsed copy holds and a local
# source is a plain or gzipped tar: each would add milliseconds to every call.
SLOW = ("tomllib", "tarfile")
# Our own modules that only reading or booting an image needs.
OURS = ("uktoolchain.elf",)


def _loaded_by(commands: list[list[str]]) -> dict:
    probe = (
        "import json, sys\n"
        "from uktoolchain.cli.main import main\n"
        f"codes = [main(argv) for argv in {commands!r}]\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY + SLOW!r} or m in {OURS!r})\n"
        "print(json.dumps({'codes': codes, 'heavy': heavy}), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_noop_install_and_env_load_no_heavy_library(uk, index, tmp_path):
    local = tmp_path / "alpha.tar.gz"
    local.write_bytes(synthetic.make_tarball("alpha", "local alpha"))
    settled = time.time() - 60  # as a source and a catalogue usually are: the parsed copy is kept
    for path in (local, index / "recipes" / "targets.toml"):
        os.utime(path, (settled, settled))
    # Both from the local alpha: the plain `install tiny` below then uses the one recorded at install.
    uk("install", "tiny", "--plain", "--source", f"alpha={local}", check=True)
    uk("install", "solo", "--plain", "--source", f"alpha={local}", check=True)
    seen = _loaded_by([["install", "tiny"], ["install", "solo", "--source", f"alpha={local}"],
                       ["env", "tiny"], ["env", "tiny", "--json"], ["env", "tiny", "--shell", "fish"],
                       ["cache-key", "tiny", "--source", f"alpha={local}"]])
    assert seen == {"codes": [0] * 6, "heavy": []}
