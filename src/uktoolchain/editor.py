"""What an editor needs from the installed toolchains (``uktoolchain doctor editor``).

Targets installed ``--with editor`` have ``ocamlmerlin`` built by their own OCaml (merlin must
match the compiler exactly) and, where its sources could be had, ``ocamllsp``. Editors find them
on PATH in an environment made by ``uktoolchain env TARGET``; merlin asks ``dune ocaml-merlin``
(dune from that PATH) for a project's configuration, which for a unikernel context names the
cross compiler's stdlib and the cross sysroot's libraries.
"""
from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from uktoolchain.engine import stamps
from uktoolchain.home import Home
from uktoolchain.targets import Catalogue

EXTRA = "editor"
# Package -> the program editors run.
PROGRAMS = {"merlin": "ocamlmerlin", "ocaml-lsp-server": "ocamllsp"}


@dataclass(frozen=True)
class EditorTool:
    target: str
    program: str  # ocamlmerlin | ocamllsp
    version: str  # of its package, e.g. 5.4.1-503
    path: Path


def survey(home: Home, catalogue: Catalogue) -> list[EditorTool]:
    """The editor programs of installed targets, unikernel targets first."""
    found = []
    names = sorted(catalogue.targets, key=lambda n: (catalogue.targets[n].binding is None, n))
    for name in names:
        stamp = stamps.read_stamp(home, name)
        if stamp is None or EXTRA not in stamp.get("extras", ()) or not stamps.folders_present(home, stamp):
            continue
        for package in stamps.installed_packages(stamp):
            program = PROGRAMS.get(package.name)
            path = home.conan / package.folder / "bin" / program if program else None
            if path is not None and path.is_file():
                found.append(EditorTool(name, program, package.ref.split("/", 1)[1].split("#", 1)[0], path))
    return found


def uktoolchain_command() -> str:
    """How an editor's shell runs this uktoolchain (with this home, when it is not the default)."""
    program = shutil.which("uktoolchain") or shlex.join([sys.executable, "-m", "uktoolchain"])
    home = os.environ.get("UKTOOLCHAIN_HOME")
    return (f"UKTOOLCHAIN_HOME={shlex.quote(home)} " if home else "") + program


def vscode_sandbox(target: str) -> str:
    """The OCaml Platform extension's settings.json entry: a "custom" sandbox runs each tool
    ($prog $args) through a shell, here in the target's environment."""
    template = f'eval "$({uktoolchain_command()} env {target})" && $prog $args'
    escaped = template.replace("\\", "\\\\").replace('"', '\\"')
    return f'"ocaml.sandbox": {{"kind": "custom", "template": "{escaped}"}}'


@dataclass(frozen=True)
class Report:
    ok: bool
    detail: str
    advice: tuple[str, ...]


def report(tools: list[EditorTool], on_path: dict[str, str | None]) -> Report:
    """What doctor says: which targets have merlin (and ocamllsp), what PATH finds now, and the
    editor settings. ``on_path``: program -> what PATH finds (None: nothing)."""
    merlins = [t for t in tools if t.program == "ocamlmerlin"]
    if not merlins:
        return Report(False, "no target is installed with the editor extra", ())
    target = merlins[0].target
    by_path: dict[Path, list[str]] = {}
    for tool in merlins:
        by_path.setdefault(tool.path, []).append(tool.target)
    parts = [f"ocamlmerlin {merlins[0].version} for {', '.join(names)}: {path}" for path, names in by_path.items()]
    found = on_path.get("ocamlmerlin")
    ours = {str(t.path) for t in merlins}
    if found is None:
        parts.append("not on PATH in this shell")
    elif found not in ours:
        parts.append(f"PATH finds another ocamlmerlin first ({found}), not built by this toolchain's OCaml")
    lsps = [t for t in tools if t.program == "ocamllsp"]
    lsp_line = (f"VS Code (OCaml Platform) runs ocamllsp: {lsps[0].path} ({lsps[0].version}); settings.json: "
                if lsps else
                "VS Code (OCaml Platform) needs ocaml-lsp-server (ocamllsp), which this toolchain set does not "
                "build (its sources are not reachable); with one built by the same OCaml, settings.json: ")
    advice = (
        f'Emacs, Vim: start the editor from a shell after eval "$(uktoolchain env {target})" '
        "(ocamlmerlin, dune, OCAMLLIB and OCAMLFIND_CONF come from there)",
        f"dune-workspace: uktoolchain workspace {target} marks its context (merlin): completion and types "
        "then come from that target's compiler and libraries",
        lsp_line + vscode_sandbox(target),
    )
    return Report(True, "; ".join(parts), advice)


def check(home: Home, catalogue: Catalogue) -> Report:
    return report(survey(home, catalogue), {p: shutil.which(p) for p in PROGRAMS.values()})
