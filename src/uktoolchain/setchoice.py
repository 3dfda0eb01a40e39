"""Which toolchain set a command works on, and why: the --ocaml flag, UKTOOLCHAIN_OCAML, the
project pin (uktoolchain.toml, found upward from the working directory), the set the targets are
installed for, or the default."""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from uktoolchain import project
from uktoolchain.engine import state
from uktoolchain.home import Home
from uktoolchain.targets import Catalogue


SET_VARIABLE = "UKTOOLCHAIN_OCAML"


class SetChoice(NamedTuple):
    name: str
    reason: str  # e.g. "--ocaml", "pinned by ./uktoolchain.toml", "the default"
    explicit: bool  # chosen by the user (flag or pin), not by uktoolchain

    def describe(self) -> str:
        return f"OCaml set {self.name} ({self.reason})"


def pinned_targets(pin: project.ProjectPin | None, command: str) -> list[str]:
    if pin is not None and pin.targets:
        return list(pin.targets)
    from uktoolchain.errors import UsageError

    where = f"{pin.path} names none" if pin else f"no {project.PIN_FILE} here or above"
    raise UsageError(f"{command}: no target given and {where}",
                     f"give targets, e.g. uktoolchain {command} spt, or write targets = [...] in {project.PIN_FILE}")


def project_pin(catalogue: Catalogue) -> project.ProjectPin | None:
    path = project.find(Path.cwd())
    if path is None:
        return None
    pin = project.load(path)
    pin.check(list(catalogue.sets), list(catalogue.targets), list(catalogue.extras))
    return pin


def choose_set(home: Home, catalogue: Catalogue, ocaml: str | None, pin: project.ProjectPin | None,
               installed: list[str] | None) -> SetChoice:
    if ocaml is not None:
        catalogue.for_set(ocaml)  # an unknown name fails here, listing the sets
        return SetChoice(ocaml, "--ocaml", True)
    from_env = os.environ.get(SET_VARIABLE)
    if from_env:  # like RUSTUP_TOOLCHAIN: a CI job's or a shell's choice, over the project pin
        catalogue.for_set(from_env)
        return SetChoice(from_env, f"{SET_VARIABLE}={from_env}", True)
    if pin is not None and pin.ocaml is not None:
        return SetChoice(pin.ocaml, f"pinned by {pin.path}", True)
    default = catalogue.default_set
    if installed:
        everywhere = [name for name in catalogue.sets
                      if all(state.read_present(home.for_set(name), t) for t in installed)]
        if everywhere and default not in everywhere:
            what = " ".join(installed)
            return SetChoice(everywhere[0], f"{what} {'is' if len(installed) == 1 else 'are'} installed for it, "
                             f"not for the default {default}", False)
    return SetChoice(default, "the default", False)
