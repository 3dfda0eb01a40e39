"""uktoolchain run [--net NAME=TAP] [--block NAME=FILE] TARGET UNIKERNEL [--] [ARGS...] — boot a
unikernel here and end with its exit status. Options come before UNIKERNEL: everything after it
is the unikernel's command line."""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from uktoolchain import runner
from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.errors import UsageError


def register(sub) -> None:
    parser = sub.add_parser(
        "run", help="boot a unikernel for a target here and end with its exit status",
        description="Boot UNIKERNEL as TARGET's platform does (solo5-spt, solo5-hvt, QEMU for virtio and "
                    "aarch64-rpi4) and end with the unikernel's exit status. Options come before UNIKERNEL; "
                    "everything after it (after an optional --) is the unikernel's command line.")
    add_set_option(parser)
    parser.add_argument("--net", action="append", default=[], metavar="NAME=TAP",
                        help="attach the manifest's network device NAME to the host's tap interface TAP")
    parser.add_argument("--block", action="append", default=[], metavar="NAME=FILE",
                        help="attach the manifest's block device NAME to FILE")
    parser.add_argument("target", metavar="TARGET")
    parser.add_argument("unikernel", type=Path, metavar="UNIKERNEL", help="the ELF dune or the Solo5 linker wrote")
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="the unikernel's command line")
    parser.set_defaults(run=run)


def run(args) -> int:
    unikernel_args = _unikernel_args(args)
    devices = runner.Devices(_pairs(args.net, "--net", "TAP"), _pairs(args.block, "--block", "FILE"))
    ctx, _ = Context.for_installed(args.ocaml, [args.target], "run")
    [target] = ctx.catalogue.resolve([args.target])
    with tempfile.TemporaryDirectory(prefix="uktoolchain-run-") as workdir:
        launch, env = runner.prepare_installed(ctx, target, args.unikernel, unikernel_args, devices, Path(workdir))
        return runner.execute(launch, env)


def _unikernel_args(args) -> list[str]:
    """Everything after UNIKERNEL is the unikernel's command line; a -- before it is optional
    (argparse drops it in some positions and keeps it in others)."""
    rest = list(args.args)
    return rest[1:] if rest[:1] == ["--"] else rest


def _pairs(values: list[str], option: str, what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, resource = value.partition("=")
        if not sep or not name or not resource:
            raise UsageError(f"{option} {value}: expected NAME={what}", f"e.g. {option} service={what.lower()}0")
        if name in pairs:
            raise UsageError(f"{option} {name} given twice")
        pairs[name] = resource
    return pairs
