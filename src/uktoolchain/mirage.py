"""Recognising a MirageOS project, whose build files belong to `mirage configure`.

mirage writes a dune-workspace with one cross context named `solo5` (`(toolchain solo5)`), a
`dune.build` whose rules are enabled only in that context (`(enabled_if (= %{context_name}
"solo5"))`, and so are mirage-solo5's C rules), and its own files under `mirage/`. Contexts named
after uktoolchain's targets would build none of those rules (dune ends with exit 0 and no
unikernel), merged into mirage's `(lang dune 2.9)` file they are refused by dune, and the next
`mirage configure` rewrites the file anyway. mirage's own workspace needs nothing from us but
`uktoolchain env` (the `solo5` toolchain name, see exporters.environment.UPSTREAM_TOOLCHAIN), so
the right answer in such a project is to say so and what to run, not to write contexts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from uktoolchain.errors import ConfigError
from uktoolchain.targets import Target

_BINDING = re.compile(r'-z solo5-abi=([a-z0-9_]+)')
# config.ml of every MirageOS 4 unikernel: `open Mirage` or `Mirage.register`, and a register call.
_CONFIG = re.compile(r"\bMirage\b")
_REGISTER = re.compile(r"\bregister\b")


@dataclass(frozen=True)
class MirageProject:
    root: Path
    configured: bool  # `mirage configure` has run: dune.build / mirage/ exist
    binding: str | None  # the Solo5 binding dune.build links (`-t spt` -> "spt"), if any


def detect(directory: Path) -> MirageProject | None:
    """The MirageOS project rooted at ``directory``, or None when it is not one."""
    config = directory / "config.ml"
    build = directory / "dune.build"
    generated = build.is_file() or (directory / "mirage" / "dune-workspace.config").is_file()
    if generated:
        binding = None
        if build.is_file():
            found = _BINDING.search(_read(build))
            binding = found.group(1) if found else None
        return MirageProject(directory, True, binding)
    if config.is_file():
        text = _read(config)
        if _CONFIG.search(text) and _REGISTER.search(text):
            return MirageProject(directory, False, None)
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


class MirageProjectError(ConfigError):
    """`uktoolchain workspace` in a MirageOS project: its build files are mirage's."""


def refuse_workspace(project: MirageProject, targets: list[Target]) -> MirageProjectError:
    """The error for writing uktoolchain's contexts into ``project``, with what to run instead."""
    unikernels = [t for t in targets if t.binding] or targets
    matching = [t for t in unikernels if project.binding and t.binding == project.binding]
    chosen = matching[0] if matching else unikernels[0]
    steps = [] if project.configured and matching else [f"mirage configure -t {mirage_target(chosen)}"]
    configure_as = mirage_target(chosen)
    if configure_as != chosen.binding and project.binding != chosen.binding:  # mirage has no target for it
        steps.append(f"in dune.build change -z solo5-abi={configure_as} to -z solo5-abi={chosen.binding} "
                     "(README: MirageOS)")
    steps.append(f'eval "$(uktoolchain env {chosen.name})" && make build')
    if project.configured:
        what = f"configured for {project.binding}" if project.binding else "configured by mirage"
        problem = (f"{project.root} is a MirageOS project {what}: it builds in the `solo5` context of "
                   "mirage's dune-workspace, and in no context uktoolchain would add")
    else:
        problem = (f"{project.root} holds a MirageOS config.ml: `mirage configure` writes its build files, "
                   "no context uktoolchain would add builds it")
    return MirageProjectError(problem, "instead run: " + "; ".join(steps))


def mirage_target(target: Target) -> str:
    """mirage's `-t` for a target (its platform's: its Solo5 binding; a board mirage does not know
    is configured as the binding it links like, e.g. rpi4 as hvt)."""
    from uktoolchain.platforms import platform_of

    return platform_of(target).mirage_target
