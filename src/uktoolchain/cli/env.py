"""uktoolchain env TARGET... — shell exports (sh, fish) or JSON for installed targets."""
from __future__ import annotations

import sys

from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.exporters import environment
from uktoolchain.installed import environment_of


def register(sub) -> None:
    parser = sub.add_parser("env", help="print the environment that makes targets' tools usable")
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help="one or more installed targets (several: one environment for all of them); "
                        "default: the targets of the project's uktoolchain.toml")
    add_set_option(parser)
    parser.add_argument("--shell", choices=("sh", "fish"), default="sh")
    parser.add_argument("--json", action="store_true", help="resolved values as JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    ctx, names = Context.for_installed(args.ocaml, args.targets, "env")
    values = environment_of(ctx, names)
    if args.json:
        sys.stdout.write(environment.render_json(values))
    elif args.shell == "fish":
        sys.stdout.write(environment.render_fish(values))
    else:
        sys.stdout.write(environment.render_sh(values))
    return 0
