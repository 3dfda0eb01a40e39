"""workspace / check / env on the CLI: bad input gets one line and a distinct exit code."""
from __future__ import annotations

from mirage_layout import configured


def test_workspace_writes_and_refuses_clearly(uk, tmp_path):
    out = tmp_path / "dune-workspace"
    assert uk("workspace", "spt", "aarch64-hvt", "-o", str(out)).returncode == 0
    assert "(toolchain solo5_aarch64)" in out.read_text()
    clash = tmp_path / "clash"
    clash.write_text("(lang dune 3.0)\n(context (default (name spt)))\n")
    result = uk("workspace", "spt", "-o", str(clash))
    assert result.returncode == 3 and "already has contexts named spt" in result.stderr
    unwritable = uk("workspace", "spt", "-o", "/proc/version/dune-workspace")
    assert unwritable.returncode == 6 and "cannot write /proc/version/dune-workspace" in unwritable.stderr
    assert uk("workspace", "unix", "-o", str(tmp_path / "x")).returncode == 3


def test_check_needs_installed_unikernel_targets(uk):
    host = uk("check", "unix")
    assert host.returncode == 3 and "not a unikernel target" in host.stderr
    missing = uk("check", "spt", "hvt")
    assert missing.returncode == 6 and "target spt is not installed" in missing.stderr
    assert "uktoolchain install spt hvt" in missing.stderr


def test_env_of_several_targets_names_every_missing_install(uk):
    result = uk("env", "spt", "aarch64-spt")
    assert result.returncode == 6 and "uktoolchain install spt aarch64-spt" in result.stderr


def test_a_cross_target_without_its_cross_gcc_is_refused_before_planning(uk, tmp_path):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    result = uk("install", "aarch64-spt", env={"PATH": str(empty)})
    assert result.returncode == 6, result.stderr
    line = result.stderr.strip()
    assert "aarch64-spt cannot be built or used on this host: aarch64-linux-gnu-gcc not found" in line
    assert "apt-get install -y gcc-aarch64-linux-gnu" in line or "dnf install" in line
    assert "\n" not in line


def test_workspace_in_a_mirage_project_says_what_to_run_and_writes_nothing(uk, tmp_path):
    project = configured(tmp_path / "hello", "spt")
    before = (project / "dune-workspace").read_text()
    result = uk("workspace", "spt", "-o", str(project / "dune-workspace"))
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("\n") == 1 and "is a MirageOS project configured for spt" in result.stderr
    assert 'eval "$(uktoolchain env spt)" && make build' in result.stderr
    assert (project / "dune-workspace").read_text() == before
    # Elsewhere (here: the project's parent) it writes as always.
    assert uk("workspace", "spt", "-o", str(tmp_path / "dune-workspace")).returncode == 0
