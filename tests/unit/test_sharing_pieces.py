"""The pieces of sharing that need no Conan: remote names and URLs, lock files, sources-backup
staging, cache keys of local sources, the sources-backup configuration Conan reads."""
from __future__ import annotations

import json
import os

import pytest

from uktoolchain.engine import backup, conan_home, state
from uktoolchain.engine.model import InstalledPackage
from uktoolchain.home import Home
from uktoolchain.engine.cachekey import content_digest
from uktoolchain.engine.pins import Pins, ToolchainLock
from uktoolchain.engine.remotes import RemoteSettings, check_name, check_url, credential_vars
from uktoolchain.errors import ConfigError, LockMismatchError, UsageError
from uktoolchain.sources import Checksum, SourceStore

PINS = Pins("ukbase/1.0#b1", {"alpha": "alpha/1.0#r1", "beta": "beta/1.0#r2"},
            {"alpha": "sha256 aa", "beta": "sha512 bb"})


def test_remote_names_urls_and_credential_variables():
    assert check_name("team-cache.2") == "team-cache.2"
    for bad in ("", "-x", "a b", "x/y"):
        with pytest.raises(UsageError):
            check_name(bad)
    assert check_url("https://conan.example:9300/") == "https://conan.example:9300"
    with pytest.raises(ConfigError):
        check_url("conan.example")
    assert credential_vars("team-cache") == ("CONAN_LOGIN_USERNAME_TEAM_CACHE", "CONAN_PASSWORD_TEAM_CACHE")


def test_remote_settings_round_trip(tmp_path):
    settings = RemoteSettings.load(tmp_path)
    assert settings.backup_urls() == []
    settings.sources_backup.update({"b": "http://b", "a": "http://a"})
    settings.save()
    assert RemoteSettings.load(tmp_path).backup_urls() == ["http://a", "http://b"]
    (tmp_path / "remotes.json").write_text("{")
    with pytest.raises(ConfigError):
        RemoteSettings.load(tmp_path)


def test_sources_backup_conf():
    assert conan_home.sources_backup_conf([], None) == ""
    assert conan_home.sources_backup_conf(["http://a/x"], "http://a/x") == (
        "core.sources:download_urls=['origin', 'http://a/x/']\ncore.sources:upload_url=http://a/x/\n")


def test_lock_round_trip_and_checks(tmp_path):
    path = tmp_path / "uktoolchain.lock"
    lock = ToolchainLock({"tiny": ["beta", "alpha"]}, PINS, cache_key="uktoolchain-k")
    path.write_text(lock.text())
    assert path.read_text() == ToolchainLock({"tiny": ["alpha", "beta"]}, PINS, cache_key="uktoolchain-k").text()
    loaded = ToolchainLock.load(path)
    assert loaded.pins == PINS and loaded.targets == {"tiny": ["alpha", "beta"]} and loaded.cache_key == "uktoolchain-k"
    loaded.check(["tiny"], PINS)

    changed = Pins(PINS.base, {**PINS.recipes, "beta": "beta/1.0#r3"}, {**PINS.sources, "alpha": "sha256 cc"})
    with pytest.raises(LockMismatchError) as refused:
        loaded.check(["tiny"], changed)
    message = str(refused.value)
    assert "alpha source is sha256 cc, locked sha256 aa" in message
    assert "beta recipe is beta/1.0#r3, locked beta/1.0#r2" in message
    with pytest.raises(LockMismatchError, match="does not lock solo"):
        loaded.check(["solo"], PINS)
    home = Home(tmp_path / "home", "5.4")

    def installed_with(ref: str) -> None:
        package = InstalledPackage(label="alpha", name="alpha", ref=ref, package_id="p", folder="p/alpha")
        state.write(home, state.InstalledTarget(toolset="5.4", target="tiny", fingerprint="f", packages=(package,)))

    installed_with("alpha/1.0#r1")
    assert loaded.covers(home, "tiny") and not loaded.covers(home, "solo")
    installed_with("alpha/1.0#r0")
    assert not loaded.covers(home, "tiny")
    with pytest.raises(LockMismatchError, match="locks OCaml set 5.3, not 5.4"):
        ToolchainLock(loaded.targets, PINS, toolset="5.3").check(["tiny"], PINS, "5.4")

    path.write_text(json.dumps({"format": 99}))
    with pytest.raises(ConfigError, match="format 99"):
        ToolchainLock.load(path)


def test_backup_staging(tmp_path):
    store = SourceStore(tmp_path / "store")
    store.root.mkdir()
    (store.root / "aa").write_bytes(b"archive")
    folder = tmp_path / "backup" / "s"
    with_urls = backup.entries_of({"sources": {"1.0": {"url": ["http://o/a.tgz"], "sha256": "AA"}}}, "alpha", "1.0")
    assert with_urls == [backup.BackupEntry("alpha/1.0", Checksum("sha256", "aa"), ("http://o/a.tgz",))]
    assert backup.entries_of({"sources": {"1.0": {"url": [], "sha256": "aa"}}}, "local", "1.0") == []
    missing = backup.BackupEntry("beta/1.0", Checksum("sha256", "bb"), ("http://o/b.tgz",))

    assert backup.stage(with_urls + [missing], store, folder) == (["alpha/1.0"], ["beta/1.0"])
    assert (folder / "aa").read_bytes() == b"archive" and os.path.samefile(folder / "aa", store.root / "aa")
    also = backup.BackupEntry("alpha2/1.0", Checksum("sha256", "aa"), ("http://m/a.tgz",))
    backup.stage([also], store, folder)
    summary = json.loads((folder / "aa.json").read_text())
    assert summary["references"] == {"alpha/1.0": ["http://o/a.tgz"], "alpha2/1.0": ["http://m/a.tgz"]}


def test_local_source_digest_is_by_content(tmp_path):
    one, two = tmp_path / "one", tmp_path / "elsewhere" / "two"
    for root in (one, two):
        (root / "sub").mkdir(parents=True)
        (root / "sub" / "f.txt").write_text("same")
        (root / ".git").mkdir()
        (root / ".git" / "HEAD").write_text(str(root))  # ignored, like when staged
    assert content_digest(one) == content_digest(two)
    (two / "sub" / "f.txt").chmod(0o755)
    assert content_digest(one) != content_digest(two)


def test_builds_side_by_side_fetch_a_shared_archive_once(server, tmp_path):
    """Two dependants of a package that came from a remote need its source: one download."""
    import hashlib
    import threading

    import synthetic

    data = synthetic.make_tarball("alpha", "shared", padding=300_000)
    (server.root / "alpha.tgz").write_bytes(data)
    server.state.throttle = 0.01  # a download that lasts long enough to overlap
    entry = {"url": [server.url("alpha.tgz")], "sha256": hashlib.sha256(data).hexdigest()}
    store = SourceStore(tmp_path / "store")
    results, errors = [], []

    def fetch() -> None:
        try:
            results.append(store.ensure("alpha", entry, []))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(results) == 2 and results[0] == results[1]
    assert results[0].read_bytes() == data
    assert server.state.requests == ["/alpha.tgz"]
