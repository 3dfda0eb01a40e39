"""uktoolchain remove [TARGET...] — forget installed targets of one toolchain set, then collect
what nothing else uses. Other sets, and targets sharing those packages, are left as they were."""
from __future__ import annotations

from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import out, say
from uktoolchain.engine import state
from uktoolchain.engine.collect import collect, forget, report
from uktoolchain.errors import NotInstalledError


def register(sub) -> None:
    parser = sub.add_parser("remove", help="uninstall targets of a toolchain set (default: all of that set)")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="default: every installed target of the set")
    add_set_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    ctx = Context.load(args.ocaml)
    names = [t.name for t in ctx.catalogue.resolve(args.targets)] if args.targets else [
        r.target for r in state.all_records(ctx.home) if r.toolset == ctx.choice.name]
    if not names:
        raise NotInstalledError(f"nothing is installed for OCaml set {ctx.choice.name}",
                                "see `uktoolchain list`")
    missing = forget(ctx.home, names, say)
    if missing:
        say(f"not installed for OCaml set {ctx.choice.name}: {', '.join(missing)}")
    gone = [n for n in names if n not in missing]
    if gone:
        say(f"removed {', '.join(gone)} (OCaml set {ctx.choice.name})")
    for line in report(collect(ctx.home, ctx.catalogue, False, say)):
        out(line)
    return 0
