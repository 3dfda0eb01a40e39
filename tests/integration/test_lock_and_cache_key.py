"""Reproducibility for CI: lock files (``lock``, ``install --locked``), cache keys and paths."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import synthetic


def test_lock_pins_recipes_and_sources_and_is_the_same_on_another_machine(uk, index, tmp_path, isolated_home):
    lock = tmp_path / "uktoolchain.lock"
    result = uk("lock", "tiny", "-o", str(lock), check=True)
    assert f"locked tiny (3 recipes, OCaml set default (the default)) in {lock}" in result.stderr
    data = json.loads(lock.read_text())
    assert data["targets"] == {"tiny": ["alpha", "beta", "gamma"]}
    for name in ("alpha", "beta", "gamma"):
        assert data["components"][name]["recipe"].startswith(f"{name}/1.0#")
        sha = (index / "recipes" / name / "conandata.yml").read_text().split('sha256: "')[1][:64]
        assert data["components"][name]["source"] == f"sha256 {sha}"
    assert data["base"].startswith("ukbase/1.0#")
    assert data["cache_key"] == uk("cache-key", "tiny", check=True).stdout.strip()
    assert str(tmp_path) not in lock.read_text() and "%" not in lock.read_text()  # no paths, no timestamps

    other = tmp_path / "other.lock"
    uk("lock", "tiny", "-o", str(other), env={"UKTOOLCHAIN_HOME": str(tmp_path / "b" / "home")}, check=True)
    assert other.read_bytes() == lock.read_bytes()

    installed = uk("install", "tiny", "--plain", "--locked", str(lock), check=True)
    assert "installed: tiny (built alpha, beta, gamma)" in installed.stderr
    stamp = json.loads((isolated_home / "state" / "installed" / "default" / "tiny.json").read_text())
    assert {p["ref"] for p in stamp["packages"]} == {c["recipe"] for c in data["components"].values()}
    assert "up to date: tiny" in uk("install", "tiny", "--locked", str(lock), check=True).stderr


def test_locked_install_refuses_other_recipes(uk, index, tmp_path, isolated_home):
    lock = tmp_path / "uktoolchain.lock"
    uk("lock", "tiny", "-o", str(lock), check=True)
    uk("install", "tiny", "--plain", "--locked", str(lock), check=True)
    locked_beta = json.loads(lock.read_text())["components"]["beta"]["recipe"]

    recipe = index / "recipes" / "beta" / "conanfile.py"
    recipe.write_text(recipe.read_text() + "\n# a change after the lock was written\n")
    stamp = (isolated_home / "state" / "installed" / "default" / "tiny.json").read_bytes()
    refused = uk("install", "tiny", "--plain", "--locked", str(lock))
    assert refused.returncode == 3, refused.stderr
    message = refused.stderr.strip()
    assert message.startswith(f"uktoolchain: error: the recipes do not match {lock}: beta recipe is beta/1.0#")
    assert f"locked {locked_beta}" in message and "alpha" not in message.split("(")[0]
    assert f"uktoolchain lock tiny -o {lock}" in message
    assert "beta: build" not in refused.stderr
    assert (isolated_home / "state" / "installed" / "default" / "tiny.json").read_bytes() == stamp, "nothing was installed"

    # A changed source pin is named as such (before anything is downloaded).
    conandata = index / "recipes" / "gamma" / "conandata.yml"
    old_sha = conandata.read_text().split('sha256: "')[1][:64]
    new_sha = "0" * 64
    conandata.write_text(conandata.read_text().replace(old_sha, new_sha))
    refused = uk("install", "tiny", "--plain", "--locked", str(lock))
    assert refused.returncode == 3, refused.stderr
    assert f"gamma source is sha256 {new_sha}, locked sha256 {old_sha}" in refused.stderr

    missing = uk("install", "solo", "--locked", str(lock))
    assert missing.returncode == 3 and f"{lock} does not lock solo (it locks tiny)" in missing.stderr
    broken = tmp_path / "broken.lock"
    broken.write_text("{not json")
    unreadable = uk("install", "solo", "--locked", str(broken))
    assert unreadable.returncode == 3 and f"cannot read the lock file {broken}" in unreadable.stderr


def key(uk, *args, env=None) -> str:
    result = uk("cache-key", *args, env=env, check=True)
    [line] = result.stdout.splitlines()
    return line


def test_cache_key_is_stable_across_homes_and_paths_and_follows_every_input(uk, index, tmp_path):
    first = key(uk, "tiny")
    assert first.startswith("uktoolchain-linux-") and len(first.rsplit("-", 1)[1]) == 40
    # Another machine: another home, the recipe index checked out elsewhere.
    moved = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(index, moved)
    assert key(uk, "tiny", env={"UKTOOLCHAIN_HOME": str(tmp_path / "b" / "home"), "UKTOOLCHAIN_RECIPES": str(moved)}) == first
    assert key(uk, "tiny") == first  # and run after run
    assert key(uk, "solo") != first

    def changed(path: Path, new_text: str) -> str:
        old_text = path.read_text()
        path.write_text(new_text)
        try:
            return key(uk, "tiny")
        finally:
            path.write_text(old_text)

    recipe = index / "recipes" / "gamma" / "conanfile.py"
    conandata = index / "recipes" / "alpha" / "conandata.yml"
    catalogue = index / "recipes" / "targets.toml"
    base = index / "recipes" / "ukbase" / "conanfile.py"
    keys = {
        "recipe": changed(recipe, recipe.read_text() + "\n# changed\n"),
        "source pin": changed(conandata, conandata.read_text().replace('sha256: "', 'sha256: "f')),
        "version": changed(catalogue, catalogue.read_text().replace('beta = "1.0"', 'beta = "1.1"')),
        "recipe base": changed(base, base.read_text() + "\n# changed\n"),
    }
    patch = index / "patches" / "beta" / "1.0-0001-x.patch"
    patch.parent.mkdir(parents=True)
    patch.write_text("--- a/x\n+++ b/x\n")
    keys["patch"] = key(uk, "tiny")
    patch.unlink()
    assert key(uk, "tiny") == first
    assert len(set(keys.values()) | {first}) == len(keys) + 1, keys

    # A local source enters by content, not by path.
    tarball = tmp_path / "alpha.tar.gz"
    tarball.write_bytes(synthetic.make_tarball("alpha", "local alpha"))
    copy = tmp_path / "copy" / "alpha.tar.gz"
    copy.parent.mkdir()
    shutil.copy(tarball, copy)
    local = key(uk, "tiny", "--source", f"alpha={tarball}")
    assert local != first and key(uk, "tiny", "--source", f"alpha={copy}") == local


def test_cache_key_and_paths_do_not_load_conan(uk, index, isolated_home):
    probe = (
        "import sys\n"
        "from uktoolchain.cli.main import main\n"
        "codes = [main(['cache-key', 'tiny']), main(['paths', '--cache'])]\n"
        "print(codes, 'conan' in sys.modules, 'rich' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stderr.split() == ["[0,", "0]", "False", "False"], result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("uktoolchain-") and lines[1] == str(isolated_home)


def test_locked_noop_does_not_load_conan(uk, index, tmp_path):
    lock = tmp_path / "uktoolchain.lock"
    uk("lock", "solo", "-o", str(lock), check=True)
    uk("install", "solo", "--plain", "--locked", str(lock), check=True)
    probe = (
        "import sys\n"
        "from uktoolchain.cli.main import main\n"
        f"code = main(['install', 'solo', '--locked', {str(lock)!r}])\n"
        "print(code, 'conan' in sys.modules, 'rich' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "False", "False"]
    assert "up to date: solo" in result.stderr


def test_paths(uk, isolated_home):
    listed = uk("paths", check=True).stdout
    assert f"conan    {isolated_home / 'conan'}" in listed
    assert uk("paths", "--cache", check=True).stdout == f"{isolated_home}\n"
