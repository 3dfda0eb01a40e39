"""A real conan_server for tests, on 127.0.0.1 only, with a user that may write.

conan_server pins its own Conan, so it lives in its own venv (``.venv-server`` in the repository,
made by ci/setup.sh; ``UKTOOLCHAIN_TEST_CONAN_SERVER`` may name another venv's python). Its CLI
binds 0.0.0.0, so it is started from Python with ``server.run(host="127.0.0.1")``.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
USER, PASSWORD = "ci", "s3cret-Pa55"

LAUNCH = """\
import os, sys
from conans.server.launcher import ServerLauncher
launcher = ServerLauncher(server_dir=os.environ["CONAN_SERVER_HOME"])
print("listening", flush=True)
launcher.server.run(host="127.0.0.1")
"""

SERVER_CONF = """\
[server]
jwt_secret: {jwt}
jwt_expire_minutes: 120
ssl_enabled: False
port: {port}
public_port:
host_name: 127.0.0.1
authorize_timeout: 1800
disk_storage_path: {storage}
disk_authorize_timeout: 1800
updown_secret: {updown}

[write_permissions]
*/*@*/*: {user}

[read_permissions]
*/*@*/*: *

[users]
{user}: {password}
"""


def server_python() -> Path | None:
    """The conan_server venv's python, or None when it is not installed."""
    configured = os.environ.get("UKTOOLCHAIN_TEST_CONAN_SERVER")
    candidate = Path(configured) if configured else REPO / ".venv-server" / "bin" / "python"
    return candidate if candidate.is_file() else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ConanServer:
    """Start with ``with ConanServer(dir) as server``; ``server.url`` is the remote URL."""

    def __init__(self, root: Path, user: str = USER, password: str = PASSWORD):
        self.root = root
        self.user, self.password = user, password
        self.storage = root / "data"
        self.log_path = root / "server.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ConanServer":
        python = server_python()
        if python is None:
            raise RuntimeError("conan_server is not installed: run ci/setup.sh (it makes .venv-server)")
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "server.conf").write_text(SERVER_CONF.format(
            jwt=secrets.token_hex(16), updown=secrets.token_hex(16), port=self.port, storage=self.storage,
            user=self.user, password=self.password))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CONAN_SERVER_HOME": str(self.root),
               "HOME": str(self.root)}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([str(python), "-c", LAUNCH], stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/v1/ping", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"conan_server did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def requests(self, fragment: str) -> int:
        """How many requests whose line in the access log contains ``fragment``."""
        return sum(1 for line in self.log_path.read_text(errors="replace").splitlines()
                   if '"' in line and fragment in line)

    def package_files(self, name: str) -> list[Path]:
        """Files the server stores for the binaries of recipe ``name``."""
        root = self.storage / name
        return sorted(p for p in root.rglob("*") if p.is_file() and "/package/" in str(p)) if root.is_dir() else []

    def wipe(self) -> None:
        shutil.rmtree(self.storage, ignore_errors=True)

    def __enter__(self) -> "ConanServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
