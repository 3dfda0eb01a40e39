"""Installed targets as commands use them: their records in the chosen set (engine/state.py), and
the environment they compose (PATH, findlib, C and cargo settings), for env, check, run, cargo..."""
from __future__ import annotations

from uktoolchain.engine import state
from uktoolchain.engine.model import InstalledPackage
from uktoolchain.errors import NotInstalledError
from uktoolchain.exporters import environment


def records(ctx, names: list[str]) -> list[state.InstalledTarget]:
    """The records of installed targets in the context's set; a target that is not installed
    there is an error naming the sets it is installed for and the command that installs it."""
    found = []
    targets = ctx.catalogue.resolve(names)
    for target in targets:
        record = state.read_present(ctx.home, target.name)
        if record is None:
            elsewhere = [s for s in state.toolsets_with(ctx.home, target.name) if s != ctx.choice.name]
            where = f" (it is installed for {', '.join(elsewhere)})" if elsewhere else ""
            flag = "" if ctx.choice.name == ctx.catalogue.default_set else f" --ocaml {ctx.choice.name}"
            raise NotInstalledError(
                f"target {target.name} is not installed for OCaml set {ctx.choice.name}{where} in {ctx.home.root}",
                f"run: uktoolchain install {' '.join(t.name for t in targets)}{flag}")
        found.append(record)
    return found


def environment_of(ctx, names: list[str]) -> dict[str, str]:
    """The composed environment of installed targets; packages they share appear once."""
    packages: dict[str, InstalledPackage] = {}
    targets = ctx.catalogue.resolve(names)
    for record in records(ctx, names):
        for package in record.packages:
            packages.setdefault(package.label, package)
    from uktoolchain.platforms import platform_of

    return environment.target_environment(ctx.home, "+".join(t.name for t in targets), list(packages.values()),
                                          unikernels=[t for t in targets if platform_of(t).unikernel])
