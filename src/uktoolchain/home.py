"""Where uktoolchain keeps things. One root; everything else is a fixed layout under it.

The root is ``UKTOOLCHAIN_HOME`` or the platform's user data directory. Conan runs with its own
CONAN_HOME inside the root, so the user's ~/.conan2 is never read or written.
"""
from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from uktoolchain.errors import DiskFullError, HomeNotWritableError


def default_root() -> Path:
    override = os.environ.get("UKTOOLCHAIN_HOME")
    if override:
        return Path(override).expanduser().absolute()
    import platformdirs  # only when needed: keeps the no-op path light

    return Path(platformdirs.user_data_dir("uktoolchain", appauthor=False))


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def discover(cls) -> "Home":
        return cls(default_root())

    @property
    def conan(self) -> Path:
        return self.root / "conan"

    @property
    def sources(self) -> Path:
        """Source archives named by checksum (downloaded, or staged local overrides)."""
        return self.root / "sources"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def staging(self) -> Path:
        """Recipe copies exported with a local-source conandata."""
        return self.root / "staging"

    @property
    def rendered(self) -> Path:
        """Files rendered with this machine's paths at use time (findlib.conf, ...)."""
        return self.root / "rendered"

    @property
    def site(self) -> Path:
        """Where users' own ocamlfind installs go, per target; never inside a package."""
        return self.root / "site"

    @property
    def config_file(self) -> Path:
        return self.root / "config.toml"

    @property
    def lock_file(self) -> Path:
        return self.root / "lock"

    def stamp(self, target: str) -> Path:
        return self.state / "installed" / f"{target}.json"

    def ensure_writable(self) -> None:
        """Fail early, with the fix, when the home cannot take a build."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            import tempfile  # here: env and the no-op install import this module, and never write

            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
                pass
        except OSError as exc:
            raise home_error(self.root, exc) from exc


def home_error(path: Path, exc: OSError) -> Exception:
    if exc.errno == errno.ENOSPC:
        return DiskFullError(
            f"no space left on the device holding {path}",
            "free some space, run `uktoolchain gc`, or point UKTOOLCHAIN_HOME at a larger disk",
        )
    return HomeNotWritableError(
        f"cannot write to {path}: {exc.strerror or exc}",
        "make it writable or set UKTOOLCHAIN_HOME to a writable directory",
    )
