"""uktoolchain list — every target, whether it is installed, and its component versions."""
from __future__ import annotations

from uktoolchain.cli.context import Context
from uktoolchain.engine import stamps


def register(sub) -> None:
    parser = sub.add_parser("list", help="list targets and what is installed")
    parser.set_defaults(run=run)


def status_of(ctx: Context, target, overrides: dict) -> str:
    if not target.available:
        return "not yet available"
    stamp = stamps.read_stamp(ctx.home, target.name)
    if stamp is None or not stamps.folders_present(ctx.home, stamp):
        return "not installed"
    target = ctx.catalogue.with_extras(target, set(stamp.get("extras", ())) & set(ctx.catalogue.extras))
    state = "installed" if stamps.up_to_date(ctx.home, ctx.index, ctx.catalogue, target, overrides) else "installed (outdated)"
    return state + "".join(f" +{extra}" for extra in target.extras)


def run(args) -> int:
    ctx = Context.load()
    rows = []
    # config.toml's [sources] are part of what `install` (without --source) would build.
    configured = {o.component: o.path for o in ctx.overrides([])}
    for target in ctx.catalogue.targets.values():
        versions = " ".join(f"{c} {ctx.catalogue.versions[c]}" for c in target.components) or "-"
        rows.append((target.name, status_of(ctx, target, configured), versions, target.description))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3])
    print(f"\nhome: {ctx.home.root}")
    return 0
