"""uktoolchain cargo [--out DIR] TARGET -- CARGO-ARGS — cargo for a target installed with Rust.

Runs the chosen toolchain's cargo with the target's environment (its Rust target and sysroot), so
``uktoolchain cargo spt -- build --release`` builds a crate's staticlib for spt. ``--out DIR``
copies the static libraries cargo produced into DIR (what a dune rule wants as its target). When
the build fails for a reason of the target (the crate needs std, or a panic handler or allocator
is missing), the error says so and what to write instead; cargo's own messages stay above it.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import say
from uktoolchain.installed import environment_of
from uktoolchain.errors import CargoFailedError, NotInstalledError, UsageError, home_error_for_path
from uktoolchain.exporters import environment

# cargo/rustc messages -> what the target needs instead (checked in this order).
_HINTS = (
    (re.compile(r"can't find crate for `std`|crate `std` required"),
     "{target} is a #![no_std] target: its sysroot has core, alloc, compiler_builtins, uk_alloc and "
     "uk_panic, not std. Write #![no_std] (extern crate alloc for Vec/String), and take dependencies "
     "without their std feature (default-features = false)"),
    (re.compile(r"`#\[panic_handler\]` function required"),
     "add `extern crate uk_panic;` (a panic aborts the unikernel) or define your own #[panic_handler]"),
    (re.compile(r"no global memory allocator found|`#\[alloc_error_handler\]` function required"),
     "add `extern crate uk_alloc;` (Rust then allocates with the unikernel's malloc)"),
)


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
    env = environment.resolve(values, os.environ)
    # With --out, read cargo's JSON messages for the files it produced (the rendered human
    # diagnostics still go to stderr).
    collect = args.out is not None and not any(a.startswith("--message-format") for a in cargo_args)
    command = [env["CARGO"], cargo_args[0]] + (["--message-format=json-render-diagnostics"] if collect else []) \
        + cargo_args[1:]
    status, stderr_text, produced = _run(command, env, collect)
    rust_target = Path(env["CARGO_BUILD_TARGET"]).stem
    if status != 0:
        hint = next((h.format(target=rust_target) for pattern, h in _HINTS if pattern.search(stderr_text)), None)
        raise CargoFailedError(f"cargo {cargo_args[0]} for {args.target} ({rust_target}) failed (exit status {status})",
                               hint)
    if args.out is not None:
        archives = [p for p in produced if p.suffix == ".a"]
        if not archives:
            raise CargoFailedError("cargo produced no static library to copy",
                                   'give the crate [lib] crate-type = ["staticlib"] and run `build`')
        try:
            args.out.mkdir(parents=True, exist_ok=True)
            for archive in archives:
                shutil.copy2(archive, args.out / archive.name)
                say(f"uktoolchain: {archive.name} -> {args.out}")
        except OSError as exc:
            raise home_error_for_path(args.out, exc) from exc
    return 0


def _run(command: list[str], env: dict[str, str], collect: bool) -> tuple[int, str, list[Path]]:
    """Run cargo passing its output through; (status, its stderr, files of compiler artifacts)."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE if collect else None,
                               stderr=subprocess.PIPE, text=True, errors="replace")
    seen: list[str] = []

    def tee() -> None:
        for line in process.stderr:  # type: ignore[union-attr]
            sys.stderr.write(line)
            seen.append(line)

    reader = threading.Thread(target=tee, daemon=True)
    reader.start()
    produced: list[Path] = []
    if collect:
        for line in process.stdout:  # type: ignore[union-attr]
            try:
                message = json.loads(line)
            except ValueError:
                sys.stdout.write(line)
                continue
            if message.get("reason") == "compiler-artifact":
                produced += [Path(f) for f in message.get("filenames", ())]
    status = process.wait()
    reader.join()
    return status, "".join(seen), produced
