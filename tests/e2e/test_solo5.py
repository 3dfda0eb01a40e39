"""Solo5 for x86_64 and aarch64 through uktoolchain: install both, link every binding, boot spt.

Upstream sources are unreachable here: set UKTOOLCHAIN_TEST_SOURCES to a directory holding
solo5-v0.12.1.tar.gz (a release tarball, or `git archive` of the tag plus include/version.h.distrib).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import shell_with_env
from uktoolchain import doctor

REPO = Path(__file__).resolve().parents[2]
SOURCES = os.environ.get("UKTOOLCHAIN_TEST_SOURCES")
SOLO5 = Path(SOURCES or "/nonexistent") / "solo5-v0.12.1.tar.gz"
missing_tools = [c.name for c in doctor.run_checks(["libseccomp", "aarch64-gcc"]) if not c.ok]

pytestmark = [
    pytest.mark.skipif(not SOLO5.is_file(), reason="set UKTOOLCHAIN_TEST_SOURCES to a directory with solo5-v0.12.1.tar.gz"),
    pytest.mark.skipif(bool(missing_tools), reason=f"host lacks {missing_tools} (see `uktoolchain doctor`)"),
]

CATALOGUE = '''per_arch = ["solo5"]
[components]
solo5 = "0.12.1"
[targets.solo5-x86_64]
arch = "x86_64"
components = ["solo5"]
[targets.solo5-aarch64]
arch = "aarch64"
components = ["solo5"]
'''


@pytest.fixture
def solo5_index(tmp_path, monkeypatch):
    root = tmp_path / "index"
    for recipe in ("ukbase", "solo5"):
        shutil.copytree(REPO / "recipes" / recipe, root / "recipes" / recipe, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "patches").mkdir()
    (root / "recipes" / "targets.toml").write_text(CATALOGUE)
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))
    return root


def test_both_architectures_install_side_by_side_and_spt_boots(uk, solo5_index, tmp_path):
    result = uk("install", "solo5-x86_64", "solo5-aarch64", "--plain", "--source", f"solo5={SOLO5}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "built solo5[x86_64], solo5[aarch64]" in result.stderr or "built solo5[aarch64], solo5[x86_64]" in result.stderr

    hello = REPO / "tests" / "data" / "solo5" / "hello.c"
    work = tmp_path / "work"
    work.mkdir()
    x86 = uk("env", "solo5-x86_64", check=True).stdout
    for binding in ("hvt", "spt", "virtio", "muen", "xen"):
        ran = shell_with_env(x86, f"cd {work} && x86_64-solo5-none-static-cc -c {hello} -o hello.o && "
                                  f"x86_64-solo5-none-static-ld -z solo5-abi={binding} hello.o -o hello.{binding} && "
                                  f"solo5-elftool query-abi hello.{binding}")
        assert f'"target":"{binding}"' in ran.stdout.replace(" ", ""), ran.stderr
    booted = shell_with_env(x86, f"solo5-spt {work}/hello.spt")
    assert booted.returncode == 0 and "hello from solo5" in booted.stdout, booted.stdout + booted.stderr

    arm = uk("env", "solo5-aarch64", check=True).stdout
    ran = shell_with_env(arm, f"cd {work} && aarch64-solo5-none-static-cc -c {hello} -o a.o && "
                              "aarch64-solo5-none-static-ld -z solo5-abi=hvt a.o -o hello-arm.hvt")
    assert ran.returncode == 0, ran.stderr
    header = subprocess.run(["readelf", "-h", "-n", str(work / "hello-arm.hvt")], capture_output=True, text=True).stdout
    assert "AArch64" in header and ".note.solo5.abi" in header
