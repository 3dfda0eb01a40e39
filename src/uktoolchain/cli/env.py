"""uktoolchain env TARGET... — shell exports (sh, fish) or JSON for installed targets."""
from __future__ import annotations

import sys

from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.engine import state
from uktoolchain.engine.model import InstalledPackage
from uktoolchain.errors import NotInstalledError
from uktoolchain.exporters import environment


def register(sub) -> None:
    parser = sub.add_parser("env", help="print the environment that makes targets' tools usable")
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help="one or more installed targets (several: one environment for all of them); "
                        "default: the targets of the project's uktoolchain.toml")
    add_set_option(parser)
    parser.add_argument("--shell", choices=("sh", "fish"), default="sh")
    parser.add_argument("--json", action="store_true", help="resolved values as JSON")
    parser.set_defaults(run=run)


def installed_records(ctx: Context, names: list[str]) -> list[state.InstalledTarget]:
    """The records of installed targets in the context's set; a target that is not installed
    there is an error naming the sets it is installed for and the command that installs it."""
    records = []
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
        records.append(record)
    return records


def installed_environment(ctx: Context, names: list[str]) -> dict[str, str]:
    """The composed environment of installed targets; packages they share appear once."""
    packages: dict[str, InstalledPackage] = {}
    targets = ctx.catalogue.resolve(names)
    for record in installed_records(ctx, names):
        for package in record.packages:
            packages.setdefault(package.label, package)
    return environment.target_environment(ctx.home, "+".join(t.name for t in targets), list(packages.values()),
                                          unikernels=[t for t in targets if t.binding])


def run(args) -> int:
    ctx, names = Context.for_installed(args.ocaml, args.targets, "env")
    values = installed_environment(ctx, names)
    if args.json:
        sys.stdout.write(environment.render_json(values))
    elif args.shell == "fish":
        sys.stdout.write(environment.render_fish(values))
    else:
        sys.stdout.write(environment.render_sh(values))
    return 0
