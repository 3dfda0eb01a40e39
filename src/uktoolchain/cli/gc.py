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
    """Remove what no installed target of any set uses; with ``only_set``, only builds of the
    component versions that no other set names (what that set alone leaves behind)."""
    if not ctx.home.conan.is_dir():
        print("nothing to collect")
        return
    ctx.home.ensure_writable()  # a read-only or full home is an exit-6 message, not a traceback
    from uktoolchain.engine.conan_adapter import ConanEngine

    with home_lock(ctx.home.lock_file, True, lambda m: print(m, file=sys.stderr)):
        # Read under the lock: an install that ends meanwhile has written its records.
        keep = set().union(*(r.package_keys() for r in state.all_records(ctx.home)))
        only = own_versions(ctx) if only_set else None
        removed = ConanEngine(ctx.home.conan, ctx.home.logs / "engine.log").remove_unused(keep, only)
    for key in removed:
        print(f"removed {key}")
    scope = f" of OCaml set {ctx.choice.name}" if only_set else ""
    print(f"{len(removed)} package(s){scope} removed, {len(keep)} kept")


def own_versions(ctx: Context) -> set[str]:
    """"name/version" of the components the context's set has and no other set has."""
    others = {f"{c}/{v}" for name, s in ctx.catalogue.sets.items() if name != ctx.choice.name
              for c, v in s.versions.items()}
    return {f"{c}/{v}" for c, v in ctx.catalogue.versions.items()} - others


def run(args) -> int:
    collect(Context.load(args.ocaml), only_set=args.ocaml is not None)
    return 0
