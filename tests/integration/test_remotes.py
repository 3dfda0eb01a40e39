"""Sharing toolchains through a remote: a real conan_server on 127.0.0.1, real Conan, the synthetic
recipe index, homes at different paths standing for different machines."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import synthetic
from conftest import credentials, shell_with_env
from conan_server import free_port
from netproxy import ThrottledProxy
from test_faults import Watched, conan_packages


def builds_in(home: Path) -> list[str]:
    """Components whose build script ran in ``home`` (their logs say so)."""
    logs = home / "logs" / "default"
    return sorted(log.stem for log in logs.glob("*.log") if "building " in log.read_text()) if logs.is_dir() else []


def second_home(tmp_path: Path) -> dict:
    """Another machine: a fresh home at another path."""
    return {"UKTOOLCHAIN_HOME": str(tmp_path / "machine-b" / "somewhere" / "home")}


# -- remote add / list / remove / login -------------------------------------------------------


def test_remote_add_list_login_remove(uk, index, conan_server, isolated_home):
    added = uk("remote", "add", "ci", conan_server.url, check=True)
    assert f"added remote ci {conan_server.url}" in added.stdout
    assert uk("remote", "list", check=True).stdout.split() == ["ci", conan_server.url, "not", "logged", "in"]

    again = uk("remote", "add", "ci", conan_server.url)
    assert again.returncode == 2 and "a remote named ci exists already" in again.stderr
    bad = uk("remote", "add", "other", "ftp://nowhere")
    assert bad.returncode == 3 and "invalid remote URL 'ftp://nowhere'" in bad.stderr
    assert uk("remote", "add", "bad name!", conan_server.url).returncode == 2

    login = subprocess.run(
        [*uk_command(), "remote", "login", "ci", conan_server.user, "--password-stdin"],
        input=conan_server.password + "\n", capture_output=True, text=True, check=True)
    assert f"logged in to ci as {conan_server.user}" in login.stdout
    listed = uk("remote", "list", check=True).stdout
    assert f"logged in as {conan_server.user}" in listed
    assert conan_server.requests("/v2/users/authenticate") == 1

    # Secrets appear nowhere: not in output, not in logs or files of the home.
    assert conan_server.password not in login.stdout + login.stderr + listed
    leaks = subprocess.run(["grep", "-rl", conan_server.password, str(isolated_home)], capture_output=True, text=True)
    assert leaks.stdout == "", leaks.stdout

    removed = uk("remote", "remove", "ci", check=True)
    assert "removed remote ci" in removed.stdout
    assert "no remotes" in uk("remote", "list", check=True).stdout
    gone = uk("remote", "remove", "ci")
    assert gone.returncode == 2 and "no remote named ci" in gone.stderr


def test_remote_login_prompts_for_the_password_on_a_terminal(uk, index, conan_server):
    import pexpect

    uk("remote", "add", "ci", conan_server.url, check=True)
    command = uk_command()
    child = pexpect.spawn(command[0], [*command[1:], "remote", "login", "ci", conan_server.user],
                          encoding="utf-8", timeout=60, env=dict(os.environ))
    child.logfile_read = transcript = io.StringIO()  # everything the terminal shows
    child.expect(f"password for {conan_server.user} on ci: ")
    child.sendline(conan_server.password)
    child.expect(f"logged in to ci as {conan_server.user}")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert conan_server.password not in transcript.getvalue()  # not echoed


def uk_command() -> list[str]:
    import sys

    return [sys.executable, "-m", "uktoolchain"]


def test_wrong_credentials_fail_once_with_a_clear_message(uk, index, conan_server, isolated_home):
    uk("remote", "add", "ci", conan_server.url, check=True)
    wrong = subprocess.run([*uk_command(), "remote", "login", "ci", conan_server.user, "--password-stdin"],
                           input="not-the-password\n", capture_output=True, text=True)
    assert wrong.returncode == 7, wrong.stderr
    assert wrong.stderr.strip().splitlines() == [
        f"uktoolchain: error: remote ci rejected the credentials of user {conan_server.user} "
        "(check the user and password, then `uktoolchain remote login ci`)"]
    assert conan_server.requests("/v2/users/authenticate") == 1, "no retries"

    # CI style: wrong secrets in Conan's variables make a push fail the same way, without a storm.
    uk("install", "solo", "--plain", check=True)
    before = conan_server.requests("/v2/users/authenticate")
    push = uk("push", "ci", "solo", env={"CONAN_LOGIN_USERNAME_CI": conan_server.user, "CONAN_PASSWORD_CI": "wrong"})
    assert push.returncode == 7, push.stderr
    assert (f"remote ci rejected the credentials of user {conan_server.user} "
            "(from CONAN_LOGIN_USERNAME_CI and CONAN_PASSWORD_CI)") in push.stderr, push.stderr
    assert "wrong" not in push.stderr
    assert conan_server.requests("/v2/users/authenticate") - before <= 2, conan_server.log_path.read_text()[-2000:]

    anonymous = uk("push", "ci", "solo")
    assert anonymous.returncode == 7, anonymous.stderr
    assert "remote ci needs credentials" in anonymous.stderr and "CONAN_PASSWORD_CI" in anonymous.stderr


# -- push, then install elsewhere without building --------------------------------------------


def test_push_then_install_on_another_machine_builds_nothing(uk, index, conan_server, isolated_home, tmp_path):
    uk("remote", "add", "ci", conan_server.url, check=True)
    uk("install", "tiny", "--plain", check=True)
    assert builds_in(isolated_home) == ["alpha", "beta", "gamma"]
    pushed = uk("push", "ci", "tiny", env=credentials("ci", conan_server), check=True)
    assert "pushed tiny to ci: 4 recipe(s) and 3 package(s) uploaded" in pushed.stderr  # + the recipe base
    again = uk("push", "ci", env=credentials("ci", conan_server), check=True)  # default: every installed target
    assert "pushed tiny to ci: 0 recipe(s) and 0 package(s) uploaded" in again.stderr
    leaks = subprocess.run(["grep", "-rl", conan_server.password, str(isolated_home)], capture_output=True, text=True)
    assert leaks.stdout == "" and conan_server.password not in pushed.stderr + again.stderr

    machine_b = second_home(tmp_path)
    uk("remote", "add", "ci", conan_server.url, env=machine_b, check=True)
    result = uk("install", "tiny", "--plain", "--build=never", env=machine_b, check=True)
    assert "installed: tiny (nothing to build; downloaded alpha from ci, beta from ci, gamma from ci)" in result.stderr
    home_b = Path(machine_b["UKTOOLCHAIN_HOME"])
    assert builds_in(home_b) == []
    downloads = (home_b / "logs" / "default" / "download-ci.log").read_text()  # one process fetched them all
    assert all(f"Downloading package '{name}/1.0#" in downloads for name in ("alpha", "beta", "gamma")), downloads
    assert not (home_b / "state" / "timings.json").exists(), "timings are recorded for builds only"
    assert not (home_b / "sources").exists() or not any((home_b / "sources").iterdir()), "no source was fetched"

    script = uk("env", "tiny", env=machine_b, check=True).stdout
    assert str(isolated_home) not in script
    ran = shell_with_env(script, "alpha && beta && gamma")
    assert ran.stdout.splitlines() == ["hello from alpha", "hello from beta", "hello from gamma"], ran.stderr
    assert "up to date: tiny" in uk("install", "tiny", "--build=never", env=machine_b, check=True).stderr


def test_build_never_without_the_package_on_a_remote(uk, index, conan_server, tmp_path):
    uk("remote", "add", "ci", conan_server.url, check=True)
    result = uk("install", "solo", "--plain", "--build=never")
    assert result.returncode == 7, result.stderr
    assert "--build=never, but alpha is neither in this home nor on the remotes (ci)" in result.stderr
    assert "uktoolchain push REMOTE TARGET" in result.stderr


def test_install_upload_pushes_after_installing(uk, index, conan_server, tmp_path):
    uk("remote", "add", "ci", conan_server.url, check=True)
    result = uk("install", "solo", "--plain", "--upload", "ci", env=credentials("ci", conan_server), check=True)
    assert "installed: solo (built alpha)" in result.stderr
    assert "pushed solo to ci: 2 recipe(s) and 1 package(s) uploaded" in result.stderr
    machine_b = second_home(tmp_path)
    uk("remote", "add", "ci", conan_server.url, env=machine_b, check=True)
    assert "downloaded alpha from ci" in uk("install", "solo", "--build=never", "--plain", env=machine_b, check=True).stderr


# -- faults -----------------------------------------------------------------------------------


def test_unreachable_remote_falls_back_to_building_and_says_so_once(uk, index):
    dead = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    uk("remote", "add", "gone", dead, check=True)
    started = time.monotonic()
    result = uk("install", "tiny", "--plain", check=True)
    assert time.monotonic() - started < 60
    notices = [line for line in result.stderr.splitlines() if "unreachable" in line]
    assert len(notices) == 1, result.stderr
    assert notices[0] == (f"remote gone is unreachable ({dead}: Connection refused); "
                          "building here what it would have provided")
    assert "installed: tiny (built alpha, beta, gamma)" in result.stderr

    never = uk("install", "solo", "--plain", "--build=never", "--force")
    assert never.returncode == 0, "solo's alpha is in this home now: nothing to build"


def tampered_package(original: bytes, replace: dict[str, bytes]) -> bytes:
    """A well-formed conan_package.tgz with the same files, some of them with other contents."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(original), mode="r:gz") as src, tarfile.open(fileobj=out, mode="w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name in replace:
                data = replace[member.name]
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def garbled(data: bytes) -> bytes:
    """The same archive with bytes in its middle flipped (a bad disk, a broken proxy)."""
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64]) + data[middle + 64:]


@pytest.mark.parametrize("damage", ["tampered", "garbled"])
def test_package_that_does_not_verify_is_refused(uk, index, server, conan_server, tmp_path, damage):
    synthetic.write_index(index, server, padding=200_000)  # room to garble
    uk("remote", "add", "ci", conan_server.url, check=True)
    uk("install", "solo", "--plain", "--upload", "ci", env=credentials("ci", conan_server), check=True)
    [tgz] = [p for p in conan_server.package_files("alpha") if p.name == "conan_package.tgz"]
    if damage == "tampered":  # a well-formed archive whose greeting differs from the manifest's
        tgz.write_bytes(tampered_package(tgz.read_bytes(), {"share/greeting": b"hello from mallory\n"}))
    else:
        tgz.write_bytes(garbled(tgz.read_bytes()))

    machine_b = second_home(tmp_path)
    home_b = Path(machine_b["UKTOOLCHAIN_HOME"])
    uk("remote", "add", "ci", conan_server.url, env=machine_b, check=True)
    result = uk("install", "solo", "--plain", env=machine_b)
    assert result.returncode == 7, result.stderr
    # Garbled bytes inside a stored (incompressible) member unpack without a gzip error: only the
    # manifest check catches them.
    assert "refused alpha" in result.stderr and "from remote ci: its files do not match its manifest" in result.stderr
    assert "--no-remote" in result.stderr
    assert conan_packages(home_b, "alpha/1.0:*") == {}, "the refused package must not stay in the cache"
    assert not (home_b / "state" / "installed" / "default" / "solo.json").exists()

    # The way out the message names: build it here.
    rebuilt = uk("install", "solo", "--plain", "--no-remote", env=machine_b, check=True)
    assert "built alpha" in rebuilt.stderr
    ran = shell_with_env(uk("env", "solo", env=machine_b, check=True).stdout, "alpha")
    assert ran.stdout == "hello from alpha\n"


def test_interrupted_upload_leaves_no_half_package_and_a_rerun_completes(uk, index, server, conan_server, tmp_path,
                                                                        isolated_home):
    synthetic.write_index(index, server, padding=6_000_000)  # a 6 MB package, random: gzip cannot shrink it
    uk("install", "solo", "--plain", check=True)
    stamp = json.loads((isolated_home / "state" / "installed" / "default" / "solo.json").read_text())
    [package] = stamp["packages"]
    with ThrottledProxy(conan_server.port, rate=1_000_000) as slow_link:
        uk("remote", "add", "ci", slow_link.url, check=True)
        push = Watched(uk.popen("push", "ci", "solo", env=credentials("ci", conan_server)))
        push.wait_for(lambda: slow_link.sent > 2_000_000, "the package upload to be under way", timeout=120)
        push.process.send_signal(signal.SIGKILL)
        push.finish(10)
        time.sleep(0.5)  # let the server see the connection drop

    def server_lists_the_package() -> bool:
        rref = package["ref"].split("#")[1]
        url = f"{conan_server.url}/v2/conans/alpha/1.0/_/_/revisions/{rref}/packages/{package['package_id']}/latest"
        try:
            with urllib.request.urlopen(url, timeout=10):
                return True
        except urllib.error.HTTPError as exc:
            assert exc.code == 404, exc
            return False

    assert not server_lists_the_package(), "the remote must hold no half package"
    machine_b = second_home(tmp_path)
    uk("remote", "add", "ci", conan_server.url, env=machine_b, check=True)
    assert uk("install", "solo", "--build=never", env=machine_b).returncode == 7

    uk("remote", "add", "ci", conan_server.url, "--force", check=True)
    rerun = uk("push", "ci", "solo", env=credentials("ci", conan_server), check=True)
    assert "1 package(s) uploaded" in rerun.stderr
    assert server_lists_the_package()
    result = uk("install", "solo", "--plain", "--build=never", env=machine_b, check=True)
    assert "downloaded alpha from ci" in result.stderr
    padding = Path(json.loads(uk("env", "solo", "--json", env=machine_b, check=True).stdout)["ALPHA_HOME"]) / "share" / "padding.bin"
    assert padding.stat().st_size == 6_000_000


# -- sources backup ---------------------------------------------------------------------------


def test_push_backs_up_sources_and_a_build_uses_them_when_the_origin_is_gone(uk, index, server, conan_server,
                                                                            tmp_path):
    backup_root = tmp_path / "backup"
    backup_root.mkdir()
    with synthetic.FileServer(backup_root) as backup_server:
        backup_server.state.writable = True
        backup_url = backup_server.url("").rstrip("/")
        uk("remote", "add", "ci", conan_server.url, "--sources-backup", backup_url, check=True)
        assert f"sources backup: {backup_url}" in uk("remote", "list", check=True).stdout
        uk("install", "tiny", "--plain", check=True)
        pushed = uk("push", "ci", "tiny", env=credentials("ci", conan_server), check=True)
        assert f"sources backed up to {backup_url}: alpha/1.0, beta/1.0, gamma/1.0" in pushed.stderr
        digests = {name: (index / "recipes" / name / "conandata.yml").read_text().split('sha256: "')[1][:64]
                   for name in ("alpha", "beta", "gamma")}
        for name, digest in digests.items():
            assert (backup_root / digest).read_bytes() == (server.root / f"{name}-1.0.tar.gz").read_bytes()
            summary = json.loads((backup_root / f"{digest}.json").read_text())
            assert summary["references"] == {f"{name}/1.0": [server.url(f"{name}-1.0.tar.gz")]}

        for tarball in server.root.glob("*.tar.gz"):  # upstream disappears
            tarball.unlink()
        machine_b = second_home(tmp_path)
        uk("remote", "add", "ci", conan_server.url, "--sources-backup", backup_url, env=machine_b, check=True)
        rebuilt = uk("install", "tiny", "--plain", "--no-remote", env=machine_b, check=True)
        assert "built alpha, beta, gamma" in rebuilt.stderr
        fetched = [r for r in backup_server.state.requests if not r.startswith("PUT")]
        assert sorted(fetched) == sorted(f"/{d}" for d in digests.values())


def test_conan_server_is_no_sources_backup_server(uk, index, conan_server):
    """conan_server serves only Conan's API: as a sources-backup URL, push says it refused."""
    uk("remote", "add", "ci", conan_server.url, "--sources-backup", f"{conan_server.url}/backup", check=True)
    uk("install", "solo", "--plain", check=True)
    result = uk("push", "ci", "solo", env=credentials("ci", conan_server))
    assert result.returncode == 7, result.stderr
    assert "the packages were pushed, but the sources-backup server" in result.stderr, result.stderr
    assert "conan_server is not one" in result.stderr


def test_an_unreachable_second_remote_is_named_and_the_first_still_used(uk, index, conan_server, tmp_path):
    uk("remote", "add", "good", conan_server.url, check=True)
    uk("install", "solo", "--plain", "--upload", "good", env=credentials("good", conan_server), check=True)

    machine_b = second_home(tmp_path)
    dead = f"http://127.0.0.1:{free_port()}"
    uk("remote", "add", "good", conan_server.url, env=machine_b, check=True)
    uk("remote", "add", "gone", dead, env=machine_b, check=True)
    result = uk("install", "tiny", "--plain", env=machine_b, check=True)
    notices = [line for line in result.stderr.splitlines() if "unreachable" in line]
    assert notices == [f"remote gone is unreachable ({dead}: Connection refused); "
                       "building here what it would have provided"], result.stderr
    assert "installed: tiny (built beta, gamma; downloaded alpha from good)" in result.stderr
