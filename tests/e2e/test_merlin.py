"""Editor support end to end: merlin built by the toolchain's own OCaml answers an editor's
questions (type-enclosing, complete-prefix) about a dune project, with the answers checked.

CI (slow): the OCaml 5.3 set's merlin 5.4.1-503 and what builds it, from Debian's source packages
(ci/fetch-editor-sources.sh: UKTOOLCHAIN_TEST_EDITOR_SOURCES, a directory with the three local
sources; cppo and csexp come from the mirror, UKTOOLCHAIN_TEST_MIRROR), installed with the host
toolchain (`unix --with editor`), asked about a project in the default context.

Opt-in, the same on the OCaml 5.4 set: merlin 5.7.1-504 and dune 3.24.2 are reachable only as
repository snapshots, so UKTOOLCHAIN_TEST_MERLIN504 names merlin's tree (or a tarball of it, e.g. a
`git archive` of the v5.7.1-504 tag) and UKTOOLCHAIN_TEST_SOURCES holds dune-3.24.2*.tar.gz;
OCaml 5.4.1 comes from the mirror (Debian's orig, ci/fetch-local-sources.sh). The sets tested are
UKTOOLCHAIN_TEST_SETS's (default: all), their toolchain sources as set_sources.py finds them.

Opt-in, per set: with UKTOOLCHAIN_TEST_SOURCES as in test_unikernel_targets (Solo5 and
ocaml-solo5), `spt --with editor` joins the same home (merlin is not built again), `uktoolchain
workspace spt` marks the spt context (merlin), and merlin answers from that context: the cross
compiler's stdlib and a library that only the solo5 findlib toolchain has (installed there with
`ocamlfind -toolchain solo5 install`), which the default context cannot see.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import Runner, shell_with_env
from uktoolchain import doctor

from set_sources import SETS, sources_of

EDITOR_SOURCES = Path(os.environ.get("UKTOOLCHAIN_TEST_EDITOR_SOURCES", "/nonexistent"))
MERLIN504 = os.environ.get("UKTOOLCHAIN_TEST_MERLIN504")
# Per set: merlin's version and the local sources of the editor extra (the host toolchain's and
# Solo5's come from set_sources).
EDITOR = {
    "5.3": {"merlin": "5.4.1-503",
            "files": {"merlin": EDITOR_SOURCES / "ocaml-merlin_5.4.1-503+ds.orig.tar.xz",
                      "menhir": EDITOR_SOURCES / "menhir_20240715+ds.orig.tar.xz",
                      "yojson": EDITOR_SOURCES / "yojson_2.0.2.orig.tar.gz"}},
    "5.4": {"merlin": "5.7.1-504",
            "files": {"merlin": Path(MERLIN504) if MERLIN504 else None,
                      "menhir": EDITOR_SOURCES / "menhir_20240715+ds.orig.tar.xz",
                      "yojson": EDITOR_SOURCES / "yojson_2.0.2.orig.tar.gz"}},
}
HOST = ("ocaml", "dune")  # what `unix` may need besides the mirror (npm's OCaml 5.3, dune 3.24.2)
SOLO5 = ("solo5", "ocaml-solo5")


def lacking(toolset: str, solo5: bool = False) -> str | None:
    """Why a set's editor test cannot run here (Solo5's sources only count for ``solo5``), or None."""
    if toolset not in EDITOR:
        return f"this test knows the editor sources of {', '.join(EDITOR)} only"
    needs = [n for n in sources_of(toolset).needs if solo5 or n.split(" ")[0] not in SOLO5]
    needs += [f"{c}'s source (" + ("UKTOOLCHAIN_TEST_MERLIN504: merlin 5.7.1-504's tree" if path is None
                                   else "UKTOOLCHAIN_TEST_EDITOR_SOURCES: ci/fetch-editor-sources.sh") + ")"
              for c, path in EDITOR[toolset]["files"].items() if not (path and path.exists())]
    return "lacks " + "; ".join(needs) if needs else None


pytestmark = pytest.mark.slow

MAIN_ML = """\
let greeting = Str.global_replace (Str.regexp "world") "editor" "hello world"
let () = print_endline greeting
let () = assert (Uk_answer.answer = 42)
"""
ANSWER_ML = "let answer = 42\nlet describe n = Printf.sprintf \"%d\" n\n"


class Home:
    def __init__(self, root: Path, toolset: str):
        self.root, self.toolset = root, toolset
        self.merlin_version = EDITOR[toolset]["merlin"]
        self.uk = Runner()

    def __call__(self, *args: str, check: bool = False, timeout: float = 300):
        return self.uk(*args, env={"UKTOOLCHAIN_HOME": str(self.root), **sources_of(self.toolset).env},
                       check=check, timeout=timeout)

    def sources(self, solo5: bool = False) -> list[str]:
        toolchain = sources_of(self.toolset).files
        chosen = {c: p for c, p in toolchain.items() if c in HOST + (SOLO5 if solo5 else ())}
        chosen.update(EDITOR[self.toolset]["files"])
        return [arg for c, path in chosen.items() for arg in ("--source", f"{c}={path}")]


@pytest.fixture(scope="module", params=SETS)
def home(request, tmp_path_factory):
    why = lacking(request.param)
    if why:
        pytest.skip(f"OCaml {request.param} set: {why}")
    state = Home(tmp_path_factory.mktemp(f"editor{request.param}") / "home", request.param)
    if request.param == "5.3":  # the host toolchain that test_host_toolchain builds too: built once
        request.getfixturevalue("unix53").copy_to(state.root)
    result = state("install", "unix", "--with", "editor", "--plain", *state.sources(), timeout=3600)
    assert result.returncode == 0, result.stderr[-4000:]
    for component in ("cppo", "csexp", "yojson", "menhir", "merlin"):
        assert f"{component}: done" in result.stderr, result.stderr[-3000:]
    yield state


def merlin(env_script: str, project: Path, command: str, file: str, *args: str):
    """The value of `ocamlmerlin single COMMAND` on FILE (read from the project), as an editor
    asks it: the buffer on stdin, the project's configuration from dune."""
    line = f"cd {project} && ocamlmerlin single {command} {shlex.join(args)} -filename {file} < {file}"
    ran = shell_with_env(env_script, line)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    answer = json.loads(ran.stdout)
    assert answer["class"] == "return", answer
    return answer["value"]


def write_project(root: Path, answer_library: str = "uk_answer", context_check: str | None = None) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "lib").mkdir()
    (root / "dune-project").write_text("(lang dune 3.0)\n")
    (root / "lib" / "dune").write_text(f"(library (name {answer_library}))\n")
    (root / "lib" / f"{answer_library}.ml").write_text(ANSWER_ML)
    (root / "bin" / "dune").write_text(f"(executable (name main) (libraries str {answer_library}))\n")
    (root / "bin" / "main.ml").write_text(MAIN_ML)
    return root


def type_at(env_script: str, project: Path, file: str, position: str) -> str:
    return merlin(env_script, project, "type-enclosing", file, "-position", position)[0]["type"]


def completions(env_script: str, project: Path, file: str, position: str, prefix: str) -> dict[str, str]:
    value = merlin(env_script, project, "complete-prefix", file, "-position", position, "-prefix", prefix)
    return {entry["name"]: entry["desc"] for entry in value["entries"]}


def test_merlin_answers_about_a_host_project(home, tmp_path):
    script = home("env", "unix", check=True).stdout
    project = write_project(tmp_path / "proj")
    built = shell_with_env(script, f"cd {project} && dune build 2>&1 && ./_build/default/bin/main.exe")
    assert built.stdout.strip() == "hello editor", built.stdout + built.stderr

    found = shell_with_env(script, "command -v ocamlmerlin").stdout.strip()
    assert found.startswith(str(home.root)), found
    version = shell_with_env(script, "ocamlmerlin -version").stdout
    assert f"version {home.merlin_version}" in version, version
    assert type_at(script, project, "bin/main.ml", "2:25") == "string"  # `greeting` in print_endline greeting
    assert type_at(script, project, "bin/main.ml", "3:30") == "int"     # Uk_answer.answer, a project library
    entries = completions(script, project, "bin/main.ml", "1:30", "Str.global_")
    assert set(entries) == {"global_replace", "global_substitute"}, entries
    assert entries["global_replace"] == "Str.regexp -> string -> string -> string"
    entries = completions(script, project, "bin/main.ml", "3:32", "Uk_answer.")
    assert entries == {"answer": "int", "describe": "int -> string"}, entries


def test_editor_tools_are_relocatable_and_private(home):
    """What an editor runs names no folder of the machine that built it, and the libraries merlin
    was built with do not enter users' findlib path."""
    stamp = json.loads((home.root / "state" / "installed" / home.toolset / "unix.json").read_text())
    folders = {p["name"]: home.root / "conan" / p["folder"] for p in stamp["packages"]}
    assert {"merlin", "menhir", "yojson", "csexp", "cppo"} <= set(folders)
    marker = str(home.root).encode()
    leaking = [str(path) for name in ("merlin", "menhir", "yojson", "csexp", "cppo")
               for path in folders[name].rglob("*")
               if path.is_file() and not path.is_symlink() and marker in path.read_bytes()]
    assert not leaking, leaking
    values = json.loads(home("env", "unix", "--json", check=True).stdout)
    conf = Path(values["OCAMLFIND_CONF"]).read_text()
    assert str(folders["merlin"] / "bin") in values["PATH"]
    for private in ("menhir", "yojson", "csexp", "cppo"):
        assert str(folders[private]) not in values["PATH"] and str(folders[private]) not in conf, private

    report = home("doctor", "editor", check=True).stdout
    assert report.startswith(f"ok      editor support (ocamlmerlin): ocamlmerlin {home.merlin_version} "
                             f"(OCaml {home.toolset} set) for unix: {folders['merlin'] / 'bin' / 'ocamlmerlin'}"), report
    assert '"kind": "custom"' in report and "env unix" in report


def test_second_install_is_a_noop(home):
    result = home("install", "unix", "--plain", *home.sources())
    assert result.returncode == 0 and "up to date: unix" in result.stderr, result.stderr


solo5_missing = [c.name for c in doctor.run_checks(["libseccomp"]) if not c.ok]


def spt_project(home: Home, tmp_path: Path, extra: str = "editor", more: tuple[str, ...] = ()) -> tuple[str, Path]:
    """``spt --with EXTRA`` joined to the home (the editor tools are not built again), and a built
    project in the spt context of a `uktoolchain workspace spt` that uses a library only the solo5
    findlib toolchain has. Returns (the spt env script, the project)."""
    why = lacking(home.toolset, solo5=True)
    if why:
        pytest.skip(f"opt-in, OCaml {home.toolset} set: {why}")
    result = home("install", "spt", "--with", extra, "--plain", *home.sources(solo5=True), *more, timeout=3600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "merlin: done" not in result.stderr  # one merlin per host and set, shared with unix
    script = home("env", "spt", check=True).stdout

    # A library only the solo5 toolchain has: compiled by the cross compiler, installed into the
    # spt site directory of the solo5 findlib toolchain.
    lib = tmp_path / "ukcross"
    lib.mkdir()
    (lib / "ukcross.ml").write_text("let platform = \"solo5\"\nlet pages n = n * 4096\n")
    (lib / "META").write_text('version = "1"\narchive(native) = "ukcross.cmxa"\n')
    # A reused home (UKTOOLCHAIN_TEST_LSP_HOME) may have it from an earlier run.
    shell_with_env(script, "ocamlfind -toolchain solo5 remove ukcross")
    installed = shell_with_env(script, f"cd {lib} && ocamlfind -toolchain solo5 ocamlopt -a ukcross.ml "
                               "-o ukcross.cmxa && ocamlfind -toolchain solo5 install ukcross META ukcross.cmi "
                               "ukcross.cmx ukcross.cmxa ukcross.a 2>&1")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    hidden = shell_with_env(script, "ocamlfind query ukcross 2>&1")
    assert hidden.returncode != 0, hidden.stdout  # not in the host toolchain

    project = write_project(tmp_path / "uk")
    # A library: what merlin reads is the compiled interface, and a Solo5 executable would need
    # the unikernel's startup code besides.
    (project / "bin" / "dune").write_text("(library (name main) (libraries ukcross uk_answer)\n"
                                          " (enabled_if (= %{context_name} spt)))\n")
    (project / "bin" / "main.ml").write_text(
        'let () = print_endline Ukcross.platform\nlet () = assert (Ukcross.pages 2 = 8192)\n'
        'let () = assert (Uk_answer.answer = 42)\n')
    home("workspace", "spt", "-o", str(project / "dune-workspace"), check=True)
    assert "(merlin)" in (project / "dune-workspace").read_text()
    built = shell_with_env(script, f"cd {project} && dune build 2>&1")
    assert built.returncode == 0, built.stdout
    assert (project / "_build" / "spt" / "bin" / "main.cmxa").is_file()
    assert not (project / "_build" / "default" / "bin" / "main.cmxa").exists()
    return script, project


@pytest.mark.skipif(bool(solo5_missing), reason=f"host lacks {solo5_missing}")
def test_merlin_answers_from_the_spt_context(home, tmp_path):
    script, project = spt_project(home, tmp_path)
    assert type_at(script, project, "bin/main.ml", "2:27") == "int -> int"  # Ukcross.pages
    assert completions(script, project, "bin/main.ml", "1:30", "Ukcross.") == {"pages": "int -> int",
                                                                              "platform": "string"}
    assert type_at(script, project, "bin/main.ml", "3:30") == "int"  # Uk_answer.answer
    # merlin reads the spt context's configuration: the cross compiler's stdlib, the solo5
    # toolchain's library directory.
    config = merlin(script, project, "dump-configuration", "bin/main.ml")["merlin"]
    assert any(path.endswith("/spt/solo5/ukcross") for path in config["build_path"]), config["build_path"]
    stdlib = config["stdlib"]
    ocamlfind = shell_with_env(script, "ocamlfind -toolchain solo5 ocamlc -where").stdout.strip()
    assert stdlib and Path(stdlib).resolve() == Path(ocamlfind).resolve(), (stdlib, ocamlfind)
    host = subprocess.run(["sh", "-c", f"{script}\nocamlfind ocamlc -where"], capture_output=True, text=True).stdout
    assert Path(stdlib).resolve() != Path(host.strip()).resolve()
