"""uktoolchain env TARGET — shell exports (sh, fish) or JSON for an installed target."""
from __future__ import annotations

import sys

from uktoolchain.cli.context import Context
from uktoolchain.engine import stamps
from uktoolchain.errors import NotInstalledError
from uktoolchain.exporters import environment


def register(sub) -> None:
    parser = sub.add_parser("env", help="print the environment that makes a target's tools usable")
    parser.add_argument("target")
    parser.add_argument("--shell", choices=("sh", "fish"), default="sh")
    parser.add_argument("--json", action="store_true", help="resolved values as JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    ctx = Context.load()
    (target,) = ctx.catalogue.resolve([args.target])
    stamp = stamps.read_stamp(ctx.home, target.name)
    if stamp is None or not stamps.folders_present(ctx.home, stamp):
        raise NotInstalledError(f"target {target.name} is not installed in {ctx.home.root}",
                                f"run: uktoolchain install {target.name}")
    values = environment.target_environment(ctx.home, target.name, stamps.installed_packages(stamp))
    if args.json:
        sys.stdout.write(environment.render_json(values))
    elif args.shell == "fish":
        sys.stdout.write(environment.render_fish(values))
    else:
        sys.stdout.write(environment.render_sh(values))
    return 0
