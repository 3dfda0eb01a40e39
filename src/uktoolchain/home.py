"""Where uktoolchain keeps things. One root; everything else is a fixed layout under it.

The root is ``UKTOOLCHAIN_HOME`` or the platform's user data directory. Conan runs with its own
CONAN_HOME inside the root, so the user's ~/.conan2 is never read or written.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import NamedTuple

from uktoolchain.errors import DiskFullError, HomeNotWritableError, HomePathError


def default_root() -> Path:
    override = os.environ.get("UKTOOLCHAIN_HOME")
    if override:
        return Path(override).expanduser().absolute()
    import platformdirs  # only when needed: keeps the no-op path light

    return Path(platformdirs.user_data_dir("uktoolchain", appauthor=False))


class Home(NamedTuple):
    root: Path
    # The toolchain set this view is for: installed-target records, logs and everything rendered
    # at use time live apart per set, so sets never disturb each other. Conan's cache, the
    # sources and the lock are shared (builds that sets have in common are made once).
    toolset: str = ""

    @classmethod
    def discover(cls, toolset: str = "") -> "Home":
        return cls(default_root(), toolset)

    def for_set(self, toolset: str) -> "Home":
        return Home(self.root, toolset)

    def _per_set(self, folder: Path) -> Path:
        return folder / self.toolset if self.toolset else folder

    @property
    def conan(self) -> Path:
        return self.root / "conan"

    @property
    def sources(self) -> Path:
        """Source archives named by checksum (downloaded, or staged local overrides)."""
        return self.root / "sources"

    @property
    def logs(self) -> Path:
        return self._per_set(self.root / "logs")

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
        return self._per_set(self.root / "rendered")

    @property
    def site(self) -> Path:
        """Where users' own ocamlfind installs go, per target; never inside a package."""
        return self._per_set(self.root / "site")

    @property
    def config_file(self) -> Path:
        return self.root / "config.toml"

    @property
    def lock_file(self) -> Path:
        return self.root / "lock"

    @property
    def installed(self) -> Path:
        """Records of installed targets: ``installed/<set>/<target>.json``."""
        return self.state / "installed"

    def stamp(self, target: str) -> Path:
        return self._per_set(self.installed) / f"{target}.json"

    def ensure_writable(self) -> None:
        """Fail early, with the fix, when the home cannot take a build."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            import tempfile  # here: env and the no-op install import this module, and never write

            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
                pass
        except OSError as exc:
            raise home_error(self.root, exc) from exc


# Characters that make (OCaml, Solo5 and ocaml-solo5 are built by make and shell scripts) cannot
# take in the path of a build folder: make splits words at whitespace and treats these specially,
# and upstream makefiles pass paths to the shell unquoted. Non-ASCII letters are fine.
_UNSAFE_FOR_BUILDS = set("#$:;=%*?\"'\\`()[]{}<>|&!")


def require_path_for_builds(root: Path) -> None:
    """Refuse, before anything is built, a home whose path upstream build systems cannot take.
    A home built elsewhere works from such a path once copied or moved there (the installed
    tools quote their paths), and so do packages downloaded from a remote."""
    bad = sorted({c for c in str(root) if c.isspace() or c in _UNSAFE_FOR_BUILDS})
    if not bad:
        return
    shown = ", ".join("a space" if c == " " else repr(c) for c in bad)
    raise HomePathError(
        f"cannot build toolchains in {root}: its path has {shown}, which the upstream makefiles cannot take",
        "set UKTOOLCHAIN_HOME to a path without them and build there, then move the home here if you like; "
        "or take prebuilt packages from a remote with --build=never")


def require_path_for_use(root: Path) -> None:
    """PATH, OCAMLPATH, CAML_LD_LIBRARY_PATH and findlib's search path are ':'-separated lists."""
    if ":" in str(root):
        raise HomePathError(f"cannot use toolchains in {root}: its path has a ':', which separates the entries of PATH",
                            "set UKTOOLCHAIN_HOME to a path without ':'")


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
