"""Typed errors. Core modules raise these; only the CLI turns them into a message and exit code.

Each class carries its exit code so that scripts can tell a typo from a broken build:
2 usage, 3 configuration/input, 4 source fetch, 5 build, 6 environment (home, disk, lock),
7 remote, 8 check/boot failures, 130 interrupted. The README's "Exit codes" table lists every
code (a test holds them to each other).
"""
from __future__ import annotations


class UkError(Exception):
    """Base: ``message`` is one line naming the problem; ``hint`` says how to fix it.

    Raised only through a subclass; one raised bare would be our bug, hence the internal error's code."""

    exit_code = 70

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(UkError):
    exit_code = 2


class UnknownTargetError(UsageError):
    pass


class UnknownComponentError(UsageError):
    pass


class TargetNotAvailableError(UsageError):
    pass


class UnknownRemoteError(UsageError):
    pass


class UnknownSetError(UsageError):
    """A toolchain set (``--ocaml``) the catalogue does not have."""


class ConfigError(UkError):
    exit_code = 3


class SourceOverrideError(ConfigError):
    pass


class PinFileError(ConfigError):
    """A project's uktoolchain.toml that cannot be read or names what does not exist."""


class LockMismatchError(ConfigError):
    """The recipes resolve to other revisions or sources than a lock file pins."""


class ImageMismatchError(ConfigError):
    """A unikernel image that is not the target's (another architecture or binding, no ABI note)."""


class IncompatibleObjectsError(ConfigError):
    """Objects or static libraries that were not built for the target (verify-objects)."""


class SourceError(UkError):
    """Fetching a source archive failed."""

    exit_code = 4


class ChecksumMismatchError(SourceError):
    pass


class MirrorsUnreachableError(SourceError):
    pass


class BuildError(UkError):
    """A component failed to build; carries what the CLI shows of it."""

    exit_code = 5

    def __init__(self, component: str, log_path: str, tail: list[str], hint: str | None = None):
        super().__init__(f"building {component} failed; full log: {log_path}", hint)
        self.component = component
        self.log_path = log_path
        self.tail = tail


class EngineError(UkError):
    """Conan refused something uktoolchain asked of it (graph, export, install)."""

    exit_code = 5


class EnvironmentProblem(UkError):
    exit_code = 6


class HomeNotWritableError(EnvironmentProblem):
    pass


class HomePathError(EnvironmentProblem):
    """The home's path has characters the tools that build or use toolchains cannot take."""


class DiskFullError(EnvironmentProblem):
    pass


class HomeLockedError(EnvironmentProblem):
    pass


class NotInstalledError(EnvironmentProblem):
    pass


class RemoteError(UkError):
    exit_code = 7


class DownloadError(BuildError):
    """Downloading a package from a remote failed; carries the log tail like a build failure."""

    exit_code = 7

    def __init__(self, component: str, log_path: str, tail: list[str], remote: str | None):
        super().__init__(component, log_path, tail,
                         f"rerun to retry, or install with --no-remote to build it here instead of using {remote}")
        self.message = f"downloading {component} from remote {remote} failed; full log: {log_path}"


class CheckFailedError(UkError):
    exit_code = 8


class Interrupted(UkError):
    exit_code = 130


def home_error_for_path(path, exc: OSError) -> UkError:
    """An OSError writing a file the user named: one line naming the path and the problem."""
    return EnvironmentProblem(f"cannot write {path}: {exc.strerror or exc}",
                              "choose a writable path with -o, or fix the permissions")


class RustToolchainMissingError(EnvironmentProblem):
    """No usable rustc/cargo on this machine (a host prerequisite, like a C compiler)."""


class RustSourceMissingError(SourceError):
    """The chosen Rust toolchain lacks the sources of core/alloc (rust-src) or compiler_builtins:
    the sources of the rust-sysroot component, hence a source error."""


class RustSysrootMismatchError(EnvironmentProblem):
    """An installed Rust sysroot was built by another rustc than the one chosen now."""


class CargoFailedError(UkError):
    """``uktoolchain cargo``: cargo failed (its output is above the message)."""

    exit_code = 5
