"""uktoolchain verify-objects TARGET FILE... — are these static libraries/objects built for TARGET?"""
from __future__ import annotations

from pathlib import Path

from uktoolchain import objcheck
from uktoolchain.console import out
from uktoolchain.errors import ConfigError, UnknownTargetError
from uktoolchain.platforms import platform_of
from uktoolchain.resources import RecipeIndex
from uktoolchain.targets import Catalogue, unknown_target_message


def register(sub) -> None:
    parser = sub.add_parser("verify-objects", help="check that static libraries or objects were built for a target")
    parser.add_argument("target", metavar="TARGET", help="the unikernel target they will be linked for")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="static libraries (.a) or objects (.o)")
    parser.set_defaults(run=run)


def run(args) -> int:
    # Only the catalogue: no home, no installed toolchain (works in CI and in a dune rule).
    index = RecipeIndex.discover()
    catalogue = Catalogue.load(index.catalogue_file)
    target = catalogue.targets.get(args.target)
    if target is None:
        raise UnknownTargetError(unknown_target_message(args.target, catalogue.targets))
    if not platform_of(target).unikernel:
        raise ConfigError(f"verify-objects checks objects for a unikernel; {target.name} is not a unikernel target",
                          "give the target the library is linked for, e.g. spt or aarch64-hvt")
    reports = objcheck.examine(args.files, target)
    objcheck.require_fit(reports)
    for report in reports:
        out(report.summary(target))
    return 0
