"""uktoolchain gc — drop package binaries no installed target uses, and temporary folders."""
from __future__ import annotations

import sys

from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.engine import state
from uktoolchain.engine.lock import home_lock


def register(sub) -> None:
    parser = sub.add_parser("gc", help="remove builds that no installed target of any set uses")
    add_set_option(parser)
    parser.set_defaults(run=run)


def collect(ctx: Context, only_set: bool) -> None:
    """Remove what no installed target of any set uses; with ``only_set``, only packages of the
    context's set's component versions (what it left behind), whatever other sets left."""
    if not ctx.home.conan.is_dir():
        print("nothing to collect")
        return
    ctx.home.ensure_writable()  # a read-only or full home is an exit-6 message, not a traceback
    from uktoolchain.engine.conan_adapter import ConanEngine

    with home_lock(ctx.home.lock_file, True, lambda m: print(m, file=sys.stderr)):
        # Read under the lock: an install that ends meanwhile has written its records.
        keep = set().union(*(r.package_keys() for r in state.all_records(ctx.home)))
        only = {f"{c}/{v}" for c, v in ctx.catalogue.versions.items()} if only_set else None
        removed = ConanEngine(ctx.home.conan, ctx.home.logs / "engine.log").remove_unused(keep, only)
    for key in removed:
        print(f"removed {key}")
    scope = f" of OCaml set {ctx.choice.name}" if only_set else ""
    print(f"{len(removed)} package(s){scope} removed, {len(keep)} kept")


def run(args) -> int:
    collect(Context.load(args.ocaml), only_set=args.ocaml is not None)
    return 0
