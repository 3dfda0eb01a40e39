"""TOML files read on the fast paths (the target catalogue), parsed once and kept as JSON.

Importing tomllib (with the typing and datetime modules it imports) and parsing the catalogue
cost more than the rest of a no-op install's own work; json is imported anyway. The JSON copy is
keyed by the file's stat results (inode, size, mtime) and kept only for a file last modified more
than SETTLED seconds before it was read: a rewrite within one tick of the file system's clock
keeps its mtime, and must not be taken for unchanged.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

SETTLED = 2.0


def load(path: Path, cache_dir: Path | None = None) -> dict:
    """``tomllib.loads(path.read_text())``, from the JSON copy in ``cache_dir`` while it holds.
    Raises OSError, or ValueError (tomllib.TOMLDecodeError) for a file that is not valid TOML."""
    st = os.stat(path)
    key = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    copy = cache_dir / (str(path.absolute()).strip("/").replace("/", "%") + ".json") if cache_dir else None
    if copy is not None:
        try:
            kept = json.loads(copy.read_text())
            if kept["path"] == str(path.absolute()) and kept["stat"] == key:
                return kept["data"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    import tomllib

    data = tomllib.loads(path.read_text())
    if copy is not None and time.time() - st.st_mtime > SETTLED:
        try:
            from uktoolchain import atomic

            atomic.write_text(copy, json.dumps({"path": str(path.absolute()), "stat": key, "data": data}))
        except (OSError, TypeError, ValueError):  # a read-only home, or values JSON cannot hold
            pass
    return data
