"""Cargo's settings for targets installed with Rust, rendered with this machine's paths at use time.

The rust-sysroot package publishes its Rust target (a spec JSON in the package, or a built-in
name), its folder (a valid ``--sysroot``) and the ``rustc -vV`` that built it. The Rust toolchain
is chosen now (uktoolchain.rust_toolchain) and must be that same compiler: rustc refuses rlibs
built by another one, and says so less clearly than we can.

Two forms, same content: environment variables for ``uktoolchain env`` (cargo reads
CARGO_BUILD_TARGET and CARGO_TARGET_<NAME>_RUSTFLAGS; PATH gets a directory where ``cargo`` and
``rustc`` are the chosen toolchain's) and a config file ``rendered/<target>/cargo-config.toml``
for ``cargo --config FILE`` or a project's ``.cargo/config.toml``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from uktoolchain import atomic
from uktoolchain.engine.model import InstalledPackage
from uktoolchain.engine.stamps import rust_record_file
from uktoolchain.errors import RustSysrootMismatchError
from uktoolchain.home import Home
from uktoolchain.targets import Target

if TYPE_CHECKING:
    from uktoolchain.rust_toolchain import RustToolchain


class RustTarget(NamedTuple):
    name: str  # what rustc and cargo's [target.NAME] call it: the spec's file stem or a built-in name
    spec: Path | None  # the target spec JSON; None for a built-in target (a precompiled rust-std)
    sysroot: Path
    rustc_version: str  # `rustc -vV` of the compiler that built the sysroot

    @property
    def cargo_target(self) -> str:
        """What `cargo --target` takes."""
        return str(self.spec) if self.spec else self.name

    @property
    def env_name(self) -> str:
        """NAME in CARGO_TARGET_<NAME>_RUSTFLAGS."""
        return self.name.upper().replace("-", "_").replace(".", "_")


def rust_targets(packages: list[InstalledPackage], conan_home: Path) -> list[RustTarget]:
    found = []
    for package in packages:
        facts = {k: v.replace("{conan_home}", str(conan_home)) for k, v in package.facts}
        if "rust_target" in facts:
            found.append(RustTarget(facts["rust_target"], Path(facts["rust_target_spec"]) if facts.get("rust_target_spec") else None,
                                    Path(facts["rust_sysroot"]), facts.get("rust_rustc_version", "")))
    return found


def matching_toolchain(target: str, rust: list[RustTarget], record: Path | None = None) -> RustToolchain:
    """The Rust toolchain chosen now, which must be the one that built every sysroot. With
    ``record``, the choice recorded at install, while a stat says it still holds."""
    from uktoolchain.rust_toolchain import select, select_recorded  # targets with a Rust sysroot only

    toolchain = select() if record is None else select_recorded(record)
    for item in rust:
        if item.rustc_version != toolchain.version:
            built_by = next((line for line in item.rustc_version.splitlines() if line.startswith("rustc ")), "another rustc")
            raise RustSysrootMismatchError(
                f"the Rust sysroot for {item.name} was built by {built_by}, but the Rust toolchain chosen now is "
                f"{toolchain.rustc} ({toolchain.release})",
                f"rebuild it with: uktoolchain install {target.replace('+', ' ')}; or choose that compiler with "
                "UKTOOLCHAIN_RUSTC",
            )
    return toolchain


def cargo_environment(home: Home, target: str, packages: list[InstalledPackage], path: str | None,
                      unikernels: list[Target] = ()) -> dict[str, str]:
    """Variables to add to ``target``'s environment; empty when it has no Rust sysroot. ``path`` is
    the environment's PATH template so far; each of ``unikernels`` gets its own config file."""
    rust = rust_targets(packages, home.conan)
    if not rust:
        return {}
    toolchain = matching_toolchain(target, rust, rust_record_file(home))
    bindir = render_bindir(home, target, toolchain)
    values = {
        "PATH": f"{bindir}:{path or '${PATH}'}",
        "RUSTC": str(toolchain.rustc),
        "CARGO": str(toolchain.cargo),
        "UKTOOLCHAIN_CARGO_CONFIG": str(render_config(home, target, rust, toolchain)),
    }
    # cargo splits CARGO_TARGET_<NAME>_RUSTFLAGS on whitespace: a sysroot whose path has a space
    # (a home under "Application Support") goes in CARGO_ENCODED_RUSTFLAGS instead, whose
    # arguments are separated by 0x1f, for a single target; with several, only in the config files.
    spaced = any(_has_space(str(item.sysroot)) for item in rust)
    for item in rust if not spaced else ():
        values[f"CARGO_TARGET_{item.env_name}_RUSTFLAGS"] = f"--sysroot={item.sysroot}"
    if len({item.name for item in rust}) == 1:
        values["CARGO_BUILD_TARGET"] = rust[0].cargo_target
        if spaced:  # with a target set, cargo gives these to the target's crates only
            values["CARGO_ENCODED_RUSTFLAGS"] = f"--sysroot\x1f{rust[0].sysroot}"
    # One config file per unikernel target ($UKTOOLCHAIN_CARGO_DIR/<target>.toml), for use within
    # this environment: dune rules of
    # several contexts pick theirs with `cargo --config` and the context's UKTOOLCHAIN_TARGET. (A
    # custom target must be named by its spec's path: rustc tags rlibs built for a spec file with
    # a hash of it, so a lookup by name through RUST_TARGET_PATH would not match the sysroot.)
    directory = home.rendered / "cargo"
    for unikernel in unikernels:
        mine = [item for item in rust if item.name.startswith(f"{unikernel.arch}-")]
        if mine:
            # No rustflags when the environment's CARGO_TARGET_<NAME>_RUSTFLAGS has the --sysroot:
            # cargo would add a second one from here. (CARGO_ENCODED_RUSTFLAGS replaces them.)
            atomic.write_text_if_changed(directory / f"{unikernel.name}.toml",
                                         config_text(unikernel.name, mine[:1], toolchain, rustflags=spaced))
            values["UKTOOLCHAIN_CARGO_DIR"] = str(directory)
    return values


def render_bindir(home: Home, target: str, toolchain: RustToolchain) -> Path:
    """rendered/<target>/rust/bin with ``cargo`` and ``rustc`` linking to the chosen toolchain."""
    bindir = home.rendered / target / "rust" / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for name, real in (("cargo", toolchain.cargo), ("rustc", toolchain.rustc)):
        link = bindir / name
        if link.is_symlink() and os.readlink(link) == str(real):
            continue
        fresh = bindir / f".{name}.{os.getpid()}"
        fresh.unlink(missing_ok=True)
        fresh.symlink_to(real)
        os.replace(fresh, link)
    return bindir


def config_text(target: str, rust: list[RustTarget], toolchain: RustToolchain, rustflags: bool = True) -> str:
    targets = [item.cargo_target for item in rust]
    lines = [
        f"# Rendered by uktoolchain for {target} with this machine's paths; rewritten on every use.",
        "# Use it with `cargo --config THIS_FILE build`, or copy it into a project's .cargo/config.toml.",
        f"# Run this cargo: {toolchain.cargo} (the sysroots were built by its rustc).",
        "[build]",
        f"target = {_toml(targets[0]) if len(targets) == 1 else '[' + ', '.join(map(_toml, targets)) + ']'}",
        f"rustc = {_toml(str(toolchain.rustc))}",
    ]
    for item in rust if rustflags else ():
        lines += ["", f"[target.{item.name}]", f"rustflags = [\"--sysroot\", {_toml(str(item.sysroot))}]"]
    return "\n".join(lines) + "\n"


def render_config(home: Home, target: str, rust: list[RustTarget], toolchain: RustToolchain) -> Path:
    path = home.rendered / target / "cargo-config.toml"
    atomic.write_text_if_changed(path, config_text(target, rust, toolchain))
    return path


def _has_space(path: str) -> bool:
    return any(character.isspace() for character in path)


def _toml(value: str) -> str:
    return json.dumps(value)  # a TOML basic string: JSON's escapes are valid TOML ones
