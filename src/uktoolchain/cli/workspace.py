"""uktoolchain workspace TARGET... [-o dune-workspace] — dune contexts for unikernel targets."""
from __future__ import annotations

from pathlib import Path

from uktoolchain import mirage
from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import say
from uktoolchain.outputs import require_existing_directory
from uktoolchain.errors import home_error_for_path
from uktoolchain.exporters import workspace


def register(sub) -> None:
    parser = sub.add_parser("workspace", help="write a dune-workspace with one context per target")
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help="default: the targets of the project's uktoolchain.toml")
    add_set_option(parser)
    parser.add_argument("-o", "--output", type=Path, default=Path("dune-workspace"),
                        help="the file to write or merge into (default: ./dune-workspace); its directory must exist")
    parser.add_argument("--merlin", metavar="TARGET",
                        help="the context editors see through merlin (default: the workspace's own "
                        "(merlin) context, else the first unikernel target)")
    parser.set_defaults(run=run)


def run(args) -> int:
    ctx = Context.load(args.ocaml)
    targets = ctx.catalogue.resolve(ctx.pinned_targets(args.targets, "workspace"))
    require_existing_directory(args.output)
    # In a MirageOS project dune would build none of mirage's rules in our contexts, silently.
    project = mirage.detect(args.output.absolute().parent)
    if project is not None:
        raise mirage.refuse_workspace(project, targets)
    try:
        editors = workspace.write(args.output, targets, args.merlin)
    except OSError as exc:
        raise home_error_for_path(args.output, exc) from exc
    names = " ".join(t.name for t in targets)
    say(f"wrote {args.output}: contexts {', '.join(t.name for t in targets if t.binding)}; "
        f"editors (merlin) see {editors}")
    say(f'build with:  eval "$(uktoolchain env {names})" && dune build')
    return 0
