"""Where the opt-in end-to-end tests find each toolchain set's sources on a machine without GitHub.

UKTOOLCHAIN_TEST_SOURCES names a directory with what no package registry has (see README, Tests);
UKTOOLCHAIN_TEST_OCAML_SOURCE (npm's OCaml 5.3.0) and UKTOOLCHAIN_TEST_MIRROR (Debian's origs of
findlib, dune 3.17.2 and OCaml 5.4.1, named by sha256) come from ci/fetch-local-sources.sh.
UKTOOLCHAIN_TEST_SETS chooses the sets to test (default: all of them, newest first).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SOURCES = Path(os.environ.get("UKTOOLCHAIN_TEST_SOURCES", "/nonexistent"))
OCAML_53 = os.environ.get("UKTOOLCHAIN_TEST_OCAML_SOURCE")
MIRROR = os.environ.get("UKTOOLCHAIN_TEST_MIRROR")
OCAML_541 = "b1e297adc186635540758eb064c7fab025598ae4436f3b9767e5025188b4e0ab"
SETS = [s for s in os.environ.get("UKTOOLCHAIN_TEST_SETS", "5.4,5.3").split(",") if s]


@dataclass(frozen=True)
class SetSources:
    toolset: str
    files: dict[str, Path]  # component -> local source
    needs: list[str] = field(default_factory=list)  # what is missing, for the skip reason

    @property
    def args(self) -> list[str]:
        return [a for c, p in self.files.items() for a in ("--source", f"{c}={p}")]

    @property
    def env(self) -> dict[str, str]:
        return {"UKTOOLCHAIN_SOURCE_MIRROR": MIRROR or "", "UKTOOLCHAIN_OCAML": self.toolset}


def _first(pattern: str) -> Path | None:
    found = sorted(SOURCES.glob(pattern)) if SOURCES.is_dir() else []
    return found[0] if found else None


def sources_of(toolset: str) -> SetSources:
    files: dict[str, Path | None] = {"solo5": _first("solo5-v0.12.1.tar.gz")}
    needs = []
    if toolset == "5.3":
        files["ocaml"] = Path(OCAML_53) if OCAML_53 else None
        files["ocaml-solo5"] = _first("ocaml-solo5-1.2.0.tar.gz")
    elif toolset == "5.4":
        files["ocaml-solo5"] = _first("ocaml-solo5-1.3.2.tar.gz")
        files["dune"] = _first("dune-3.24.2*.tar.gz")
        if not (MIRROR and (Path(MIRROR) / OCAML_541).is_file()):
            needs.append("OCaml 5.4.1 in UKTOOLCHAIN_TEST_MIRROR")
    else:
        needs.append(f"sources of set {toolset} (this test knows 5.4 and 5.3)")
    needs += [f"{component} in UKTOOLCHAIN_TEST_SOURCES" for component, path in files.items() if path is None]
    if not MIRROR:
        needs.append("UKTOOLCHAIN_TEST_MIRROR")
    return SetSources(toolset, {c: p for c, p in files.items() if p is not None}, needs)
