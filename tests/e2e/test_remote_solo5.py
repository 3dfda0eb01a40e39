"""The Solo5 cross toolchain through a remote: built for spt in home A, pushed to a real conan_server
on 127.0.0.1, installed into a fresh home B at another path with --build=never, and proven there by
`uktoolchain check spt` (the hello unikernel built with B's toolchain and booted under solo5-spt).

Opt-in like test_unikernel_targets.py: UKTOOLCHAIN_TEST_SOURCES names a directory with
solo5-v0.12.1.tar.gz and ocaml-solo5-1.2.0.tar.gz; the host OCaml comes from
UKTOOLCHAIN_TEST_OCAML_SOURCE and UKTOOLCHAIN_TEST_MIRROR. Builds ~12 minutes on 2 cores.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import credentials
from uktoolchain import doctor

SOURCES = Path(os.environ.get("UKTOOLCHAIN_TEST_SOURCES", "/nonexistent"))
OCAML_SOURCE = os.environ.get("UKTOOLCHAIN_TEST_OCAML_SOURCE")
MIRROR = os.environ.get("UKTOOLCHAIN_TEST_MIRROR")
TARBALLS = {"solo5": SOURCES / "solo5-v0.12.1.tar.gz", "ocaml-solo5": SOURCES / "ocaml-solo5-1.2.0.tar.gz"}
missing_tools = [c.name for c in doctor.run_checks(["libseccomp"]) if not c.ok]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not all(p.is_file() for p in TARBALLS.values()) or not (OCAML_SOURCE and MIRROR),
                       reason="set UKTOOLCHAIN_TEST_SOURCES (solo5-v0.12.1.tar.gz, ocaml-solo5-1.2.0.tar.gz), "
                       "UKTOOLCHAIN_TEST_OCAML_SOURCE and UKTOOLCHAIN_TEST_MIRROR"),
    pytest.mark.skipif(bool(missing_tools), reason=f"host lacks {missing_tools} (see `uktoolchain doctor`)"),
]


def test_spt_toolchain_from_a_remote_passes_check(uk, tmp_path, isolated_home, conan_server, monkeypatch):
    monkeypatch.setenv("UKTOOLCHAIN_OCAML", "5.3")  # the set of these sources (npm's OCaml 5.3.0, ocaml-solo5 1.2.0)
    sources = ["--source", f"ocaml={OCAML_SOURCE}"] + [a for c, p in TARBALLS.items() for a in ("--source", f"{c}={p}")]
    env_a = {"UKTOOLCHAIN_SOURCE_MIRROR": MIRROR}
    built = uk("install", "spt", "--plain", *sources, env=env_a, timeout=3600)
    assert built.returncode == 0, built.stderr[-4000:]
    uk("remote", "add", "ci", conan_server.url, check=True)
    pushed = uk("push", "ci", "spt", env=credentials("ci", conan_server), timeout=1800)
    assert pushed.returncode == 0, pushed.stderr[-3000:]

    home_b = tmp_path / "machine-b" / "elsewhere" / "home"
    env_b = {"UKTOOLCHAIN_HOME": str(home_b), "UKTOOLCHAIN_SOURCE_MIRROR": MIRROR}
    uk("remote", "add", "ci", conan_server.url, env=env_b, check=True)
    fetched = uk("install", "spt", "--plain", "--build=never", *sources, env=env_b, timeout=1800)
    assert fetched.returncode == 0, fetched.stderr[-3000:]
    assert "(nothing to build; downloaded " in fetched.stderr and "ocaml-solo5[x86_64] from ci" in fetched.stderr
    assert not (home_b / "state" / "timings.json").exists(), "nothing was built in B"

    checked = uk("check", "spt", env=env_b, timeout=1200)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verdict = next(line for line in checked.stdout.splitlines() if line.split()[1:2] == ["spt"])
    assert verdict.startswith("ok") and "booted" in verdict, checked.stdout
    assert str(isolated_home) not in uk("env", "spt", env=env_b, check=True).stdout
