"""uktoolchain cargo-config TARGET... [-o FILE] — cargo's configuration for targets installed with Rust.

Prints the configuration (or writes it to FILE): the Rust target, the rustc that built the
sysroot, and ``--sysroot`` per target, with this machine's paths. The same file is rendered in
the home (``rendered/<target>/cargo-config.toml``) for ``cargo --config FILE``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from uktoolchain import atomic
from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import say
from uktoolchain.installed import environment_of
from uktoolchain.errors import NotInstalledError, home_error_for_path


def register(sub) -> None:
    parser = sub.add_parser("cargo-config", help="print cargo's configuration for targets installed with Rust")
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help="default: the targets of the project's uktoolchain.toml")
    add_set_option(parser)
    parser.add_argument("-o", "--output", type=Path, help="write it to this file (e.g. .cargo/config.toml)")
    parser.set_defaults(run=run)


def run(args) -> int:
    ctx, names = Context.for_installed(args.ocaml, args.targets, "cargo-config")
    values = environment_of(ctx, names)
    rendered = values.get("UKTOOLCHAIN_CARGO_CONFIG")
    if rendered is None:
        names = " ".join(args.targets)
        raise NotInstalledError(f"{names} installed without Rust", f"run: uktoolchain install {names} --with rust")
    text = Path(rendered).read_text()
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            atomic.write_text(args.output, text)
        except OSError as exc:
            raise home_error_for_path(args.output, exc) from exc
        say(f"wrote {args.output}")
    say(f"rendered: {rendered}")
    return 0
