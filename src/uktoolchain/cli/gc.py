"""uktoolchain gc — drop package binaries no installed target uses, and temporary folders."""
from __future__ import annotations

from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import out, say
from uktoolchain.engine.collect import collect, report


def register(sub) -> None:
    parser = sub.add_parser("gc", help="remove builds that no installed target of any set uses")
    add_set_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    ctx = Context.load(args.ocaml)
    only_set = args.ocaml is not None
    scope = f" of OCaml set {ctx.choice.name}" if only_set else ""
    for line in report(collect(ctx.home, ctx.catalogue, only_set, say), scope):
        out(line)
    return 0
