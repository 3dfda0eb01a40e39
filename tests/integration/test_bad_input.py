"""Bad input and the exit codes: each mistake is one line naming the problem and the fix, with
its own exit code, and the README's table lists every code the CLI returns.

Real CLI in a subprocess; the synthetic recipe index and real Conan where a build is involved.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import synthetic
from uktoolchain import errors
from uktoolchain.cli import main as cli_main
from uktoolchain.targets import host_target_arch

REPO = Path(__file__).resolve().parents[2]


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- config.toml --------------------------------------------------------------------------------


def test_config_toml_that_cannot_be_read(uk, isolated_home):
    isolated_home.mkdir(parents=True)
    config = isolated_home / "config.toml"
    config.mkdir()  # a directory where the file should be: open() fails, as for any unreadable file
    result = uk("list")
    assert result.returncode == 3
    assert one_line(result) == (f"uktoolchain: error: cannot read {config}: Is a directory "
                                "(make it a readable file, or remove it)")

    config.rmdir()
    config.write_bytes(b'[sources]\nocaml = "/tmp/caf\xe9"\n')  # Latin-1, not UTF-8
    result = uk("list")
    assert result.returncode == 3
    assert f"cannot read {config}: not UTF-8 text (byte 27)" in one_line(result)

    config.write_text("[sources\n")
    result = uk("list")
    assert result.returncode == 3 and "fix its TOML syntax" in one_line(result)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_config_toml_without_read_permission(uk, isolated_home):
    isolated_home.mkdir(parents=True)
    config = isolated_home / "config.toml"
    config.write_text("[sources]\n")
    config.chmod(0)
    result = uk("list")
    assert result.returncode == 3
    assert one_line(result) == (f"uktoolchain: error: cannot read {config}: Permission denied "
                                "(make it a readable file, or remove it)")


def test_config_toml_unknown_keys_are_named_and_ignored(uk, isolated_home):
    isolated_home.mkdir(parents=True)
    (isolated_home / "config.toml").write_text('[sourcs]\nocaml = "x"\n\n[mirrors]\ndir = ["/srv"]\n')
    result = uk("list")
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.strip().splitlines()
    config = isolated_home / "config.toml"
    assert warnings == [
        f"uktoolchain: warning: {config}: unknown key 'sourcs' is ignored (known: [sources], [mirrors])",
        f"uktoolchain: warning: {config}: unknown key 'mirrors.dir' is ignored (known: dirs)",
    ]
    assert "unix" in result.stdout  # the command did its work


# -- options ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_jobs_must_be_at_least_one(uk, value):
    result = uk("install", "unix", f"--jobs={value}")
    assert result.returncode == 2
    assert one_line(result) == (f"uktoolchain install: error: argument --jobs/-j: expects a whole number of at "
                                f"least 1, got '{value}' (see `uktoolchain install --help`)")


def test_image_wants_exactly_one_output(uk, tmp_path):
    unikernel = tmp_path / "hello.exe"
    unikernel.write_bytes(b"\x7fELF")
    both = uk("image", "aarch64-rpi4", str(unikernel), "-o", str(tmp_path / "sd.img"), "--boot-dir", str(tmp_path / "b"))
    assert both.returncode == 2
    assert "argument --boot-dir: not allowed with argument -o/--output" in one_line(both)
    neither = uk("image", "aarch64-rpi4", str(unikernel))
    assert neither.returncode == 2
    assert "one of the arguments -o/--output --boot-dir is required" in one_line(neither)
    assert not (tmp_path / "sd.img").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("url", ["ftp://cache.example", "cache.example:9300", "file:///srv/conan"])
def test_remote_add_wants_an_http_url(uk, url):
    result = uk("remote", "add", "ci", url)
    assert result.returncode == 3
    assert one_line(result) == (f"uktoolchain: error: invalid remote URL '{url}' "
                                "(give an http:// or https:// URL, e.g. http://cache.example:9300)")


def test_workspace_into_a_missing_directory(uk, tmp_path):
    target = tmp_path / "no-such-project" / "dune-workspace"
    result = uk("workspace", "spt", "-o", str(target))
    assert result.returncode == 3
    assert one_line(result) == (f"uktoolchain: error: cannot write {target}: the directory {target.parent} does not "
                                "exist (create it first, or give -o a path in an existing directory)")
    assert not target.parent.exists()


def test_lock_into_a_missing_directory_is_refused_before_any_work(uk, index, isolated_home, tmp_path):
    target = tmp_path / "ci" / "uktoolchain.lock"
    result = uk("lock", "solo", "-o", str(target))
    assert result.returncode == 3
    assert f"the directory {target.parent} does not exist" in one_line(result)
    assert not target.parent.exists()
    assert not (isolated_home / "conan").exists()  # refused before exporting anything
    (tmp_path / "ci").mkdir()
    assert uk("lock", "solo", "-o", str(target)).returncode == 0
    assert target.is_file()


# -- the exit code table ------------------------------------------------------------------------


def readme_exit_codes() -> dict[int, str]:
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\d+)` \| (.+?) \|$", section, re.M)
    assert rows, "the README's Exit codes section has no table"
    return {int(code): meaning for code, meaning in rows}


def error_classes(base=errors.UkError):
    for cls in base.__subclasses__():
        yield cls
        yield from error_classes(cls)


def test_the_table_lists_every_code_of_errors_py():
    table = readme_exit_codes()
    codes = {cls.exit_code for cls in [errors.UkError, *error_classes()]}
    assert codes <= set(table), f"errors.py has codes the README lacks: {sorted(codes - set(table))}"
    assert cli_main.INTERNAL_ERROR_EXIT in table and 2 in table  # argparse's usage errors are 2


def unikernel_index(tmp_path, server, monkeypatch) -> Path:
    """The synthetic index plus a unikernel target of this machine's architecture."""
    root = synthetic.write_index(tmp_path / "index", server)
    catalogue = root / "recipes" / "targets.toml"
    catalogue.write_text(catalogue.read_text() + f'\n[targets.uni]\ndescription = "a unikernel"\narch = '
                         f'"{host_target_arch()}"\nbinding = "spt"\ncomponents = ["alpha"]\n')
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))
    return root


def trigger(code: int, uk, tmp_path, server, monkeypatch):
    """Run the CLI so that it returns ``code``; give back (process result, what the test expects)."""
    def index(**kwargs):
        root = synthetic.write_index(tmp_path / "index", server, **kwargs)
        monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))

    if code == 0:
        return uk("paths")
    if code == 2:
        return uk("install", "no-such-target")
    if code == 3:
        return uk("install", "unix", "--source", f"ocaml={tmp_path / 'missing.tar.gz'}")
    if code == 4:
        index(urls={"alpha": [synthetic.dead_url("alpha-1.0.tar.gz")]})
        return uk("install", "solo", "--plain")
    if code == 5:
        index()
        return uk("install", "solo", "--plain", env={"SYNTH_FAIL_ALPHA": "1"})
    if code == 6:
        return uk("env", "unix")
    if code == 7:
        index()
        return uk("install", "solo", "--plain", "--build=never")
    if code == 8:
        from uktoolchain import doctor

        if not doctor.run_checks(["cmake"])[0].ok:
            pytest.skip("check needs cmake")
        unikernel_index(tmp_path, server, monkeypatch)
        assert uk("install", "uni", "--plain").returncode == 0
        # The hello unikernel's `dune build` fails: here, a dune that refuses, put first on PATH.
        bindir = tmp_path / "bin"
        bindir.mkdir()
        (bindir / "dune").write_text("#!/bin/sh\necho 'Error: no rule to make hello.exe' >&2\nexit 1\n")
        (bindir / "dune").chmod(0o755)
        return uk("check", "uni", env={"PATH": f"{bindir}:{os.environ['PATH']}"})
    if code == 130:
        index()
        process = uk.popen("install", "solo", "--plain", env={"SYNTH_SLEEP": "30"})
        deadline = time.monotonic() + 120
        log = Path(os.environ["UKTOOLCHAIN_HOME"]) / "logs" / "default" / "alpha.log"
        while not (log.is_file() and "sleeping" in log.read_text()):
            assert time.monotonic() < deadline and process.poll() is None, "the build never started"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)
    if code == 141:
        # The reader of stdout is gone before anything is written (`uktoolchain doctor | head -0`).
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            return subprocess.run([sys.executable, "-m", "uktoolchain", "doctor"], stdout=write_end,
                                  stderr=subprocess.PIPE, text=True, timeout=120)
        finally:
            os.close(write_end)
    raise AssertionError(f"no trigger for exit code {code}: add one here")


NO_REAL_TRIGGER = {70: "an internal error is a bug of ours; none is known to trigger one"}


@pytest.mark.parametrize("code", sorted(readme_exit_codes()))
def test_every_code_in_the_table_is_returned(code, uk, tmp_path, server, monkeypatch, capsys):
    if code in NO_REAL_TRIGGER:
        # No real trigger: prove instead that main() maps an unexpected exception to this code,
        # in one line, without a traceback unless --debug.
        from uktoolchain.cli import paths

        def broken(args):
            raise RuntimeError("simulated bug")

        monkeypatch.setattr(paths, "run", broken)
        assert cli_main.main(["paths"]) == code == cli_main.INTERNAL_ERROR_EXIT
        assert capsys.readouterr().err == ("uktoolchain: internal error: RuntimeError: simulated bug "
                                           "(rerun with --debug for the traceback)\n")
        return
    result = trigger(code, uk, tmp_path, server, monkeypatch)
    if code == 141:  # ended by SIGPIPE, which a shell reports as 128 + 13
        assert result.returncode == -signal.SIGPIPE and result.stderr == "", result.stderr
        return
    assert result.returncode == code, result.stderr[-3000:]
    assert "Traceback" not in result.stderr


def test_a_closed_stdout_ends_quietly_in_a_shell_pipeline(isolated_home):
    # What a user types: the pipeline's status for uktoolchain is 141, and nothing is said.
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m uktoolchain doctor | head -c 0"],
                            capture_output=True, text=True, timeout=120)
    assert result.stderr == ""
    assert result.returncode in (0, 141)  # 0 when doctor wrote everything before head exited
    closed = subprocess.run(["bash", "-c", f"set -o pipefail; exec 1>&-; {sys.executable} -m uktoolchain doctor"],
                            capture_output=True, text=True, timeout=120)
    assert "internal error" not in closed.stderr and "BrokenPipe" not in closed.stderr
