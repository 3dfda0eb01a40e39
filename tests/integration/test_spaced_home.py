"""A home whose path has a space and non-ASCII letters (macOS's default is under "Application
Support"): toolchains built elsewhere work from it once moved there; building in it is refused
before anything is built, because the upstream makefiles cannot take such paths.

Synthetic recipes, real Conan, real CLI. The real toolchains are proven the same way by
tests/e2e/test_unikernel_targets.py (it moves its home to such a path and boots the hello).
"""
from __future__ import annotations

import json
import shutil

from conftest import shell_with_env


def test_building_in_a_home_with_a_space_is_refused_before_any_build(uk, index, tmp_path, monkeypatch):
    home = tmp_path / "rel ü home" / "uk"
    monkeypatch.setenv("UKTOOLCHAIN_HOME", str(home))
    result = uk("install", "solo", "--plain")
    assert result.returncode == 6, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"uktoolchain: error: cannot build toolchains in {home}: its path has a space, which the upstream "
        "makefiles cannot take (set UKTOOLCHAIN_HOME to a path without them and build there, then move the home "
        "here if you like; or take prebuilt packages from a remote with --build=never)")
    assert not (home / "logs" / "default" / "alpha.log").exists()  # refused before the first build
    assert not (home / "state" / "installed").exists()


def test_a_colon_in_the_home_path_is_refused_even_without_builds(uk, index, tmp_path, monkeypatch):
    home = tmp_path / "a:b" / "uk"
    monkeypatch.setenv("UKTOOLCHAIN_HOME", str(home))
    result = uk("install", "solo", "--plain")
    assert result.returncode == 6
    assert result.stderr.strip() == (f"uktoolchain: error: cannot use toolchains in {home}: its path has a ':', "
                                     "which separates the entries of PATH (set UKTOOLCHAIN_HOME to a path without ':')")


def test_a_home_built_elsewhere_works_from_a_spaced_non_ascii_path(uk, index, tmp_path, monkeypatch):
    built = tmp_path / "relü" / "uk"  # non-ASCII letters alone: builds work
    monkeypatch.setenv("UKTOOLCHAIN_HOME", str(built))
    first = uk("install", "tiny", "--plain")
    assert first.returncode == 0, first.stderr[-3000:]

    moved = tmp_path / "rel ü home" / "uk"
    moved.parent.mkdir()
    shutil.move(built, moved)
    monkeypatch.setenv("UKTOOLCHAIN_HOME", str(moved))
    again = uk("install", "tiny", "--plain")
    assert again.returncode == 0 and "up to date: tiny" in again.stderr, again.stderr
    replanned = uk("install", "tiny", "--plain", "--force")  # Conan plans from the spaced home: all cached
    assert replanned.returncode == 0 and "(nothing to build)" in replanned.stderr, replanned.stderr[-3000:]

    script = uk("env", "tiny", check=True).stdout
    ran = shell_with_env(script, 'alpha && beta && gamma && cat "$OCAMLFIND_CONF"')
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("hello from alpha\nhello from beta\nhello from gamma\n")
    assert f'destdir="{moved}/site/default/tiny/lib"' in ran.stdout
    values = json.loads(uk("env", "tiny", "--json", check=True).stdout)
    assert values["ALPHA_HOME"].startswith(f"{moved}/conan/") and str(built) not in json.dumps(values)
