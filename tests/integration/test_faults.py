"""What goes wrong, and what the user and the home are left with: usage errors, failed and
interrupted builds and downloads, a busy, full or read-only home.

Real CLI in a subprocess, real Conan, real HTTP server on 127.0.0.1, real signals and mounts.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import synthetic
from conftest import shell_with_env

# -- helpers ----------------------------------------------------------------------------------


class Watched:
    """A ``uk.popen`` process whose stderr is read by a thread, so tests can wait for a phrase."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.lines: list[str] = []
        self.stdout = ""
        self._err = threading.Thread(target=self._read_err, daemon=True)
        self._out = threading.Thread(target=self._read_out, daemon=True)
        self._err.start()
        self._out.start()

    def _read_err(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def _read_out(self) -> None:
        self.stdout = self.process.stdout.read()

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, condition, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                self.finish(5)
                raise AssertionError(f"process ended ({self.process.returncode}) before {what}:\n{self.stderr}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"timed out waiting for {what}:\n{self.stderr}")
            time.sleep(0.05)

    def finish(self, timeout: float) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        self._err.join(5)
        self._out.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def conan_packages(home: Path, pattern: str) -> dict:
    """package_id -> info of the binaries Conan lists for ``pattern`` (e.g. 'alpha/1.0:*')."""
    result = subprocess.run(
        [sys.executable, "-m", "conans.conan", "list", pattern, "--format=json"],
        capture_output=True, text=True, env={**os.environ, "CONAN_HOME": str(home / "conan")}, check=True,
    )
    packages = {}
    for recipe in json.loads(result.stdout)["Local Cache"].values():
        for revision in recipe.get("revisions", {}).values():
            packages.update(revision.get("packages", {}))
    return packages


def store_files(home: Path) -> list[str]:
    store = home / "sources"
    return sorted(p.name for p in store.iterdir()) if store.is_dir() else []


def alpha_sha256(index: Path) -> str:
    text = (index / "recipes" / "alpha" / "conandata.yml").read_text()
    return text.split('sha256: "')[1].split('"')[0]


def pids_of(pattern: str, home: Path) -> set[int]:
    """Processes matching ``pattern`` (pgrep -f) that run for the uktoolchain home ``home``."""
    result = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    mine = set()
    for pid in map(int, result.stdout.split()):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue  # already gone
        if f"UKTOOLCHAIN_HOME={home}".encode() in environ:
            mine.add(pid)
    return mine


def mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN): {result.stderr.strip()}")


def umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


# -- usage errors -----------------------------------------------------------------------------


def test_unknown_target_suggests_and_lists_valid_targets(uk, index, isolated_home):
    result = uk("install", "sol")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "unknown target 'sol'" in lines[0]
    assert "did you mean solo" in lines[0]
    assert "valid targets: solo, tiny (planned: later)" in lines[0]
    assert not (isolated_home / "conan").exists()  # refused before touching anything


def test_target_not_yet_available(uk, index, isolated_home):
    result = uk("install", "later")
    assert result.returncode == 2
    assert "later" in result.stderr and "not yet available" in result.stderr
    assert "available now: solo, tiny" in result.stderr
    assert not (isolated_home / "conan").exists()


def test_env_of_target_not_installed(uk, index):
    result = uk("env", "solo")
    assert result.returncode == 6
    assert "target solo is not installed" in result.stderr and "uktoolchain install solo" in result.stderr


def test_doctor_make(uk):
    result = uk("doctor", "make")
    assert result.returncode == 0, result.stderr
    assert any(line.split()[1:2] == ["make:"] for line in result.stdout.splitlines()), result.stdout
    assert result.stdout.rstrip().endswith("missing")


# -- build failures ---------------------------------------------------------------------------


def test_build_failure_shows_the_log_tail_and_path(uk, index, isolated_home):
    result = uk("install", "tiny", "--plain", env={"SYNTH_FAIL_BETA": "1"})
    assert result.returncode == 5, result.stderr
    log = isolated_home / "logs" / "default" / "beta.log"
    assert f"building beta failed; full log: {log}" in result.stderr
    tail = result.stderr.split("--- last ", 1)[1]
    assert "lines of the beta build log ---" in tail
    assert "beta is told to fail" in tail
    assert f"--- full log: {log}" in tail
    assert log.is_file() and "beta is told to fail" in log.read_text()
    assert not (isolated_home / "state" / "installed" / "default" / "tiny.json").exists()


def test_failed_rebuild_keeps_the_previous_toolchain(uk, index, isolated_home):
    uk("install", "tiny", "--plain", check=True)
    stamp = isolated_home / "state" / "installed" / "default" / "tiny.json"
    before = stamp.read_bytes()
    recipe = index / "recipes" / "beta" / "conanfile.py"
    recipe.write_text(recipe.read_text() + "\n# a new revision of beta\n")

    result = uk("install", "tiny", "--plain", env={"SYNTH_FAIL_BETA": "1"})
    assert result.returncode == 5, result.stderr
    assert "building beta failed" in result.stderr
    assert stamp.read_bytes() == before

    script = uk("env", "tiny", check=True).stdout
    ran = shell_with_env(script, "alpha && beta && gamma")
    assert ran.stdout.splitlines() == ["hello from alpha", "hello from beta", "hello from gamma"], ran.stderr


# -- interruptions ----------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_build_leaves_nothing_half_built(uk, index, isolated_home, sig):
    assert not pids_of("sleep 60", isolated_home)
    run = Watched(uk.popen("install", "solo", "--plain", env={"SYNTH_SLEEP": "60"}))
    log = isolated_home / "logs" / "default" / "alpha.log"
    run.wait_for(lambda: log.is_file() and "sleeping" in log.read_text(), "the build to sleep")
    ours = pids_of("sleep 60", isolated_home)
    assert ours, "the build's sleep should be running"

    started = time.monotonic()
    run.process.send_signal(sig)
    code = run.finish(timeout=30)
    assert code == 130, run.stderr
    assert time.monotonic() - started < 20
    assert "interrupted" in run.stderr
    assert not (isolated_home / "state" / "installed" / "default" / "solo.json").exists()
    assert conan_packages(isolated_home, "alpha/1.0:*") == {}
    assert not pids_of("sleep 60", isolated_home), "the build's processes must be gone"
    assert not pids_of("conans.conan", isolated_home)

    result = uk("install", "solo", "--plain", check=True)
    assert "installed: solo (built alpha)" in result.stderr
    assert len(conan_packages(isolated_home, "alpha/1.0:*")) == 1


def test_interrupted_download_resumes(uk, index, isolated_home, server):
    synthetic.write_index(index, server, padding=2_000_000)
    digest = alpha_sha256(index)
    server.state.throttle = 0.05  # 16 KiB per 50 ms: about 6 s for the whole archive
    run = Watched(uk.popen("install", "solo", "--plain"))
    partial = isolated_home / "sources" / f"{digest}.part"
    run.wait_for(lambda: partial.is_file() and partial.stat().st_size > 0 and "alpha: downloading" in run.stderr,
                 "the download to start")

    run.process.send_signal(signal.SIGTERM)
    assert run.finish(timeout=30) == 130, run.stderr
    assert digest not in store_files(isolated_home)
    assert not (isolated_home / "state" / "installed" / "default" / "solo.json").exists()
    kept = partial.stat().st_size
    assert 0 < kept < 2_000_000

    server.state.throttle = 0
    server.state.ranges.clear()
    uk("install", "solo", "--plain", check=True)
    assert digest in store_files(isolated_home)
    ranges = [r for r in server.state.ranges if r]
    assert ranges and int(ranges[0].split("=")[1].split("-")[0]) == kept, server.state.ranges
    assert hashlib.sha256((isolated_home / "sources" / digest).read_bytes()).hexdigest() == digest


# -- a busy home ------------------------------------------------------------------------------


@pytest.fixture
def held_lock(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    fd = os.open(isolated_home / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.ftruncate(fd, 0)
    os.write(fd, b"424242")
    state = {"fd": fd}

    def release() -> None:
        if state["fd"] is not None:
            os.close(state["fd"])
            state["fd"] = None

    yield release
    release()


def test_busy_home_with_no_wait(uk, index, isolated_home, held_lock):
    result = uk("install", "solo", "--plain", "--no-wait")
    assert result.returncode == 6, result.stderr
    assert "another uktoolchain process (pid 424242)" in result.stderr
    assert not (isolated_home / "state" / "installed" / "default" / "solo.json").exists()


def test_busy_home_waits_then_installs(uk, index, isolated_home, held_lock):
    run = Watched(uk.popen("install", "solo", "--plain"))
    run.wait_for(lambda: "waiting for another uktoolchain process" in run.stderr, "the wait message")
    time.sleep(0.5)
    assert run.process.poll() is None, "it must wait while the lock is held"
    assert not (isolated_home / "conan").exists()
    held_lock()
    assert run.finish(timeout=120) == 0, run.stderr
    assert "pid 424242" in run.stderr
    assert "installed: solo" in run.stderr
    assert (isolated_home / "state" / "installed" / "default" / "solo.json").is_file()


def test_an_install_waiting_for_the_home_plans_from_what_the_one_before_it_installed(uk, index, isolated_home):
    """Issue 12, item 2: `install solo --with ed` runs; `install solo`, started meanwhile, must not
    take solo's extras from before the first ended (it read them before the lock, and dropped ed)."""
    catalogue = index / "recipes" / "targets.toml"
    catalogue.write_text(catalogue.read_text() + '\n[extras.ed]\ndescription = "an editor"\ncomponents = ["gamma"]\n')
    first = Watched(uk.popen("install", "solo", "--with", "ed", "--plain", env={"SYNTH_SLEEP": "3"}))
    first.wait_for(lambda: "building" in first.stderr, "the first install's build")
    second = Watched(uk.popen("install", "solo", "--plain"))
    second.wait_for(lambda: "waiting for another uktoolchain process" in second.stderr, "the second one's wait")
    assert first.finish(timeout=120) == 0, first.stderr
    assert second.finish(timeout=120) == 0, second.stderr
    record = json.loads((isolated_home / "state" / "installed" / "default" / "solo.json").read_text())
    assert record["extras"] == ["ed"], (second.stderr, record)
    assert "gamma" in {p["name"] for p in record["packages"]}


# -- a full or read-only home -----------------------------------------------------------------


@pytest.fixture
def tmpfs(tmp_path):
    mounted = []

    def make(size: str) -> Path:
        where = tmp_path / f"mnt{len(mounted)}"
        mount_tmpfs(where, size)
        mounted.append(where)
        return where

    yield make
    for where in mounted:
        umount(where)


def test_full_home(uk, index, server, tmpfs):
    synthetic.write_index(index, server, padding=4_000_000)
    home = tmpfs("1m")
    result = uk("install", "solo", "--plain", env={"UKTOOLCHAIN_HOME": str(home)})
    assert result.returncode == 6, result.stderr
    assert "no space left" in result.stderr
    assert "uktoolchain gc" in result.stderr
    assert alpha_sha256(index) not in store_files(home)
    assert not (home / "state" / "installed" / "default" / "solo.json").exists()


@pytest.mark.parametrize("size", ["16k", "40k", "120k"])
def test_home_too_small_for_conan_itself(uk, index, tmpfs, size):
    """Wherever the disk fills up (uktoolchain's own files, Conan's database or its cache), the
    answer is exit 6 and the fix, never an engine error or a traceback."""
    home = tmpfs(size)
    result = uk("install", "solo", "--plain", env={"UKTOOLCHAIN_HOME": str(home)})
    assert result.returncode == 6, result.stderr
    assert "no space left on the device holding" in result.stderr
    assert "internal error" not in result.stderr


def test_home_filled_up_after_an_install(uk, index, tmpfs):
    home = tmpfs("64m")
    env = {"UKTOOLCHAIN_HOME": str(home)}
    uk("install", "solo", "--plain", env=env, check=True)
    uk("env", "solo", env=env, check=True)
    fd = os.open(home / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * (1 << 16)):
            pass
    except OSError:
        pass  # ENOSPC: the home is full
    finally:
        os.close(fd)
    result = uk("install", "tiny", "--plain", env=env)
    assert result.returncode == 6, result.stderr
    assert "no space left" in result.stderr
    assert not (home / "state" / "installed" / "default" / "tiny.json").exists()
    ran = shell_with_env(uk("env", "solo", env=env, check=True).stdout, "alpha")
    assert ran.stdout == "hello from alpha\n", ran.stderr


def test_read_only_home(uk, index, tmpfs):
    home = tmpfs("1m")
    subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
    result = uk("install", "solo", "--plain", env={"UKTOOLCHAIN_HOME": str(home)})
    assert result.returncode == 6, result.stderr
    assert f"cannot write to {home}" in result.stderr
    assert "UKTOOLCHAIN_HOME" in result.stderr


def test_installed_home_mounted_read_only(uk, index, tmpfs):
    """``install`` of something new, ``gc`` and a first ``env`` fail with exit 6 and the reason;
    what is installed stays usable once its environment has been rendered."""
    home = tmpfs("64m")
    env = {"UKTOOLCHAIN_HOME": str(home)}
    uk("install", "solo", "--plain", env=env, check=True)
    subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)

    for command in (("install", "tiny", "--plain"), ("gc",), ("env", "solo")):
        result = uk(*command, env=env)
        assert result.returncode == 6, (command, result.stderr)
        assert f"cannot write to {home}" in result.stderr, (command, result.stderr)
    assert "up to date: solo" in uk("install", "solo", env=env, check=True).stderr

    subprocess.run(["mount", "-o", "remount,rw", str(home)], check=True)
    uk("env", "solo", env=env, check=True)  # renders findlib.conf once
    subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
    ran = shell_with_env(uk("env", "solo", env=env, check=True).stdout, "alpha")
    assert ran.stdout == "hello from alpha\n", ran.stderr
