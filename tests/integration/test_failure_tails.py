"""A build that fails in any step (source, patch, build, package) shows the tail of the log that
holds the error, and names that log.

Synthetic recipes, real Conan, real CLI; each step made to fail for real.
"""
from __future__ import annotations

import re
from pathlib import Path

import synthetic
from uktoolchain.engine.scheduler import log_tail


def shown_tail(stderr: str) -> tuple[list[str], Path]:
    """The lines printed under '--- last N lines of the X build log ---', and the log named."""
    match = re.search(r"^--- last \d+ lines of the \S+ build log ---\n(.*?)^--- full log: ([^\n]+)$", stderr, re.M | re.S)
    assert match, stderr
    return [line[2:] for line in match.group(1).splitlines()], Path(match.group(2))


def assert_tail_holds(result, error: str) -> None:
    assert result.returncode == 5, result.stderr[-3000:]
    tail, log = shown_tail(result.stderr)
    assert any(error in line for line in tail), "\n".join(tail)
    assert error in log.read_text()  # the log named is the one that holds the error
    assert tail == log_tail(log) and tail[-1].strip(), tail  # its tail, ending on a line that says something


def test_source_step(uk, index, tmp_path):
    whole = synthetic.make_tarball("alpha", "hello", padding=256 * 1024)
    truncated = tmp_path / "alpha-1.0.tar.gz"
    truncated.write_bytes(whole[: len(whole) // 2])  # a tar header, then the archive ends early
    result = uk("install", "solo", "--plain", "--source", f"alpha={truncated}")
    assert_tail_holds(result, "Error in source() method")


def test_patch_step(uk, index, tmp_path):
    patches = index / "patches" / "alpha"
    patches.mkdir()
    (patches / "1.0-0001-quiet.patch").write_text(
        "--- a/build.sh\n+++ b/build.sh\n@@ -1,2 +1,2 @@\n set -e\n-out=\"$1/out\"\n+out=\"$1/out\" # ours\n")
    other = tmp_path / "other-tree"  # a local source without the file the patch changes
    other.mkdir()
    (other / "README").write_text("not alpha\n")
    result = uk("install", "solo", "--plain", "--source", f"alpha={other}")
    assert_tail_holds(result, "source/target file does not exist")


def test_build_step(uk, index):
    result = uk("install", "solo", "--plain", env={"SYNTH_FAIL_ALPHA": "1"})
    assert_tail_holds(result, "error: alpha is told to fail")


def test_package_step(uk, index):
    result = uk("install", "solo", "--plain", env={"SYNTH_FAIL_PACKAGE_ALPHA": "1"})
    assert_tail_holds(result, "alpha: packaging is told to fail")


def test_log_tail_skips_what_says_nothing(tmp_path):
    log = tmp_path / "x.log"
    body = "".join(f"line {i}\r\n" for i in range(40))
    log.write_bytes((body + "downloading 10%\rdownloading 100%\nERROR: it broke\n\n\n   \n").encode())
    tail = log_tail(log, lines=3)
    assert tail == ["line 39", "downloading 100%", "ERROR: it broke"]
    assert log_tail(tmp_path / "missing.log") == []
    assert log_tail(log.with_name("empty.log")) == [] and not log.with_name("empty.log").exists()
    empty = log.with_name("blank.log")
    empty.write_text("\n\n")
    assert log_tail(empty) == []
