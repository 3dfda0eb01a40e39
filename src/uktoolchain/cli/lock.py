"""uktoolchain lock TARGET... -o FILE — pin recipe revisions and source checksums for --locked."""
from __future__ import annotations

from pathlib import Path

from uktoolchain import atomic
from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import say
from uktoolchain.outputs import require_existing_directory
from uktoolchain.errors import home_error_for_path


def register(sub) -> None:
    parser = sub.add_parser("lock", help="write a lock file pinning every recipe revision and source checksum")
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help="default: the targets of the project's uktoolchain.toml")
    add_set_option(parser)
    parser.add_argument("-o", "--output", type=Path, default=Path("uktoolchain.lock"),
                        help="where to write it (default: uktoolchain.lock); its directory must exist")
    parser.add_argument("--source", action="append", default=[], metavar="COMPONENT=PATH",
                        help="as for install: a local source is pinned by its checksum")
    parser.set_defaults(run=run)


def run(args) -> int:
    from uktoolchain.engine.cachekey import cache_key
    from uktoolchain.engine.installer import Installer
    from uktoolchain.engine.pins import ToolchainLock

    ctx = Context.load(args.ocaml)
    targets = ctx.catalogue.resolve(ctx.pinned_targets(args.targets, "lock"))
    require_existing_directory(args.output)  # before the work, not after
    overrides = ctx.overrides(args.source)
    pins = Installer(ctx.home, ctx.index, ctx.catalogue, ctx.config, say).pins(targets, overrides)
    key = cache_key(ctx.index, ctx.catalogue, targets, {o.component: o.path for o in overrides})
    lock = ToolchainLock({t.name: list(t.components + t.host_components) for t in targets}, pins, cache_key=key,
                         toolset=ctx.choice.name)
    try:
        atomic.write_text(args.output, lock.text())
    except OSError as exc:
        raise home_error_for_path(args.output, exc) from exc
    say(f"locked {', '.join(t.name for t in targets)} ({len(pins.recipes)} recipes, {ctx.choice.describe()}) "
        f"in {args.output}")
    return 0
