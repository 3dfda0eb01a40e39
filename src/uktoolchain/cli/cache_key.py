"""uktoolchain cache-key TARGET... — a key for CI caches: same inputs, same key, on any machine.

Fast and light: reads the recipe index, never loads Conan.
"""
from __future__ import annotations

from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import out
from uktoolchain.engine.cachekey import cache_key
from uktoolchain.sources import DigestMemo


def register(sub) -> None:
    parser = sub.add_parser("cache-key", help="print a CI cache key that changes when any input of the targets does")
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help="default: the targets of the project's uktoolchain.toml")
    add_set_option(parser)
    parser.add_argument("--source", action="append", default=[], metavar="COMPONENT=PATH",
                        help="as for install: a local source enters the key by its content")
    parser.set_defaults(run=run)


def run(args) -> int:
    ctx = Context.load(args.ocaml)
    targets = ctx.catalogue.resolve(ctx.pinned_targets(args.targets, "cache-key"))
    overrides = {o.component: o.path for o in ctx.overrides(args.source)}
    out(cache_key(ctx.index, ctx.catalogue, targets, overrides, DigestMemo(ctx.home.state / "local-digests.json")))
    return 0
