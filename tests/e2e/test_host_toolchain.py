"""The real host toolchain: OCaml 5.3.0 + ocamlfind + dune built by uktoolchain, then used.

Upstream hosts are unreachable on our machines, so OCaml comes from `npm pack ocaml@5.3.0` as a
local source and findlib/dune from a mirror directory holding Debian's byte-identical .orig
tarballs. ci/fetch-local-sources.sh prints both paths. The toolchain built here is then pushed to a
real conan_server on 127.0.0.1 and installed into a fresh home at another path with --build=never:
the proof that what CI builds once, every machine downloads and uses as is. Run it alone with:

    UKTOOLCHAIN_TEST_OCAML_SOURCE=~/.cache/uktoolchain-ci/ocaml-5.3.0.tgz \
    UKTOOLCHAIN_TEST_MIRROR=~/.cache/uktoolchain-ci/mirror .venv/bin/python -m pytest tests/e2e/test_host_toolchain.py
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import credentials, shell_with_env

OCAML_SOURCE = os.environ.get("UKTOOLCHAIN_TEST_OCAML_SOURCE")
MIRROR = os.environ.get("UKTOOLCHAIN_TEST_MIRROR")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (OCAML_SOURCE and MIRROR),
        reason="set UKTOOLCHAIN_TEST_OCAML_SOURCE (an OCaml 5.3.0 source tarball) and UKTOOLCHAIN_TEST_MIRROR "
        "(findlib/dune archives named by sha256); `ci/fetch-local-sources.sh` prints both",
    ),
]

HELLO_ML = 'let () = print_endline (Str.global_replace (Str.regexp "world") "unikernel" "hello world")\n'


def write_dune_project(root):
    (root / "bin").mkdir(parents=True)
    (root / "dune-project").write_text("(lang dune 3.0)\n")
    (root / "bin" / "dune").write_text("(executable (name main) (libraries str unix))\n")
    (root / "bin" / "main.ml").write_text(HELLO_ML + 'let () = Printf.printf "pid>0: %b\\n" (Unix.getpid () > 0)\n')


def exercise(env_script: str, workdir) -> None:
    """ocamlfind, dune and the bytecode toplevel all work in a clean shell with only our env."""
    workdir.mkdir(parents=True)
    (workdir / "hello.ml").write_text(HELLO_ML)
    write_dune_project(workdir / "proj")
    checks = {
        f"cd {workdir} && ocamlfind ocamlopt -package str -linkpkg hello.ml -o hello && ./hello": "hello unikernel",
        "ocamlfind list 2>/dev/null | grep -E '^(str|unix|threads|findlib) ' | cut -d' ' -f1 | sort | tr '\\n' ' '":
            "findlib str threads unix",
        f"cd {workdir}/proj && dune build ./bin/main.exe 2>&1 && ./_build/default/bin/main.exe":
            "hello unikernel\npid>0: true",
        "echo 'print_int (1 + 2);;' | ocaml -stdin": "3",  # bytecode: its #! must find ocamlrun
        # ocamlmklib runs the ocamlc next to it through the shell (our patch: quoted, for homes with spaces).
        f"cd {workdir} && echo 'let x = 1' > m.ml && ocamlfind ocamlc -c m.ml && ocamlmklib -o mylib m.cmo"
        " && ocamlobjinfo mylib.cma | grep -c '^Unit name: M$'": "1",
    }
    for command, expected in checks.items():
        ran = shell_with_env(env_script, command)
        assert expected in ran.stdout, f"{command}\nstdout: {ran.stdout}\nstderr: {ran.stderr}"


def test_host_toolchain_builds_works_and_relocates(uk, tmp_path, isolated_home, conan_server, monkeypatch, unix53):
    # The OCaml 5.3 set: the one whose every source is in a package registry (npm, Debian trixie),
    # built once per run (conftest.unix53) from scratch; this test takes a copy of that home.
    monkeypatch.setenv("UKTOOLCHAIN_OCAML", "5.3")
    result = unix53.install
    unix53.copy_to(isolated_home)
    assert "using local source for ocaml (sha256 " in result.stderr
    assert "built ocaml, ocamlfind, dune" in result.stderr or "built ocaml, dune, ocamlfind" in result.stderr

    exercise(uk("env", "unix", check=True).stdout, tmp_path / "work1")
    install_from_remote_elsewhere(uk, tmp_path, isolated_home, conan_server)

    # Relocation: the same home under another path, the original gone.
    moved = tmp_path / "another" / "place"
    shutil.copytree(isolated_home, moved, symlinks=True)
    shutil.rmtree(isolated_home)
    env = {"UKTOOLCHAIN_HOME": str(moved), "UKTOOLCHAIN_SOURCE_MIRROR": MIRROR}
    again = uk("install", "unix", "--source", f"ocaml={OCAML_SOURCE}", env=env, check=True)
    assert "up to date: unix" in again.stderr
    script = uk("env", "unix", env=env, check=True).stdout
    assert str(isolated_home) not in script
    exercise(script, tmp_path / "work2")
    grep = subprocess.run(["grep", "-rIl", str(isolated_home), str(moved / "conan" / "p")], capture_output=True, text=True)
    assert grep.stdout == "", "build-machine paths inside packages:\n" + grep.stdout


def install_from_remote_elsewhere(uk, tmp_path, home_a, server) -> None:
    """Push home A's toolchain, install it into a fresh home B at another path without building,
    and use it from B."""
    uk("remote", "add", "ci", server.url, check=True)
    pushed = uk("push", "ci", "unix", env=credentials("ci", server), timeout=900)
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    assert "3 package(s) uploaded" in pushed.stderr, pushed.stderr

    # B's path has a space and non-ASCII letters (macOS's default home is under "Application
    # Support"): nothing is built there, so it is allowed, and the downloaded toolchain works.
    home_b = tmp_path / "machine-b" / "rel ü home" / "home"
    env_b = {"UKTOOLCHAIN_HOME": str(home_b), "UKTOOLCHAIN_SOURCE_MIRROR": MIRROR}
    uk("remote", "add", "ci", server.url, env=env_b, check=True)
    # The same local OCaml source gives the same recipe revision, hence the same binaries.
    fetched = uk("install", "unix", "--plain", "--build=never", "--source", f"ocaml={OCAML_SOURCE}",
                 env=env_b, timeout=900)
    assert fetched.returncode == 0, fetched.stderr[-3000:]
    assert "(nothing to build; downloaded " in fetched.stderr, fetched.stderr
    downloads = (home_b / "logs" / "5.3" / "download-ci.log").read_text()  # one process fetched them all
    for component in ("ocaml", "ocamlfind", "dune"):
        assert f"{component} from ci" in fetched.stderr
        assert f"Downloading package '{component}/" in downloads
    assert not (home_b / "state" / "timings.json").exists(), "nothing was built in B"

    script = uk("env", "unix", env=env_b, check=True).stdout
    assert str(home_a) not in script
    exercise(script, tmp_path / "work-b")
    grep = subprocess.run(["grep", "-rIl", str(home_a), str(home_b / "conan" / "p")], capture_output=True, text=True)
    assert grep.stdout == "", "machine A's paths inside B's packages:\n" + grep.stdout
