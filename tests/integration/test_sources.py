"""Where sources come from: local overrides (--source, config.toml), URL fallback, checksum
verification, mirror directories, resumed downloads; and ``gc`` of what an override built.

Real CLI in a subprocess, real Conan, real HTTP server on 127.0.0.1.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
from pathlib import Path

import synthetic
from conftest import shell_with_env

TARBALL = "alpha-1.0.tar.gz"


def alpha_sha256(index: Path) -> str:
    text = (index / "recipes" / "alpha" / "conandata.yml").read_text()
    return text.split('sha256: "')[1].split('"')[0]


def store_files(home: Path) -> list[str]:
    store = home / "sources"
    return sorted(p.name for p in store.iterdir()) if store.is_dir() else []


def stamp_of(home: Path, target: str) -> dict:
    return json.loads((home / "state" / "installed" / "default" / f"{target}.json").read_text())


def alpha_ref(home: Path) -> str:
    (alpha,) = [p for p in stamp_of(home, "solo")["packages"] if p["name"] == "alpha"]
    return alpha["ref"]


def run_alpha(uk) -> str:
    ran = shell_with_env(uk("env", "solo", check=True).stdout, "alpha")
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.strip()


def list_status(uk, target: str) -> str:
    (row,) = [line for line in uk("list", check=True).stdout.splitlines() if line.startswith(target + " ")]
    return row[len(target):].strip().split("  ")[0]


def local_tarball(tmp_path: Path, greeting: str = "hello from local") -> Path:
    path = tmp_path / "alpha-local.tar.gz"
    path.write_bytes(synthetic.make_tarball("alpha", greeting))
    return path


def local_tree(directory: Path, greeting: str = "hello from local tree") -> Path:
    """An unpacked source tree, as a developer would have it (alpha's build.sh at the top)."""
    directory.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(synthetic.make_tarball("alpha", greeting))) as tar:
        data = tar.extractfile("alpha-1.0/build.sh").read()
    (directory / "build.sh").write_bytes(data)
    (directory / "build.sh").chmod(0o755)
    return directory


# -- invalid overrides ------------------------------------------------------------------------


def test_override_of_an_unknown_component(uk, index, isolated_home):
    result = uk("install", "solo", "--source", "nope=/x")
    assert result.returncode == 2, result.stderr
    assert "unknown component 'nope'" in result.stderr
    assert "known components: alpha, beta, gamma" in result.stderr
    assert not (isolated_home / "conan").exists()


def test_override_path_that_does_not_exist(uk, index, isolated_home):
    result = uk("install", "solo", "--source", "alpha=/does/not/exist")
    assert result.returncode == 3, result.stderr
    assert "/does/not/exist" in result.stderr and "does not exist" in result.stderr
    assert not (isolated_home / "conan").exists()


def test_override_with_a_file_that_is_not_a_tarball(uk, index, tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not an archive\n")
    result = uk("install", "solo", "--source", f"alpha={bogus}")
    assert result.returncode == 3, result.stderr
    assert f"not a tar archive: {bogus}" in result.stderr


def test_override_without_a_path(uk, index):
    result = uk("install", "solo", "--source", "alpha")
    assert result.returncode == 3, result.stderr
    assert "--source expects COMPONENT=PATH, got 'alpha'" in result.stderr


def test_bad_override_in_config_file(uk, index, isolated_home):
    isolated_home.mkdir()
    (isolated_home / "config.toml").write_text('[sources]\nalpha = "/does/not/exist"\n')
    result = uk("install", "solo")
    assert result.returncode == 3, result.stderr
    assert "/does/not/exist" in result.stderr


# -- local overrides --------------------------------------------------------------------------


def test_local_tarball_override_and_back_to_pinned(uk, index, isolated_home, tmp_path, server):
    tarball = local_tarball(tmp_path)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()

    result = uk("install", "solo", "--plain", "--source", f"alpha={tarball}", check=True)
    assert f"using local source for alpha (sha256 {digest})" in result.stderr
    assert run_alpha(uk) == "hello from local"
    assert server.state.requests == []  # the pinned archive was not needed
    local_ref = alpha_ref(isolated_home)
    assert "up to date: solo" in uk("install", "solo", "--source", f"alpha={tarball}", check=True).stderr

    # A plain install keeps the local source the target was installed from (and says so);
    # --pinned goes back to the pinned one.
    kept = uk("install", "solo", "--plain", check=True)
    assert f"alpha: local source {tarball} (as installed)" in kept.stderr and "up to date: solo" in kept.stderr
    result = uk("install", "solo", "--plain", "--pinned", "alpha", check=True)
    assert "using local source" not in result.stderr
    assert run_alpha(uk) == "hello from alpha"
    assert alpha_ref(isolated_home) != local_ref  # a local build never passes for the pinned one
    assert server.state.requests == [f"/{TARBALL}"]


def test_pinned_then_local_gives_another_revision(uk, index, isolated_home, tmp_path):
    uk("install", "solo", "--plain", check=True)
    pinned_ref = alpha_ref(isolated_home)
    tarball = local_tarball(tmp_path)
    result = uk("install", "solo", "--plain", "--source", f"alpha={tarball}", check=True)
    assert "built alpha" in result.stderr
    assert alpha_ref(isolated_home) != pinned_ref
    assert alpha_ref(isolated_home).split("#")[0] == pinned_ref.split("#")[0] == "alpha/1.0"
    assert run_alpha(uk) == "hello from local"


def test_changed_local_tarball_is_rebuilt(uk, index, isolated_home, tmp_path):
    tarball = local_tarball(tmp_path, "first")
    uk("install", "solo", "--plain", "--source", f"alpha={tarball}", check=True)
    assert run_alpha(uk) == "first"
    tarball.write_bytes(synthetic.make_tarball("alpha", "second"))
    os.utime(tarball, ns=(1, 1))  # a different mtime and content
    result = uk("install", "solo", "--plain", "--source", f"alpha={tarball}", check=True)
    assert "built alpha" in result.stderr
    assert run_alpha(uk) == "second"


def test_local_directory_override_hashes_its_content(uk, index, isolated_home, tmp_path):
    first = local_tree(tmp_path / "tree1")
    result = uk("install", "solo", "--plain", "--source", f"alpha={first}", check=True)
    digest = result.stderr.split("using local source for alpha (sha256 ")[1].split(")")[0]
    assert len(digest) == 64 and (isolated_home / "sources" / digest).is_file()
    assert hashlib.sha256((isolated_home / "sources" / digest).read_bytes()).hexdigest() == digest
    assert run_alpha(uk) == "hello from local tree"

    # The same content elsewhere, with other mtimes: the same archive, so nothing to build.
    second = tmp_path / "tree2"
    shutil.copytree(first, second)
    os.utime(second / "build.sh", (12345, 12345))
    result = uk("install", "solo", "--plain", "--source", f"alpha={second}", check=True)
    assert f"using local source for alpha (sha256 {digest})" in result.stderr
    assert "alpha: cached" in result.stderr and "nothing to build" in result.stderr

    # Changed content: another archive, another build.
    (second / "build.sh").write_text((second / "build.sh").read_text().replace("local tree", "edited tree"))
    result = uk("install", "solo", "--plain", "--source", f"alpha={second}", check=True)
    assert f"(sha256 {digest})" not in result.stderr and "built alpha" in result.stderr
    assert run_alpha(uk) == "hello from edited tree"


def test_config_file_override(uk, index, isolated_home, tmp_path):
    tarball = local_tarball(tmp_path)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    isolated_home.mkdir()
    (isolated_home / "config.toml").write_text(f'[sources]\nalpha = "{tarball}"\n')
    result = uk("install", "solo", "--plain", check=True)
    assert f"using local source for alpha (sha256 {digest})" in result.stderr
    assert run_alpha(uk) == "hello from local"
    assert "up to date: solo" in uk("install", "solo", check=True).stderr
    assert list_status(uk, "solo") == "installed"  # list agrees with install: nothing to do

    # --source on the command line replaces the configured one for that component.
    other = tmp_path / "other.tar.gz"
    other.write_bytes(synthetic.make_tarball("alpha", "hello from the command line"))
    uk("install", "solo", "--plain", "--source", f"alpha={other}", check=True)
    assert run_alpha(uk) == "hello from the command line"
    assert list_status(uk, "solo") == "installed (outdated)"  # install alone would go back to the config's


# -- URLs, checksums, mirrors -----------------------------------------------------------------


def test_dead_first_url_falls_back_to_the_next(uk, index, server, isolated_home):
    synthetic.write_index(index, server, urls={"alpha": [synthetic.dead_url(TARBALL), server.url(TARBALL)]})
    uk("install", "solo", "--plain", check=True)
    assert server.state.requests == [f"/{TARBALL}"]
    assert alpha_sha256(index) in store_files(isolated_home)
    assert run_alpha(uk) == "hello from alpha"


def test_all_urls_unreachable(uk, index, server, isolated_home):
    dead1, dead2 = synthetic.dead_url(TARBALL), synthetic.dead_url("mirror/" + TARBALL)
    synthetic.write_index(index, server, urls={"alpha": [dead1, dead2]})
    digest = alpha_sha256(index)
    result = uk("install", "solo", "--plain")
    assert result.returncode == 4, result.stderr
    assert f"could not fetch the source of alpha (sha256 {digest})" in result.stderr
    assert f"{dead1}: connection failed" in result.stderr and f"{dead2}: connection failed" in result.stderr
    assert "UKTOOLCHAIN_SOURCE_MIRROR" in result.stderr and f"named {digest}" in result.stderr
    assert not any(name.startswith(digest) for name in store_files(isolated_home))
    assert not (isolated_home / "state" / "installed" / "default" / "solo.json").exists()


def test_http_404_is_reported_per_url(uk, index, server, isolated_home):
    missing = server.url("missing.tar.gz")
    synthetic.write_index(index, server, urls={"alpha": [missing]})
    result = uk("install", "solo", "--plain")
    assert result.returncode == 4, result.stderr
    assert f"{missing}: HTTP 404" in result.stderr
    assert server.state.requests == ["/missing.tar.gz"]  # a 4xx is final: no retries


def test_checksum_mismatch(uk, index, server, isolated_home):
    expected = alpha_sha256(index)
    served = server.root / TARBALL
    served.write_bytes(synthetic.make_tarball("alpha", "tampered"))
    actual = hashlib.sha256(served.read_bytes()).hexdigest()
    assert actual != expected
    result = uk("install", "solo", "--plain")
    assert result.returncode == 4, result.stderr
    assert f"checksum mismatch for {server.url(TARBALL)}" in result.stderr
    assert f"expected sha256 {expected}, got {actual}" in result.stderr
    assert store_files(isolated_home) == []  # neither the digest file nor a .part
    assert not (isolated_home / "state" / "installed" / "default" / "solo.json").exists()


def test_mirror_directory_is_used_before_any_url(uk, index, server, isolated_home, tmp_path):
    synthetic.write_index(index, server, urls={"alpha": [synthetic.dead_url(TARBALL)]})
    tarball = (server.root / TARBALL).read_bytes()
    digest = alpha_sha256(index)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / digest).write_bytes(tarball)
    server.state.requests.clear()

    result = uk("install", "solo", "--plain", env={"UKTOOLCHAIN_SOURCE_MIRROR": str(mirror)}, check=True)
    assert "installed: solo" in result.stderr
    assert server.state.requests == []
    assert (isolated_home / "sources" / digest).read_bytes() == tarball
    assert run_alpha(uk) == "hello from alpha"


def test_mirror_file_with_wrong_content_is_ignored(uk, index, server, isolated_home, tmp_path):
    digest = alpha_sha256(index)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / digest).write_bytes(b"not what the name says")
    env = {"UKTOOLCHAIN_SOURCE_MIRROR": str(mirror)}

    # With a working URL, the download replaces the bad mirror copy.
    uk("install", "solo", "--plain", env=env, check=True)
    assert server.state.requests == [f"/{TARBALL}"]
    assert hashlib.sha256((isolated_home / "sources" / digest).read_bytes()).hexdigest() == digest

    # Without one, the failure is clear and nothing wrong enters the store. (padding: a tarball
    # that differs from the one already stored, even when written within the same second.)
    synthetic.write_index(index, server, padding=64, urls={"alpha": [synthetic.dead_url(TARBALL)]})
    assert alpha_sha256(index) != digest
    digest = alpha_sha256(index)
    (mirror / digest).write_bytes(b"not what the name says either")
    result = uk("install", "solo", "--plain", env=env)
    assert result.returncode == 4, result.stderr
    assert str(mirror) in result.stderr
    assert not any(name.startswith(digest) for name in store_files(isolated_home))


def test_mirror_directory_from_config_file(uk, index, server, isolated_home, tmp_path):
    synthetic.write_index(index, server, urls={"alpha": [synthetic.dead_url(TARBALL)]})
    digest = alpha_sha256(index)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    shutil.copyfile(server.root / TARBALL, mirror / digest)
    isolated_home.mkdir()
    (isolated_home / "config.toml").write_text(f'[mirrors]\ndirs = ["{mirror}"]\n')
    server.state.requests.clear()
    uk("install", "solo", "--plain", check=True)
    assert server.state.requests == []


# -- resumed downloads ------------------------------------------------------------------------


def test_cut_download_resumes_with_a_range_request(uk, index, server, isolated_home):
    synthetic.write_index(index, server, padding=2_000_000)
    digest = alpha_sha256(index)
    server.state.cut_once[TARBALL] = 500_000
    uk("install", "solo", "--plain", check=True)
    assert server.state.requests == [f"/{TARBALL}", f"/{TARBALL}"]
    first, second = server.state.ranges
    assert first is None
    assert second is not None and second.startswith("bytes=") and second.endswith("-")
    start = int(second[len("bytes="):-1])
    assert 0 < start <= 500_000
    assert hashlib.sha256((isolated_home / "sources" / digest).read_bytes()).hexdigest() == digest
    assert store_files(isolated_home) == [digest]
    assert run_alpha(uk) == "hello from alpha"


# -- gc ---------------------------------------------------------------------------------------


def test_gc_removes_only_what_no_target_uses(uk, index, isolated_home, tmp_path):
    tarball = local_tarball(tmp_path)
    uk("install", "solo", "--plain", "--source", f"alpha={tarball}", check=True)
    local = stamp_of(isolated_home, "solo")["packages"][0]
    uk("install", "solo", "--plain", "--pinned", "alpha", check=True)  # a plain install keeps the local one
    pinned = stamp_of(isolated_home, "solo")["packages"][0]
    assert local["ref"] != pinned["ref"]

    result = uk("gc", check=True)
    removed = [line for line in result.stdout.splitlines() if line.startswith("removed ")]
    assert removed == [f"removed {local['ref']}:{local['package_id']}"]
    assert "1 package(s) removed, 1 kept" in result.stdout
    assert not (isolated_home / "conan" / local["folder"]).exists()
    assert (isolated_home / "conan" / pinned["folder"]).is_dir()
    assert run_alpha(uk) == "hello from alpha"
    assert "up to date: solo" in uk("install", "solo", check=True).stderr

    result = uk("gc", check=True)
    assert "0 package(s) removed, 1 kept" in result.stdout


def test_installed_local_sources_are_remembered_while_unchanged(uk, index, isolated_home, tmp_path, server):
    """After `install --source`, list and a plain install of another target use the same local
    source (no download, not "outdated"), until the file changes: then they say what changed."""
    tarball = local_tarball(tmp_path)
    uk("install", "solo", "--plain", "--source", f"alpha={tarball}", check=True)
    listing = uk("list", check=True).stdout
    assert re.search(r"^solo\s+installed\s", listing, re.M), listing
    assert f"alpha: local source {tarball} (as installed)" in listing

    more = uk("install", "tiny", "--plain", check=True)
    assert f"alpha: local source {tarball} (as installed)" in more.stderr
    assert "alpha: cached" in more.stderr and "built beta, gamma" in more.stderr
    assert f"/{TARBALL}" not in server.state.requests  # the pinned alpha was never fetched
    assert run_alpha(uk) == "hello from local"

    old = hashlib.sha256(tarball.read_bytes()).hexdigest()
    local_tarball(tmp_path, "second")  # the same path, another content
    new = hashlib.sha256(tarball.read_bytes()).hexdigest()
    changed = uk("install", "tiny", "--plain", check=True)
    assert (f"alpha: not using the local source installed targets were built from: {tarball} changed "
            f"(sha256 was {old[:16]}…, is {new[:16]}…)") in changed.stderr
    tiny_alpha = shell_with_env(uk("env", "tiny", check=True).stdout, "alpha").stdout.strip()
    assert tiny_alpha == "hello from alpha"  # rebuilt from the pinned source

    tarball.unlink()
    gone = uk("list", check=True).stdout
    assert f"{tarball} is gone" in gone
    assert re.search(r"^solo\s+installed \(outdated\)", gone, re.M), gone  # built from what is gone


def test_a_plain_install_looks_only_at_the_local_sources_of_its_targets(uk, index, isolated_home, tmp_path):
    """A recorded local source is checked (every file of a tree stat'ed) only for the targets that
    use it: `install solo` (alpha) neither reads nor mentions beta's, even once it is gone."""
    beta = tmp_path / "beta-local.tar.gz"
    beta.write_bytes(synthetic.make_tarball("beta", "hello from local beta"))
    uk("install", "tiny", "--plain", "--source", f"beta={beta}", check=True)
    assert f"beta: local source {beta} (as installed)" in uk("install", "tiny", check=True).stderr
    beta.unlink()
    solo = uk("install", "solo", "--plain", check=True)
    assert "beta" not in solo.stderr, solo.stderr
    again = uk("install", "solo", check=True)
    assert "up to date: solo" in again.stderr and "beta" not in again.stderr, again.stderr
    # tiny uses it: there the change is named.
    assert f"beta: not using the local source installed targets were built from: {beta} is gone" in \
        uk("install", "tiny", "--plain", "--build=never", "--no-remote").stderr
