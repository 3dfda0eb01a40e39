"""uktoolchain env TARGET... — shell exports (sh, fish) or JSON for installed targets."""
from __future__ import annotations

import sys

from uktoolchain.cli.context import Context
from uktoolchain.engine import stamps
from uktoolchain.engine.model import InstalledPackage
from uktoolchain.errors import NotInstalledError
from uktoolchain.exporters import environment


def register(sub) -> None:
    parser = sub.add_parser("env", help="print the environment that makes targets' tools usable")
    parser.add_argument("targets", nargs="+", metavar="TARGET",
                        help="one or more installed targets (several: one environment for all of them)")
    parser.add_argument("--shell", choices=("sh", "fish"), default="sh")
    parser.add_argument("--json", action="store_true", help="resolved values as JSON")
    parser.set_defaults(run=run)


def installed_environment(ctx: Context, names: list[str]) -> dict[str, str]:
    """The composed environment of installed targets; packages they share appear once."""
    packages: dict[str, InstalledPackage] = {}
    targets = ctx.catalogue.resolve(names)
    for target in targets:
        stamp = stamps.read_stamp(ctx.home, target.name)
        if stamp is None or not stamps.folders_present(ctx.home, stamp):
            raise NotInstalledError(f"target {target.name} is not installed in {ctx.home.root}",
                                    f"run: uktoolchain install {' '.join(t.name for t in targets)}")
        for package in stamps.installed_packages(stamp):
            packages.setdefault(package.label, package)
    return environment.target_environment(ctx.home, "+".join(t.name for t in targets), list(packages.values()),
                                          unikernels=[t for t in targets if t.binding])


def run(args) -> int:
    values = installed_environment(Context.load(), args.targets)
    if args.json:
        sys.stdout.write(environment.render_json(values))
    elif args.shell == "fish":
        sys.stdout.write(environment.render_fish(values))
    else:
        sys.stdout.write(environment.render_sh(values))
    return 0
