"""uktoolchain cargo [--out DIR] TARGET -- CARGO-ARGS — cargo for a target installed with Rust.

Runs the chosen toolchain's cargo with the target's environment (its Rust target and sysroot), so
``uktoolchain cargo spt -- build --release`` builds a crate's staticlib for spt. ``--out DIR``
copies the static libraries cargo produced into DIR (what a dune rule wants as its target). When
the build fails for a reason of the target (the crate needs std, or a panic handler or allocator
is missing), the error says so and what to write instead; cargo's own messages stay above it.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from uktoolchain.cargo_runner import run_cargo
from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import say
from uktoolchain.installed import environment_of
from uktoolchain.errors import NotInstalledError, UsageError
from uktoolchain.exporters import environment


def register(sub) -> None:
    parser = sub.add_parser("cargo", help="run cargo for a target installed with Rust (--with rust)",
                            description="Run cargo for TARGET: uktoolchain cargo [--out DIR] TARGET -- build --release")
    parser.add_argument("--out", type=Path, metavar="DIR", help="copy the static libraries built into DIR")
    parser.add_argument("target", metavar="TARGET")
    add_set_option(parser)
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="CARGO-ARGS", help="after --: cargo's arguments")
    parser.set_defaults(run=run)


def run(args) -> int:
    cargo_args = args.args[1:] if args.args[:1] == ["--"] else list(args.args)
    if not cargo_args:
        raise UsageError("no cargo command given", "e.g. uktoolchain cargo spt -- build --release")
    ctx, _ = Context.for_installed(args.ocaml, [args.target], "cargo")
    values = environment_of(ctx, [args.target])
    if "CARGO_BUILD_TARGET" not in values:
        raise NotInstalledError(f"target {args.target} is installed without Rust",
                                f"run: uktoolchain install {args.target} --with rust")
    run_cargo(args.target, environment.resolve(values, os.environ), cargo_args, args.out, say)
    return 0
