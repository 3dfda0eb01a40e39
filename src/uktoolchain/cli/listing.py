"""uktoolchain list — every target, for which toolchain sets it is installed, and the sets."""
from __future__ import annotations

import json

from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import out
from uktoolchain.engine import stamps, state


def register(sub) -> None:
    parser = sub.add_parser("list", help="list targets, toolchain sets and what is installed")
    add_set_option(parser)
    parser.add_argument("--json", action="store_true", help="the same as JSON, for scripts")
    parser.set_defaults(run=run)


def status_of(ctx: Context, target, overrides: dict) -> str:
    """The target's state in the context's set."""
    if not target.available:
        return "not yet available"
    record = state.read_present(ctx.home, target.name)
    if record is None:
        return "not installed"
    target = ctx.catalogue.with_extras(target, set(record.extras) & set(ctx.catalogue.extras))
    up_to_date = stamps.up_to_date(ctx.home, ctx.index, ctx.catalogue, target, overrides)
    return ("installed" if up_to_date else "installed (outdated)") + "".join(f" +{e}" for e in target.extras)


def run(args) -> int:
    base = Context.load(args.ocaml)
    shown = [base.choice.name] if args.ocaml else list(base.catalogue.sets)
    contexts = {name: base if name == base.choice.name else Context.load(name) for name in shown}
    statuses = {}
    notes: dict[str, list[str]] = {}
    for name, ctx in contexts.items():
        # config.toml's [sources], and the local sources targets were installed from
        overrides, notes[name] = ctx.installed_overrides([])
        configured = {o.component: o.path for o in overrides}
        statuses[name] = {t.name: status_of(ctx, t, configured) for t in ctx.catalogue.targets.values()}
    sets = base.catalogue.sets
    if args.json:
        out(json.dumps({
            "default_set": base.catalogue.default_set,
            "sets": {name: {"versions": s.versions, "available": s.available, "note": s.note,
                            "description": s.description} for name, s in sets.items()},
            "targets": {t.name: {"description": t.description, "components": list(t.components),
                                 "status": {name: statuses[name][t.name] for name in shown}}
                        for t in base.catalogue.targets.values()},
            "home": str(base.home.root),
        }, indent=2))
        return 0
    single = len(shown) == 1
    header = ["target"] + [f"OCaml set {name}" for name in shown] + (["components"] if single else [])
    rows = [header]
    for target in base.catalogue.targets.values():
        versions = contexts[shown[0]].catalogue.versions
        row = [target.name] + [statuses[name][target.name] for name in shown]
        if single:
            row.append(" ".join(f"{c} {versions[c]}" for c in target.components) or "-")
        rows.append(row + [target.description])
    widths = [max(len(r[i]) for r in rows[1:] + [header + [""]]) for i in range(len(header))]
    for row in rows:
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row, widths))
        # The padding of the last column is kept where a description follows, so descriptions line up.
        out(cells + "  " + row[len(header)] if len(row) > len(header) else cells.rstrip())
    out("\ntoolchain sets (--ocaml SET, or ocaml = \"SET\" in a project's uktoolchain.toml):")
    order = {c: i for i, c in enumerate(base.catalogue.components_of(list(base.catalogue.targets.values())))}
    for name, toolset in sets.items():
        mark = " (default)" if name == base.catalogue.default_set else ""
        components = ", ".join(f"{c} {v}" for c, v in sorted(toolset.versions.items(),
                                                              key=lambda item: order.get(item[0], len(order))))
        out(f"  {name}{mark}: {components}")
        if toolset.description:
            out(f"      {toolset.description}")
        if not toolset.available:
            out(f"      can be pinned but not built here{': ' + toolset.note if toolset.note else ''}")
        for note in notes.get(name, ()):
            out(f"      {note}")
    out(f"\nhome: {base.home.root}")
    if base.choice.explicit and not args.ocaml:
        out(f"this project: {base.choice.describe()}")
    return 0
