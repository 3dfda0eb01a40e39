"""Fixtures shared by all tests. Every test gets its own uktoolchain home: the user's real home
(and ~/.conan2) is never touched."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic  # noqa: E402
from uktoolchain.targets import Catalogue  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def targets():
    """Targets of the repository's catalogue (default set) by name: targets("hvt", "spt")."""
    catalogue = Catalogue.load(REPO / "recipes" / "targets.toml")
    return lambda *names: catalogue.resolve(list(names))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("UKTOOLCHAIN_HOME", str(home))
    monkeypatch.delenv("UKTOOLCHAIN_RECIPES", raising=False)
    monkeypatch.delenv("UKTOOLCHAIN_SOURCE_MIRROR", raising=False)
    monkeypatch.delenv("CONAN_HOME", raising=False)
    monkeypatch.delenv("UKTOOLCHAIN_OCAML", raising=False)  # the toolchain set: tests choose their own
    return home


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    with synthetic.FileServer(root) as srv:
        yield srv


@pytest.fixture
def index(tmp_path, server, monkeypatch):
    """The synthetic recipe index (alpha <- beta, gamma), served over 127.0.0.1."""
    root = synthetic.write_index(tmp_path / "index", server)
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))
    return root


class Runner:
    """Runs the real CLI in a subprocess (exit codes, signals and stdout are the interface)."""

    def __init__(self, cwd: Path | None = None):
        self.cwd = cwd

    def at(self, cwd: Path) -> "Runner":
        """The same, run in ``cwd`` (where a project's uktoolchain.toml is looked for)."""
        return Runner(cwd)

    def __call__(self, *args: str, env: dict | None = None, timeout: float = 300, check: bool = False):
        result = subprocess.run(
            [sys.executable, "-m", "uktoolchain", *args],
            capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout, cwd=self.cwd,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"uktoolchain {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def popen(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "uktoolchain", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
        )


@pytest.fixture
def uk():
    return Runner()


def shell_with_env(env_script: str, command: str) -> subprocess.CompletedProcess:
    """Run ``command`` in a clean sh after eval'ing what ``uktoolchain env`` printed."""
    return subprocess.run(
        ["sh", "-c", f"{env_script}\n{command}"], capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")},
    )


@pytest.fixture
def conan_server(tmp_path):
    """A real conan_server on 127.0.0.1 (its own venv, see tests/conan_server.py), stopped after."""
    from conan_server import ConanServer, server_python

    if server_python() is None:
        message = "conan_server is not installed: run ci/setup.sh (it makes .venv-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with ConanServer(tmp_path / "conan-server") as srv:
        yield srv


def credentials(remote: str, server) -> dict:
    """Conan's credential variables for ``remote`` (how CI passes secrets)."""
    upper = remote.replace("-", "_").upper()
    return {f"CONAN_LOGIN_USERNAME_{upper}": server.user, f"CONAN_PASSWORD_{upper}": server.password}


# -- the slow end-to-end tests' shared host toolchain ------------------------------------------
# The OCaml 5.3 set's host toolchain, built once per run from package registries' sources (the
# longest build CI makes, ~7 min) and copied into each test that needs it; copying a home is
# what users do too (a home has no path of its own in it).


@dataclass(frozen=True)
class BuiltHome:
    root: Path
    install: subprocess.CompletedProcess  # the install that built it, for tests to examine

    def copy_to(self, destination: Path) -> Path:
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(self.root, destination, symlinks=True)
        return destination


@pytest.fixture(scope="session")
def unix53(tmp_path_factory) -> BuiltHome:
    """A home with the 5.3 set's `unix` (OCaml from npm, findlib/dune from Debian's origs)."""
    source, mirror = os.environ.get("UKTOOLCHAIN_TEST_OCAML_SOURCE"), os.environ.get("UKTOOLCHAIN_TEST_MIRROR")
    if not (source and mirror):
        pytest.skip("set UKTOOLCHAIN_TEST_OCAML_SOURCE (an OCaml 5.3.0 source tarball) and UKTOOLCHAIN_TEST_MIRROR "
                    "(findlib/dune archives named by sha256); `ci/fetch-local-sources.sh` prints both")
    root = tmp_path_factory.mktemp("unix53") / "home"
    env = {**os.environ, "UKTOOLCHAIN_HOME": str(root), "UKTOOLCHAIN_SOURCE_MIRROR": mirror,
           "UKTOOLCHAIN_OCAML": "5.3"}
    env.pop("UKTOOLCHAIN_RECIPES", None)
    result = subprocess.run([sys.executable, "-m", "uktoolchain", "install", "unix", "--plain",
                             "--source", f"ocaml={source}"], capture_output=True, text=True, env=env,
                            timeout=3600)
    assert result.returncode == 0, result.stderr[-4000:]
    return BuiltHome(root, result)
