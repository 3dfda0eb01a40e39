"""Entry point. Keep imports here light: ``install`` of an installed target must answer fast."""
from __future__ import annotations

import argparse
import os
import signal
import sys

from uktoolchain import __version__
from uktoolchain.errors import BuildError, UkError

INTERNAL_ERROR_EXIT = 70


class Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like uktoolchain's own (exit 2, usage)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="uktoolchain",
        description="Build, cache and expose cross-compilation toolchains for OCaml unikernels.",
    )
    parser.add_argument("--version", action="version", version=f"uktoolchain {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    from uktoolchain.cli import cargo, cargo_config, check, doctor, env, gc, image, install, listing, workspace
    from uktoolchain.cli import cache_key, lock, paths, push, remote, remove, run, verify_objects

    for module in (install, listing, env, workspace, check, run, image, verify_objects, doctor, gc, remove, cargo,
                   cargo_config, remote, push, lock, cache_key, paths):
        module.register(sub)
    return parser


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM takes the same clean-up path as Ctrl-C


def report(exc: UkError) -> None:
    print(f"uktoolchain: error: {exc}", file=sys.stderr)
    if isinstance(exc, BuildError) and exc.tail:
        print(f"--- last {len(exc.tail)} lines of the {exc.component} build log ---", file=sys.stderr)
        for line in exc.tail:
            print(f"  {line}", file=sys.stderr)
        print(f"--- full log: {exc.log_path}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
        print("uktoolchain: interrupted; nothing half-built was kept, rerun to resume", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so briefly, details with --debug
        if args.debug:
            raise
        print(f"uktoolchain: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
              file=sys.stderr)
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
