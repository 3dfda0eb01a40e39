"""uktoolchain push REMOTE [TARGET...] — upload installed toolchains so others need not build them."""
from __future__ import annotations

from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import say
from uktoolchain.engine.remotes import check_name


def register(sub) -> None:
    parser = sub.add_parser("push", help="upload installed toolchains (and their sources) to a remote")
    parser.add_argument("remote")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="default: every installed target")
    parser.add_argument("--force", action="store_true", help="upload again what the remote has already")
    add_set_option(parser)
    parser.set_defaults(run=run)


def push_and_report(ctx: Context, remote: str, targets: list[str], force: bool = False) -> None:
    from uktoolchain.engine.pusher import push

    report = push(ctx.home, ctx.catalogue, check_name(remote), targets, force, say)
    say(f"pushed {', '.join(report.targets)} to {remote}: {report.recipes} recipe(s) and "
        f"{report.packages} package(s) uploaded, the rest was there already")
    if report.sources_backup:
        if report.sources_backed_up:
            say(f"sources backed up to {report.sources_backup}: {', '.join(report.sources_backed_up)}")
        if report.sources_missing:
            say(f"sources not in this home, not backed up: {', '.join(report.sources_missing)}")


def run(args) -> int:
    ctx = Context.load(args.ocaml)
    names = [t.name for t in ctx.catalogue.resolve(args.targets)] if args.targets else []
    push_and_report(ctx, args.remote, names, args.force)
    return 0
