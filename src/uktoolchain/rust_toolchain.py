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

Applying the rule runs each rustc it looks at (~0.1 s in all). ``install`` applies it and records
the choice (``ToolchainRecord``); ``env`` and the no-op install then only stat what the rule looked
at (``select_recorded``) and apply it again when anything changed.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
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


def _which(command: str) -> str:
    import shutil  # not at the top: env imports this module (~2 ms)

    return shutil.which(command) or command


def _run(argv: list[str]) -> str | None:
    import subprocess  # here: env, answered from the record, runs nothing

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
    import glob

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
        rustc = Path(_which(explicit))
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
    return _chosen(survey(env, fallbacks, registry))


def _chosen(found: Survey) -> RustToolchain:
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


# -- the choice made at install, checked later by stat ---------------------------------------------

RECORD_FORMAT = 1
_RULE_VARIABLES = ("UKTOOLCHAIN_RUSTC", "UKTOOLCHAIN_CARGO", "RUSTUP_TOOLCHAIN", "RUSTUP_HOME")


@dataclass(frozen=True)
class ToolchainRecord:
    """A toolchain the rule chose, with two cheap signatures (stat results, no process run):

    - ``files``: its rustc, cargo, sysroot, rust-src and compiler_builtins (a reinstalled or
      upgraded toolchain replaces them, which changes their inode or mtime);
    - ``rule``: what the rule looked at up to its choice (the variables it reads, every rustc on
      PATH before the chosen one and the state of their toolchains, rustup's settings and
      rust-toolchain files when a rustup proxy is among them): if none changed, the rule would
      choose the same toolchain again.
    """

    toolchain: RustToolchain
    found_as: str  # the rustc the rule took (maybe a rustup proxy); where its look-up stops
    sysroots: dict[str, str]  # rustc looked at -> its sysroot (rejected ones included)
    rustup: bool  # a rustup proxy (or a rustc that did not run) was among them: rustup's settings count
    files: str
    rule: str

    def to_json(self) -> str:
        t = self.toolchain
        return json.dumps({
            "format": RECORD_FORMAT,
            "toolchain": {"rustc": str(t.rustc), "cargo": str(t.cargo), "version": t.version,
                          "library": str(t.library), "compiler_builtins": str(t.compiler_builtins)},
            "found_as": self.found_as, "sysroots": self.sysroots, "rustup": self.rustup,
            "files": self.files, "rule": self.rule,
        }, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ToolchainRecord | None":
        try:
            data = json.loads(text)
            if data.get("format") != RECORD_FORMAT:
                return None
            t = data["toolchain"]
            toolchain = RustToolchain(Path(t["rustc"]), Path(t["cargo"]), t["version"], Path(t["library"]),
                                      Path(t["compiler_builtins"]))
            return cls(toolchain, data["found_as"], dict(data["sysroots"]), bool(data["rustup"]), data["files"],
                       data["rule"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def _stat(path: Path | str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "-"
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def _files_signature(toolchain: RustToolchain) -> str:
    sysroot = toolchain.rustc.parent.parent
    paths = (toolchain.rustc, toolchain.cargo, sysroot / "lib" / "rustlib", toolchain.library,
             toolchain.compiler_builtins, toolchain.compiler_builtins.parent)
    return hashlib.sha256("\n".join(f"{p} {_stat(p)}" for p in paths).encode()).hexdigest()


def _rustup_inputs(env: dict[str, str]) -> list[str]:
    """What decides the toolchain a rustup proxy runs: its settings (default toolchain, directory
    overrides) and rust-toolchain files from the working directory up."""
    rustup_home = Path(env.get("RUSTUP_HOME") or Path.home() / ".rustup")
    found = [f"settings {_stat(rustup_home / 'settings.toml')}"]
    directory = Path.cwd()
    for folder in (directory, *directory.parents):
        for name in ("rust-toolchain", "rust-toolchain.toml"):
            signature = _stat(folder / name)
            if signature != "-":
                found.append(f"{folder / name} {signature}")
    return found


def _rule_signature(env: dict[str, str], fallbacks: tuple[str, ...], found_as: str, sysroots: dict[str, str],
                    rustup: bool) -> str | None:
    """The rule's inputs up to ``found_as``; None when ``found_as`` is no longer where it looks."""
    lines = [f"{name}={env.get(name, '')}" for name in _RULE_VARIABLES]
    explicit = env.get("UKTOOLCHAIN_RUSTC")
    if explicit:
        candidates = [Path(_which(explicit))]
    else:
        candidates = _path_rustcs(env.get("PATH", "")) + [Path(p) for p in fallbacks]
    for rustc in candidates:
        lines.append(f"{rustc} {_stat(rustc)}")
        sysroot = sysroots.get(str(rustc))
        if sysroot is not None:  # a toolchain gains or loses cargo, rust-src: the rule may choose it now
            lines += [f"{p} {_stat(p)}" for p in (Path(sysroot) / "bin", Path(sysroot) / "lib" / "rustlib",
                                                 Path(sysroot) / "lib" / "rustlib" / "src" / "rust" / "library")]
        if str(rustc) == found_as:
            if rustup:
                lines += _rustup_inputs(env)
            return hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return None


def record_choice(env: dict[str, str] | None = None, fallbacks: tuple[str, ...] = FALLBACK_RUSTC,
                  registry: str = DEBIAN_REGISTRY) -> ToolchainRecord:
    """Apply the rule (running the compilers) and record its choice; raises as ``select``."""
    env = dict(os.environ if env is None else env)
    found = survey(env, fallbacks, registry)
    toolchain = _chosen(found)
    assert found.chosen is not None
    sysroots = {str(c.rustc): str(c.sysroot) for c in found.looked_at if c.sysroot is not None}
    rustup = any(c.rustup or c.sysroot is None for c in found.looked_at)
    found_as = str(found.chosen.rustc)
    rule = _rule_signature(env, fallbacks, found_as, sysroots, rustup)
    assert rule is not None  # the rule found it there a moment ago
    return ToolchainRecord(toolchain, found_as, sysroots, rustup, _files_signature(toolchain), rule)


def still_chosen(record: ToolchainRecord, env: dict[str, str] | None = None,
                 fallbacks: tuple[str, ...] = FALLBACK_RUSTC) -> bool:
    """Whether the rule would choose the recorded toolchain again: stat calls only."""
    env = os.environ if env is None else env
    return (_files_signature(record.toolchain) == record.files
            and _rule_signature(env, fallbacks, record.found_as, record.sysroots, record.rustup) == record.rule)


def save_record(path: Path, record: ToolchainRecord) -> None:
    from uktoolchain import atomic

    atomic.write_text_if_changed(path, record.to_json())


def select_recorded(path: Path, env: dict[str, str] | None = None, fallbacks: tuple[str, ...] = FALLBACK_RUSTC,
                    registry: str = DEBIAN_REGISTRY) -> RustToolchain:
    """``select()``, answered from the record at ``path`` when it still holds (by stat); otherwise
    the rule is applied and its choice recorded there. Raises as ``select``."""
    try:
        record = ToolchainRecord.from_json(path.read_text())
    except OSError:
        record = None
    if record is not None and still_chosen(record, env, fallbacks):
        return record.toolchain
    fresh = record_choice(env, fallbacks, registry)
    try:
        save_record(path, fresh)
    except OSError:  # a read-only home still gets its answer
        pass
    return fresh.toolchain
