"""uktoolchain check TARGET... — build the bundled hello unikernel for targets and boot it."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from uktoolchain import checker
from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import out, say
from uktoolchain.installed import environment_of, records
from uktoolchain.errors import CheckFailedError, ConfigError
from uktoolchain.platforms import platform_of
from uktoolchain.preflight import require_buildable, require_tools


def register(sub) -> None:
    parser = sub.add_parser("check", help="build and boot a hello unikernel for installed targets")
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help="default: the targets of the project's uktoolchain.toml")
    add_set_option(parser)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="build in DIR and keep it (default: a temporary dir)")
    parser.set_defaults(run=run)


def run(args) -> int:
    ctx, names = Context.for_installed(args.ocaml, args.targets, "check")
    targets = ctx.catalogue.resolve(names)
    hosts = [t.name for t in targets if not platform_of(t).unikernel]
    if hosts:
        raise ConfigError(f"check builds unikernels; {', '.join(hosts)} is not a unikernel target",
                          "give Solo5 targets, e.g. uktoolchain check spt hvt")
    require_buildable(targets)
    require_tools(["cmake"], "check (the hello unikernel links a CMake-built C library)")
    values = environment_of(ctx, [t.name for t in targets])
    project = args.keep or Path(tempfile.mkdtemp(prefix="uktoolchain-check-")) / "hello"
    with_rust = [r.target for r in records(ctx, [t.name for t in targets]) if "rust" in r.extras]
    rust = len(with_rust) == len(targets)
    if not rust:
        missing = " ".join(t.name for t in targets if t.name not in with_rust)
        say(f"note: the Rust part of the hello unikernel is left out: {missing} "
            f"{'has' if ' ' not in missing else 'have'} no Rust sysroot "
            f"(uktoolchain install {missing} --with rust)")
    outcomes = checker.check(targets, values, project, rust=rust, ocaml=ctx.catalogue.versions.get("ocaml"))
    width = max(len(o.target) for o in outcomes)
    for outcome in outcomes:
        mark = {"booted": "ok    ", "linked": "linked", "failed": "FAILED"}[outcome.status]
        out(f"{mark}  {outcome.target.ljust(width)}  {outcome.detail}")
    failed = [o.target for o in outcomes if o.status == "failed"]
    if failed:
        raise CheckFailedError(f"check failed for {', '.join(failed)}", f"the build is kept in {project}")
    if args.keep is None:
        shutil.rmtree(project.parent, ignore_errors=True)
    say(f"{sum(o.status == 'booted' for o in outcomes)} booted, {sum(o.status == 'linked' for o in outcomes)} "
        "linked and verified only")
    return 0
