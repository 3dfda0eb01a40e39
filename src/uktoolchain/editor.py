"""What an editor needs from the installed toolchains (``uktoolchain doctor editor``).

Targets installed ``--with editor`` have ``ocamlmerlin`` built by their own OCaml (merlin must
match the compiler exactly); ``--with lsp`` adds ``ocamllsp`` (ocaml-lsp-server), built against
that merlin. Editors find them on PATH in an environment made by ``uktoolchain env TARGET``;
merlin asks ``dune ocaml-merlin`` (dune from that PATH) for a project's configuration, which for
a unikernel context names the cross compiler's stdlib and the cross sysroot's libraries.
"""
from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from uktoolchain.engine import state
from uktoolchain.home import Home
from uktoolchain.targets import Catalogue

EXTRAS = ("editor", "lsp")  # each builds ocamlmerlin; lsp ocamllsp too
# Package -> the program editors run.
PROGRAMS = {"merlin": "ocamlmerlin", "ocaml-lsp-server": "ocamllsp"}


@dataclass(frozen=True)
class EditorTool:
    toolset: str  # the OCaml set it belongs to (merlin is for that compiler only)
    target: str
    program: str  # ocamlmerlin | ocamllsp
    version: str  # of its package, e.g. 5.4.1-503
    path: Path


def survey(home: Home, catalogue: Catalogue) -> list[EditorTool]:
    """The editor programs of installed targets of every set: the default set first, then
    unikernel targets before host ones."""
    found = []
    for record in state.all_records(home):
        if not set(EXTRAS) & set(record.extras) or not record.folders_present(home):
            continue
        for package in record.packages:
            program = PROGRAMS.get(package.name)
            path = home.conan / package.folder / "bin" / program if program else None
            if path is not None and path.is_file():
                version = package.ref.split("/", 1)[1].split("#", 1)[0]
                found.append(EditorTool(record.toolset, record.target, program, version, path))

    def order(tool: EditorTool) -> tuple:
        target = catalogue.targets.get(tool.target)
        return (tool.toolset != catalogue.default_set, target is None or target.binding is None, tool.target)

    return sorted(found, key=order)


def uktoolchain_command() -> str:
    """How an editor's shell runs this uktoolchain (with this home, when it is not the default)."""
    program = shutil.which("uktoolchain") or shlex.join([sys.executable, "-m", "uktoolchain"])
    home = os.environ.get("UKTOOLCHAIN_HOME")
    return (f"UKTOOLCHAIN_HOME={shlex.quote(home)} " if home else "") + program


def vscode_sandbox(env_args: str) -> str:
    """The OCaml Platform extension's settings.json entry: a "custom" sandbox runs each tool
    ($prog $args) through a shell, here in the environment of `uktoolchain env ENV_ARGS`."""
    template = f'eval "$({uktoolchain_command()} env {env_args})" && $prog $args'
    escaped = template.replace("\\", "\\\\").replace('"', '\\"')
    return f'"ocaml.sandbox": {{"kind": "custom", "template": "{escaped}"}}'


@dataclass(frozen=True)
class Report:
    ok: bool
    detail: str
    advice: tuple[str, ...]


def report(tools: list[EditorTool], on_path: dict[str, str | None], default_set: str = "") -> Report:
    """What doctor says: which targets have merlin (and ocamllsp), what PATH finds now, and the
    editor settings. ``on_path``: program -> what PATH finds (None: nothing)."""
    merlins = [t for t in tools if t.program == "ocamlmerlin"]
    if not merlins:
        return Report(False, "no target is installed with the editor extra", ())
    first = merlins[0]
    env_args = first.target + ("" if first.toolset in ("", default_set) else f" --ocaml {first.toolset}")
    by_path: dict[Path, list[EditorTool]] = {}
    for tool in merlins:
        by_path.setdefault(tool.path, []).append(tool)
    parts = [f"ocamlmerlin {group[0].version} (OCaml {group[0].toolset} set) for "
             f"{', '.join(t.target for t in group)}: {path}" for path, group in by_path.items()]
    found = on_path.get("ocamlmerlin")
    if found is None:
        parts.append("not on PATH in this shell")
    elif found not in {str(t.path) for t in merlins}:
        parts.append(f"PATH finds another ocamlmerlin first ({found}), not built by this toolchain's OCaml")
    lsps = [t for t in tools if t.program == "ocamllsp" and t.toolset == first.toolset]
    lsp_line = (f"VS Code (OCaml Platform) runs ocamllsp: {lsps[0].path} ({lsps[0].version}); settings.json: "
                if lsps else
                f"VS Code (OCaml Platform) needs ocaml-lsp-server (ocamllsp): uktoolchain install {first.target} "
                f"--with lsp{'' if first.toolset in ('', default_set) else ' --ocaml ' + first.toolset} builds it; "
                "then settings.json: ")
    advice = (
        f'Emacs, Vim: start the editor from a shell after eval "$(uktoolchain env {env_args})" '
        "(ocamlmerlin, dune, OCAMLLIB and OCAMLFIND_CONF come from there)",
        f"dune-workspace: uktoolchain workspace {first.target} marks its context (merlin): completion and types "
        "then come from that target's compiler and libraries",
        lsp_line + vscode_sandbox(env_args),
    )
    return Report(True, "; ".join(parts), advice)


def check(home: Home, catalogue: Catalogue) -> Report:
    return report(survey(home, catalogue), {p: shutil.which(p) for p in PROGRAMS.values()}, catalogue.default_set)
