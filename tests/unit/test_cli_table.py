"""The command table of cli/main.py: --help lists every command without importing its module, and
the table says what each module itself registers."""
from __future__ import annotations

import subprocess
import sys

from uktoolchain.cli.main import COMMANDS, build_parser


def _subcommands(parser) -> dict[str, str]:
    [action] = [a for a in parser._actions if a.dest == "command"]
    return {choice.dest: choice.help for choice in action._choices_actions}


def test_table_matches_what_the_modules_register():
    assert _subcommands(build_parser()) == {name: help_text for name, (_, help_text) in COMMANDS.items()}


def test_parser_for_one_command_defines_it_alone():
    parser = build_parser(["--debug", "env", "spt", "--json"])
    assert list(_subcommands(parser)) == ["env"]
    args = parser.parse_args(["--debug", "env", "spt", "--json"])
    assert (args.command, args.targets, args.json, args.debug) == ("env", ["spt"], True, True)


def test_help_and_a_mistyped_command_list_every_command():
    assert list(_subcommands(build_parser(["--help"]))) == list(COMMANDS)
    assert list(_subcommands(build_parser(["instal", "spt"]))) == list(COMMANDS)


def test_help_and_one_command_import_only_that_command():
    probe = (
        "import contextlib, io, sys\n"
        "from uktoolchain.cli.main import build_parser\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        "        build_parser(['--help']).parse_args(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "listed = all(name in out.getvalue() for name in ('install', 'cargo-config', 'verify-objects'))\n"
        "build_parser(['paths'])\n"
        "print(listed, sorted(m for m in sys.modules if m.startswith('uktoolchain.cli.') and m != 'uktoolchain.cli.main'))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True ['uktoolchain.cli.paths']"
