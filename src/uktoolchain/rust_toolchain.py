"""Which Rust toolchain builds and uses the Rust sysroots, and what a toolchain lacks.

A toolchain is usable when it has rustc, cargo beside it, rust-src (the sources of core and alloc)
and a compiler_builtins source (inside rust-src on recent toolchains; Debian's
librust-compiler-builtins-dev otherwise: crates.io is not needed). The rule, first match wins:

1. ``UKTOOLCHAIN_RUSTC`` (and ``UKTOOLCHAIN_CARGO``, default: the cargo beside that rustc): taken
   as given; what it lacks is an error, never a silent fallback to another toolchain.
2. The first ``rustc`` on PATH that is usable.
3. ``/usr/bin/rustc``: Debian/Ubuntu's packages, which rustup's ``~/.cargo/bin`` shadows on PATH.

rustup's proxies are resolved to the toolchain they run now (``rustc --print sysroot``), so a
directory override cannot switch compilers between building a sysroot and using it.
"""
from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from uktoolchain.errors import ConfigError, RustSourceMissingError, RustToolchainMissingError

FALLBACK_RUSTC = ("/usr/bin/rustc",)
DEBIAN_REGISTRY = "/usr/share/cargo/registry"
APT_INSTALL = "sudo apt-get install -y rustc cargo rust-src librust-compiler-builtins-dev"
TIMEOUT = 20.0


def release_of(version: str) -> str:
    """The "release:" line of `rustc -vV`."""
    match = re.search(r"^release: (\S+)", version, re.M)
    return match.group(1) if match else "unknown version"


@dataclass(frozen=True)
class Candidate:
    """One rustc looked at, with what it lacks (``problems`` empty: usable)."""

    rustc: Path  # as found (maybe a rustup proxy)
    real_rustc: Path | None = None  # the toolchain's own binary
    cargo: Path | None = None
    sysroot: Path | None = None
    version: str = ""  # `rustc -vV`
    library: Path | None = None  # rust-src's library/
    compiler_builtins: Path | None = None
    problems: tuple[str, ...] = ()
    rustup: bool = False

    @property
    def release(self) -> str:
        return release_of(self.version)

    @property
    def usable(self) -> bool:
        return not self.problems

    def install_hint(self) -> str:
        if self.rustup:
            # rust-src only on recent toolchains carries compiler_builtins; say both when needed.
            hint = "rustup component add rust-src"
            if self.library is not None and self.compiler_builtins is None:
                hint = "a toolchain whose rust-src has library/compiler-builtins, or: " + APT_INSTALL
            return hint
        return APT_INSTALL


@dataclass(frozen=True)
class RustToolchain:
    rustc: Path
    cargo: Path
    version: str  # `rustc -vV`, what rlibs must have been built by
    library: Path
    compiler_builtins: Path

    @property
    def release(self) -> str:
        return release_of(self.version)

    def conan_conf(self) -> list[str]:
        """What the rust-sysroot recipe is told (it computes its package id from these)."""
        return [f"user.uktoolchain:rustc={self.rustc}", f"user.uktoolchain:cargo={self.cargo}",
                f"user.uktoolchain:rust_compiler_builtins={self.compiler_builtins}"]

    def fingerprint(self) -> str:
        """Changes when anything that shapes a sysroot changes (for the no-op install check)."""
        text = "\n".join(map(str, (self.rustc, self.cargo, self.version, self.library, self.compiler_builtins)))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Survey:
    chosen: Candidate | None
    looked_at: list[Candidate] = field(default_factory=list)
    explicit: bool = False  # chosen by UKTOOLCHAIN_RUSTC


def _run(argv: list[str]) -> str | None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def _compiler_builtins(library: Path, registry: str) -> Path | None:
    in_tree = library / "compiler-builtins" / "compiler-builtins"
    if (in_tree / "Cargo.toml").is_file():
        return in_tree
    packaged = [Path(p).parent for p in glob.glob(f"{registry}/compiler_builtins-*/Cargo.toml")]
    if not packaged:
        return None
    return max(packaged, key=lambda p: tuple(int(n) for n in re.findall(r"\d+", p.name)))


def inspect(rustc: Path, cargo: Path | None = None, registry: str = DEBIAN_REGISTRY) -> Candidate:
    """Everything about one rustc; ``cargo`` overrides the cargo beside it."""
    sysroot_out = _run([str(rustc), "--print", "sysroot"])
    version = _run([str(rustc), "-vV"])
    if sysroot_out is None or version is None:
        return Candidate(rustc, problems=(f"{rustc} does not run (rustc --print sysroot / -vV failed)",))
    sysroot = Path(sysroot_out.strip())
    rustup = "toolchains" in sysroot.parts and (sysroot.parent.name == "toolchains")
    real = sysroot / "bin" / "rustc"
    real_rustc = real if real.is_file() else rustc
    if cargo is None:
        beside = [sysroot / "bin" / "cargo", rustc.parent / "cargo"]
        cargo = next((c for c in beside if c.is_file() and os.access(c, os.X_OK)), None)
    problems = []
    if cargo is None or not cargo.is_file():
        problems.append(f"no cargo beside {real_rustc}")
    library = sysroot / "lib" / "rustlib" / "src" / "rust" / "library"
    builtins = None
    if not (library / "core" / "src" / "lib.rs").is_file():
        problems.append(f"rust-src missing (no {library})")
        library_found = None
    else:
        library_found = library
        builtins = _compiler_builtins(library, registry)
        if builtins is None:
            problems.append(f"no compiler_builtins source (not in rust-src, none in {registry})")
    return Candidate(rustc, real_rustc, cargo, sysroot, version.strip(), library_found, builtins, tuple(problems),
                     rustup)


def _path_rustcs(path: str) -> list[Path]:
    found = []
    for directory in path.split(os.pathsep):
        candidate = Path(directory or ".") / "rustc"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            found.append(candidate)
    return found


def survey(env: dict[str, str] | None = None, fallbacks: tuple[str, ...] = FALLBACK_RUSTC,
           registry: str = DEBIAN_REGISTRY) -> Survey:
    """Apply the rule; never raises for what it finds (doctor reports it)."""
    env = os.environ if env is None else env
    explicit = env.get("UKTOOLCHAIN_RUSTC")
    if explicit:
        rustc = Path(shutil.which(explicit) or explicit)
        if not (rustc.is_file() and os.access(rustc, os.X_OK)):
            looked = Candidate(rustc, problems=(f"UKTOOLCHAIN_RUSTC={explicit} is not an executable",))
            return Survey(None, [looked], explicit=True)
        cargo = env.get("UKTOOLCHAIN_CARGO")
        candidate = inspect(rustc, Path(cargo) if cargo else None, registry)
        return Survey(candidate if candidate.usable else None, [candidate], explicit=True)
    looked_at: list[Candidate] = []
    seen: set[str] = set()
    for rustc in _path_rustcs(env.get("PATH", "")) + [Path(p) for p in fallbacks]:
        if not rustc.is_file():
            continue
        candidate = inspect(rustc, registry=registry)
        key = str(candidate.sysroot or os.path.realpath(rustc))
        if key in seen:
            continue
        seen.add(key)
        looked_at.append(candidate)
        if candidate.usable:
            return Survey(candidate, looked_at)
    return Survey(None, looked_at)


def select(env: dict[str, str] | None = None, fallbacks: tuple[str, ...] = FALLBACK_RUSTC,
           registry: str = DEBIAN_REGISTRY) -> RustToolchain:
    """The toolchain to use, or a typed error naming what is missing and how to get it."""
    found = survey(env, fallbacks, registry)
    if found.chosen is not None:
        c = found.chosen
        assert c.real_rustc and c.cargo and c.library and c.compiler_builtins
        return RustToolchain(c.real_rustc, c.cargo, c.version, c.library, c.compiler_builtins)
    if found.explicit:
        [candidate] = found.looked_at
        if candidate.sysroot is None:
            raise ConfigError(candidate.problems[0], "point UKTOOLCHAIN_RUSTC at a working rustc, or unset it")
        raise _error_for(candidate, "UKTOOLCHAIN_RUSTC's toolchain")
    if not found.looked_at:
        raise RustToolchainMissingError("no Rust toolchain: no rustc on PATH or in /usr/bin",
                                        f"install one: {APT_INSTALL}")
    # Report the first toolchain found: the one the user most likely means.
    raise _error_for(found.looked_at[0], "no usable Rust toolchain")


def _error_for(candidate: Candidate, what: str):
    lacks = "; ".join(candidate.problems)
    message = f"{what}: {candidate.real_rustc or candidate.rustc} ({candidate.release}): {lacks}"
    if candidate.sysroot is not None and (candidate.library is None or candidate.compiler_builtins is None) \
            and all("cargo" not in p for p in candidate.problems):
        return RustSourceMissingError(message, f"install it: {candidate.install_hint()}")
    return RustToolchainMissingError(message, f"install: {candidate.install_hint()}")


def describe(candidate: Candidate) -> str:
    """One line for doctor: what will be used."""
    cargo_version = _run([str(candidate.cargo), "-V"]) if candidate.cargo else None
    cargo = f"{candidate.cargo} ({(cargo_version or '').strip() or 'version unknown'})"
    return (f"rustc {candidate.real_rustc} ({candidate.release}), cargo {cargo}, rust-src {candidate.library}, "
            f"compiler_builtins {candidate.compiler_builtins}")
