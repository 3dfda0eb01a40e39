"""The OCaml 5.4 set's host compiler, as far as package registries reach: OCaml 5.4.1 (Debian's
ocaml_5.4.1.orig.tar.xz, byte for byte the pinned upstream .tar.xz, served from a mirror directory
named by checksum) and ocamlfind 1.9.8 are built for real and used. dune 3.24.2 is in no registry:
with UKTOOLCHAIN_TEST_SOURCES holding dune-3.24.2*.tar.gz (e.g. a `git archive` of the tag) the
whole `unix` target of the set is built and dune is used too.

The index is the repository's own, plus one target with only the compiler and ocamlfind (a
catalogue entry is data: nothing else changes)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import shell_with_env

REPO = Path(__file__).resolve().parents[2]
MIRROR = os.environ.get("UKTOOLCHAIN_TEST_MIRROR")
OCAML_541 = "b1e297adc186635540758eb064c7fab025598ae4436f3b9767e5025188b4e0ab"
SOURCES = Path(os.environ.get("UKTOOLCHAIN_TEST_SOURCES", "/nonexistent"))
DUNE = next(iter(sorted(SOURCES.glob("dune-3.24.2*.tar.gz"))), None) if SOURCES.is_dir() else None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (MIRROR and (Path(MIRROR) / OCAML_541).is_file()),
                       reason="UKTOOLCHAIN_TEST_MIRROR has no OCaml 5.4.1 source (sha256 b1e297ad...): "
                       "ci/fetch-local-sources.sh puts Debian's ocaml_5.4.1.orig.tar.xz there while sid serves it"),
]

PROGRAM = """\
let () =
  Printf.printf "%s %d %s\\n" Sys.ocaml_version (String.edit_distance "kitten" "sitting")
    (Str.global_replace (Str.regexp "5") "five" "5.4")
"""


@pytest.fixture
def index(tmp_path, monkeypatch):
    root = tmp_path / "index"
    shutil.copytree(REPO / "recipes", root / "recipes", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "patches", root / "patches")
    shutil.copytree(REPO / "boards", root / "boards")
    catalogue = root / "recipes" / "targets.toml"
    catalogue.write_text(catalogue.read_text() + '\n[targets.compiler]\ndescription = "ocaml and ocamlfind"\n'
                         'components = ["ocaml", "ocamlfind"]\n')
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))
    return root


def test_ocaml_541_and_ocamlfind_build_and_compile_54_code(uk, index, tmp_path):
    result = uk("install", "compiler", "--ocaml", "5.4", "--plain", env={"UKTOOLCHAIN_SOURCE_MIRROR": MIRROR},
                timeout=3600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "built ocaml, ocamlfind" in result.stderr and "with OCaml set 5.4 (--ocaml)" in result.stderr
    assert "using local source" not in result.stderr  # the pinned upstream archive, from the mirror
    script = uk("env", "compiler", "--ocaml", "5.4", check=True).stdout
    (tmp_path / "t.ml").write_text(PROGRAM)
    ran = shell_with_env(script, f"cd {tmp_path} && ocamlfind ocamlopt -package str -linkpkg t.ml -o t && ./t")
    assert ran.stdout.strip() == "5.4.1 3 five.4", ran.stdout + ran.stderr
    toplevel = shell_with_env(script, "echo 'print_string Sys.ocaml_version;;' | ocaml -stdin")
    assert toplevel.stdout.strip() == "5.4.1", toplevel.stderr  # bytecode: its #! finds ocamlrun


@pytest.mark.skipif(DUNE is None, reason="set UKTOOLCHAIN_TEST_SOURCES to a directory with dune-3.24.2*.tar.gz "
                    "(dune 3.24 is in no package registry)")
def test_the_54_sets_unix_target_with_dune(uk, index, tmp_path):
    result = uk("install", "unix", "--ocaml", "5.4", "--plain", "--source", f"dune={DUNE}",
                env={"UKTOOLCHAIN_SOURCE_MIRROR": MIRROR}, timeout=3600)
    assert result.returncode == 0, result.stderr[-4000:]
    project = tmp_path / "proj"
    (project / "bin").mkdir(parents=True)
    # lwt 6 and mirage-runtime 4.11 need (lang dune 3.18) and dune >= 3.22.
    (project / "dune-project").write_text("(lang dune 3.22)\n")
    (project / "bin" / "dune").write_text("(executable (name t) (libraries str))\n")
    (project / "bin" / "t.ml").write_text(PROGRAM)
    script = uk("env", "unix", "--ocaml", "5.4", check=True).stdout
    ran = shell_with_env(script, f"dune --version && cd {project} && dune build 2>&1 && ./_build/default/bin/t.exe")
    assert ran.stdout.split() == ["3.24.2", "5.4.1", "3", "five.4"], ran.stdout + ran.stderr
