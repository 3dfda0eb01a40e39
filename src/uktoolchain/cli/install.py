"""uktoolchain install TARGET... — build what is missing, then say how to use it."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import make_view, say
from uktoolchain.engine import stamps


def register(sub) -> None:
    parser = sub.add_parser("install", help="build or fetch the toolchains of targets")
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help="default: the targets of the project's uktoolchain.toml")
    add_set_option(parser)
    parser.add_argument("--source", action="append", default=[], metavar="COMPONENT=PATH",
                        help="build COMPONENT from a local tarball or directory instead of the pinned source; "
                        "later installs keep using it while it is unchanged")
    parser.add_argument("--pinned", action="append", default=[], metavar="COMPONENT",
                        help="build COMPONENT from its pinned source again, not from the local one it was installed from")
    parser.add_argument("--plain", action="store_true", help="plain line output instead of the live view")
    parser.add_argument("--jobs", "-j", type=positive_int, default=2, metavar="N",
                        help="packages built at the same time (default 2); beside them, up to N - 1 more: builds on "
                        "the critical path that found no slot free, or builds off it at idle priority, on cores "
                        "the others leave idle")
    parser.add_argument("--no-wait", action="store_true", help="fail instead of waiting when the home is in use")
    parser.add_argument("--force", action="store_true", help="skip the up-to-date check (re-plan everything)")
    parser.add_argument("--with", dest="extras", action="append", default=[], metavar="EXTRA",
                        help="also install an optional part for the targets: rust, editor (ocamlmerlin), lsp (ocamllsp too); "
                        "it stays on later installs")
    parser.add_argument("--without", dest="drop", action="append", default=[], metavar="EXTRA",
                        help="drop an optional part the targets were installed with")
    parser.add_argument("--build", choices=("missing", "never"), default="missing",
                        help="missing (default): build what neither this home nor a remote has; "
                        "never: fail instead of building")
    parser.add_argument("--no-remote", action="store_true", help="do not look in the remotes; build what is missing")
    parser.add_argument("--locked", type=Path, metavar="FILE",
                        help="refuse recipes or sources other than those FILE pins (see `uktoolchain lock`)")
    parser.add_argument("--upload", metavar="REMOTE", help="then push the targets to REMOTE (like `uktoolchain push`)")
    parser.set_defaults(run=run)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expects a whole number of at least 1, got '{text}'")
    return value


def run(args) -> int:
    ctx = Context.load(args.ocaml)
    names = ctx.pinned_targets(args.targets, "install")
    extras = set(args.extras) | (set(ctx.pin.extras) if ctx.pin and not args.targets else set())
    targets = ctx.catalogue.resolve(names)
    wanted = [stamps.with_installed_extras(ctx.home, ctx.catalogue, t, extras, args.drop) for t in targets]
    overrides, notes = ctx.installed_overrides(args.source, args.pinned, set(ctx.catalogue.components_of(wanted)))
    for note in notes:
        say(note)
    locked = None
    if args.locked is not None:
        from uktoolchain.engine.pins import ToolchainLock

        locked = ToolchainLock.load(args.locked)
    if not args.force:
        if stamps.all_up_to_date(ctx.home, ctx.index, ctx.catalogue, wanted,
                                 {o.component: o.path for o in overrides}, locked):
            say(f"up to date: {', '.join(t.name for t in wanted)} ({ctx.choice.describe()})")
            targets = None
    if targets is not None:
        install(ctx, args, targets, extras, overrides, locked)
    if args.upload:
        from uktoolchain.cli.push import push_and_report

        push_and_report(ctx, args.upload, [t.name for t in ctx.catalogue.resolve(names)])
    return 0


def install(ctx: Context, args, targets, extras, overrides, locked) -> None:
    from uktoolchain.engine.installer import InstallOptions, Installer
    from uktoolchain.preflight import require_buildable

    require_buildable(targets)

    plain = args.plain or bool(os.environ.get("CI"))
    report = Installer(ctx.home, ctx.index, ctx.catalogue, ctx.config, say).install(
        lambda: [stamps.with_installed_extras(ctx.home, ctx.catalogue, t, extras, args.drop) for t in targets],
        overrides, make_view(plain),
        InstallOptions(parallel=args.jobs, wait_for_lock=not args.no_wait, build_missing=args.build == "missing",
                       use_remotes=not args.no_remote, locked=locked),
    )
    built = [p.label for p in report.plan.packages.values() if p.action == "build"]
    fetched = [f"{p.label} from {p.remote}" for p in report.plan.packages.values() if p.action == "download"]
    summary = f"built {', '.join(built)}" if built else "nothing to build"
    if fetched:
        summary += f"; downloaded {', '.join(fetched)}"
    say(f"installed: {', '.join(report.packages)} ({summary}) with {ctx.choice.describe()}")
    # Name the set when a later `env` would not choose it by itself.
    flag = "" if ctx.choice.name == ctx.catalogue.default_set or ctx.pin else f" --ocaml {ctx.choice.name}"
    for target in report.packages:
        say(f'use it:    eval "$(uktoolchain env {target}{flag})"     '
            f'(fish: uktoolchain env {target}{flag} --shell fish | source)')
