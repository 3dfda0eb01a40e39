"""Entry point. Keep imports here light: ``install`` of an installed target must answer fast.

The records those paths read (targets, state, config, installed packages) are NamedTuples, not
dataclasses: importing dataclasses (with inspect) and the methods it generates for each class cost
``env`` of two targets about a third of its time."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from importlib import import_module

from uktoolchain import __version__
from uktoolchain.console import say
from uktoolchain.errors import BuildError, UkError

INTERNAL_ERROR_EXIT = 70


# Command -> (module of uktoolchain.cli, help). Only the module of the command that runs is
# imported (importing them all cost ~0.09 s of a no-op install); the others are listed by --help
# from this table. tests/unit/test_cli_table.py keeps it equal to what each module registers.
COMMANDS: dict[str, tuple[str, str]] = {
    "install": ("install", "build or fetch the toolchains of targets"),
    "list": ("listing", "list targets, toolchain sets and what is installed"),
    "env": ("env", "print the environment that makes targets' tools usable"),
    "workspace": ("workspace", "write a dune-workspace with one context per target"),
    "check": ("check", "build and boot a hello unikernel for installed targets"),
    "run": ("run", "boot a unikernel for a target here and end with its exit status"),
    "image": ("image", "make a bootable SD card image (or boot files) for a Raspberry Pi 4"),
    "verify-objects": ("verify_objects", "check that static libraries or objects were built for a target"),
    "doctor": ("doctor", "check host prerequisites"),
    "gc": ("gc", "remove builds that no installed target of any set uses"),
    "remove": ("remove", "uninstall targets of a toolchain set (default: all of that set)"),
    "cargo": ("cargo", "run cargo for a target installed with Rust (--with rust)"),
    "cargo-config": ("cargo_config", "print cargo's configuration for targets installed with Rust"),
    "remote": ("remote", "Conan remotes to download toolchains from and push them to"),
    "push": ("push", "upload installed toolchains (and their sources) to a remote"),
    "lock": ("lock", "write a lock file pinning every recipe revision and source checksum"),
    "cache-key": ("cache_key", "print a CI cache key that changes when any input of the targets does"),
    "paths": ("paths", "show where the home, packages, sources and logs are"),
}


def command_of(argv: list[str]) -> str | None:
    """The command named in ``argv``: its first word that is not an option (the top-level options
    take no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like uktoolchain's own (exit 2, usage).

    argparse's formatter, made for every parser and argument, asks shutil for the terminal's
    width; importing shutil (and the bz2 and lzma it imports) is ~2 ms of a no-op install. The
    same rule (COLUMNS, else the terminal, else 80), without it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")

    def _get_formatter(self):
        return self.formatter_class(prog=self.prog, width=_columns() - 2)


def _columns() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: when it names a command, that command alone (each subparser costs
    argparse's gettext look-ups); otherwise, for --help and for the "invalid choice" error, every
    command by name and help (all fully defined when ``argv`` is None)."""
    parser = _Parser(
        prog="uktoolchain",
        description="Build, cache and expose cross-compilation toolchains for OCaml unikernels.",
    )
    parser.add_argument("--version", action="version", version=f"uktoolchain {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = None if argv is None else command_of(argv)
    if chosen in COMMANDS:
        import_module(f"uktoolchain.cli.{COMMANDS[chosen][0]}").register(sub)
        return parser
    for name, (module, help_text) in COMMANDS.items():
        if argv is None:
            import_module(f"uktoolchain.cli.{module}").register(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM takes the same clean-up path as Ctrl-C


def report(exc: UkError) -> None:
    say(f"uktoolchain: error: {exc}")
    if isinstance(exc, BuildError) and exc.tail:
        say(f"--- last {len(exc.tail)} lines of the {exc.component} build log ---")
        for line in exc.tail:
            say(f"  {line}")
        say(f"--- full log: {exc.log_path}")


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    args = build_parser(argv).parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = args.run(args) or 0
        if sys.stdout is not None:  # None when started with fd 1 closed
            sys.stdout.flush()  # here, not at exit: a closed stdout must reach the handler below
        return code
    except BrokenPipeError:
        if not _stdout_closed():
            raise
        return _end_like_a_closed_pipe()
    except UkError as exc:
        if args.debug:
            raise
        report(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        say("uktoolchain: interrupted; nothing half-built was kept, rerun to resume")
        return 130
    except Exception as exc:  # a bug: say so briefly, details with --debug
        if args.debug:
            raise
        say(f"uktoolchain: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
        return INTERNAL_ERROR_EXIT


def _stdout_closed() -> bool:
    """Whether the reader of stdout went away (`uktoolchain doctor | head -1`)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def _end_like_a_closed_pipe() -> int:
    """End quietly, as C tools do when their reader is gone: by SIGPIPE (the shell reports 141).
    What is still buffered for stdout is dropped rather than reported at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
    return 128 + signal.SIGPIPE  # what a shell would report, should the signal not end us
