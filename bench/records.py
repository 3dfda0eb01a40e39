"""The installed-target records the benches read (state/installed/<set>/<target>.json)."""
from __future__ import annotations

import json
import os
from pathlib import Path


def installed_record(home: Path, target: str) -> dict:
    """The record of ``target`` in the set UKTOOLCHAIN_OCAML names, else in the one set it is
    installed for (several: set UKTOOLCHAIN_OCAML, as for uktoolchain itself)."""
    chosen = os.environ.get("UKTOOLCHAIN_OCAML")
    found = sorted((home / "state" / "installed").glob(f"*/{target}.json"))
    if chosen:
        found = [path for path in found if path.parent.name == chosen]
    if len(found) != 1:
        sets = ", ".join(path.parent.name for path in found) or "none"
        raise SystemExit(f"{target} in {home}: installed for {sets}; set UKTOOLCHAIN_OCAML to one set it is installed for")
    return json.loads(found[0].read_text())
