"""uktoolchain gc — drop package binaries no installed target uses, and temporary folders."""
from __future__ import annotations

import sys

from uktoolchain.cli.context import Context
from uktoolchain.engine import stamps
from uktoolchain.engine.lock import home_lock


def register(sub) -> None:
    parser = sub.add_parser("gc", help="remove builds that no installed target uses")
    parser.set_defaults(run=run)


def run(args) -> int:
    ctx = Context.load()
    if not ctx.home.conan.is_dir():
        print("nothing to collect")
        return 0
    keep = set()
    for target in ctx.catalogue.targets:
        stamp = stamps.read_stamp(ctx.home, target)
        if stamp:
            keep |= {f"{p['ref']}:{p['package_id']}" for p in stamp["packages"]}
    ctx.home.ensure_writable()  # a read-only or full home is an exit-6 message, not a traceback
    from uktoolchain.engine.conan_adapter import ConanEngine

    with home_lock(ctx.home.lock_file, True, lambda m: print(m, file=sys.stderr)):
        removed = ConanEngine(ctx.home.conan, ctx.home.logs / "engine.log").remove_unused(keep)
    for key in removed:
        print(f"removed {key}")
    print(f"{len(removed)} package(s) removed, {len(keep)} kept")
    return 0
