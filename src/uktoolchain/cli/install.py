"""uktoolchain install TARGET... — build what is missing, then say how to use it."""
from __future__ import annotations

import os
import sys

from uktoolchain.cli.context import Context
from uktoolchain.engine import stamps


def register(sub) -> None:
    parser = sub.add_parser("install", help="build or fetch the toolchains of targets")
    parser.add_argument("targets", nargs="+", metavar="TARGET")
    parser.add_argument("--source", action="append", default=[], metavar="COMPONENT=PATH",
                        help="build COMPONENT from a local tarball or directory instead of the pinned source")
    parser.add_argument("--plain", action="store_true", help="plain line output instead of the live view")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="packages built at the same time (default 2)")
    parser.add_argument("--no-wait", action="store_true", help="fail instead of waiting when the home is in use")
    parser.add_argument("--force", action="store_true", help="skip the up-to-date check (re-plan everything)")
    parser.add_argument("--with", dest="extras", action="append", default=[], metavar="EXTRA",
                        help="also install an optional part for the targets (rust); it stays on later installs")
    parser.add_argument("--without", dest="drop", action="append", default=[], metavar="EXTRA",
                        help="drop an optional part the targets were installed with")
    parser.set_defaults(run=run)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args) -> int:
    ctx = Context.load()
    # Extras the targets already have stay, plus --with, minus --without.
    known = set(ctx.catalogue.extras)
    targets = [ctx.catalogue.with_extras(t, (known & set(stamps.installed_extras(ctx.home, t.name))
                                             | set(args.extras)) - set(args.drop))
               for t in ctx.catalogue.resolve(args.targets)]
    overrides = ctx.overrides(args.source)
    by_component = {o.component: o.path for o in overrides}
    if not args.force and all(
        stamps.up_to_date(ctx.home, ctx.index, ctx.catalogue, t, by_component) for t in targets
    ):
        say(f"up to date: {', '.join(t.name for t in targets)}")
        return 0

    from uktoolchain.console import make_view
    from uktoolchain.engine.installer import InstallOptions, Installer
    from uktoolchain.preflight import require_buildable

    require_buildable(targets)

    plain = args.plain or bool(os.environ.get("CI"))
    report = Installer(ctx.home, ctx.index, ctx.catalogue, ctx.config, say).install(
        targets, overrides, make_view(plain),
        InstallOptions(parallel=args.jobs, wait_for_lock=not args.no_wait),
    )
    built = [p.label for p in report.plan.packages.values() if p.action == "build"]
    say(f"installed: {', '.join(report.packages)}" + (f" (built {', '.join(built)})" if built else " (nothing to build)"))
    for target in report.packages:
        say(f'use it:    eval "$(uktoolchain env {target})"     (fish: uktoolchain env {target} --shell fish | source)')
    return 0
