"""The rust extra in the catalogue, and cargo's settings rendered from an installed rust-sysroot."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

import rustfakes
from uktoolchain.engine.model import InstalledPackage
from uktoolchain.errors import RustSysrootMismatchError, UsageError
from uktoolchain.exporters import cargo
from uktoolchain.home import Home
from uktoolchain.resources import RecipeIndex
from uktoolchain.targets import Catalogue


@pytest.fixture
def catalogue():
    return Catalogue.load(RecipeIndex.discover().catalogue_file)


def test_with_rust_adds_the_per_arch_sysroot(catalogue):
    spt = catalogue.targets["spt"]
    with_rust = catalogue.with_extras(spt, ["rust"])
    assert with_rust.components == spt.components + ("rust-sysroot",) and with_rust.extras == ("rust",)
    assert "rust-sysroot[x86_64]" in catalogue.labels_of(with_rust)
    assert "rust-sysroot[aarch64]" in catalogue.labels_of(catalogue.with_extras(catalogue.targets["aarch64-spt"], ["rust"]))
    assert catalogue.with_extras(spt, []) == spt


def test_extras_refuse_host_targets_and_unknown_names(catalogue):
    with pytest.raises(UsageError, match="not one") as caught:
        catalogue.with_extras(catalogue.targets["unix"], ["rust"])
    assert caught.value.exit_code == 2
    with pytest.raises(UsageError, match="unknown extra rsut"):
        catalogue.with_extras(catalogue.targets["spt"], ["rsut"])


def _sysroot_package(conan_home: Path, release: str, name: str = "x86_64-unikernel-elf") -> InstalledPackage:
    folder = f"p/rust{release}/p"
    return InstalledPackage(
        label="rust-sysroot[x86_64]", name="rust-sysroot", ref="rust-sysroot/1.0#r", package_id="id", folder=folder,
        facts=(("rust_target", name), ("rust_sysroot", "{conan_home}/" + folder),
               ("rust_target_spec", "{conan_home}/" + folder + f"/share/rust-targets/{name}.json"),
               ("rust_rustc_version", rustfakes.version_text(release))),
    )


def test_environment_and_config_point_cargo_at_the_sysroot(tmp_path, monkeypatch):
    rustc = rustfakes.toolchain(tmp_path / "tc", "1.63.0", in_tree_builtins=True)
    monkeypatch.setenv("UKTOOLCHAIN_RUSTC", str(rustc))
    home = Home(tmp_path / "home")
    values = cargo.cargo_environment(home, "spt", [_sysroot_package(home.conan, "1.63.0")], "/pkg/bin:${PATH}")
    sysroot = home.conan / "p/rust1.63.0/p"
    spec = sysroot / "share/rust-targets/x86_64-unikernel-elf.json"
    assert values["CARGO_BUILD_TARGET"] == str(spec)
    assert values["CARGO_TARGET_X86_64_UNIKERNEL_ELF_RUSTFLAGS"] == f"--sysroot={sysroot}"
    assert values["RUSTC"] == str(rustc) and values["CARGO"] == str(rustc.parent / "cargo")
    bindir = home.rendered / "spt" / "rust" / "bin"
    assert values["PATH"] == f"{bindir}:/pkg/bin:${{PATH}}"
    assert os.readlink(bindir / "cargo") == str(rustc.parent / "cargo")
    config = tomllib.loads(Path(values["UKTOOLCHAIN_CARGO_CONFIG"]).read_text())
    assert config["build"] == {"target": str(spec), "rustc": str(rustc)}
    assert config["target"]["x86_64-unikernel-elf"]["rustflags"] == ["--sysroot", str(sysroot)]


def test_two_rust_targets_in_one_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("UKTOOLCHAIN_RUSTC", str(rustfakes.toolchain(tmp_path / "tc", "1.63.0", in_tree_builtins=True)))
    home = Home(tmp_path / "home")
    packages = [_sysroot_package(home.conan, "1.63.0"), _sysroot_package(home.conan, "1.63.0", "aarch64-unikernel-elf")]
    values = cargo.cargo_environment(home, "spt+aarch64-spt", packages, None)
    assert "CARGO_BUILD_TARGET" not in values  # one cargo target only; the config lists both
    assert {"CARGO_TARGET_X86_64_UNIKERNEL_ELF_RUSTFLAGS", "CARGO_TARGET_AARCH64_UNIKERNEL_ELF_RUSTFLAGS"} <= set(values)
    config = tomllib.loads(Path(values["UKTOOLCHAIN_CARGO_CONFIG"]).read_text())
    assert [Path(t).stem for t in config["build"]["target"]] == ["x86_64-unikernel-elf", "aarch64-unikernel-elf"]


def test_sysroot_of_another_compiler_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("UKTOOLCHAIN_RUSTC", str(rustfakes.toolchain(tmp_path / "tc", "1.64.0", in_tree_builtins=True)))
    home = Home(tmp_path / "home")
    with pytest.raises(RustSysrootMismatchError) as caught:
        cargo.cargo_environment(home, "spt", [_sysroot_package(home.conan, "1.63.0")], None)
    assert caught.value.exit_code == 6
    assert "rustc 1.63.0" in str(caught.value) and "uktoolchain install spt" in str(caught.value)


def test_targets_without_rust_get_nothing(tmp_path):
    assert cargo.cargo_environment(Home(tmp_path), "spt", [], "${PATH}") == {}


def test_a_home_with_spaces_keeps_the_sysroot_whole(tmp_path, monkeypatch, catalogue):
    # cargo splits CARGO_TARGET_<NAME>_RUSTFLAGS at whitespace: those are left out, and the sysroot
    # goes where its path stays one argument.
    monkeypatch.setenv("UKTOOLCHAIN_RUSTC", str(rustfakes.toolchain(tmp_path / "tc", "1.63.0", in_tree_builtins=True)))
    home = Home(tmp_path / "rel ü home" / "uk")
    sysroot = home.conan / "p/rust1.63.0/p"
    one = cargo.cargo_environment(home, "spt", [_sysroot_package(home.conan, "1.63.0")], None,
                                  [catalogue.targets["spt"]])
    assert not [name for name in one if name.startswith("CARGO_TARGET_")]
    assert one["CARGO_ENCODED_RUSTFLAGS"].split("\x1f") == ["--sysroot", str(sysroot)]

    packages = [_sysroot_package(home.conan, "1.63.0"), _sysroot_package(home.conan, "1.63.0", "aarch64-unikernel-elf")]
    two = cargo.cargo_environment(home, "spt+aarch64-spt", packages, None,
                                  [catalogue.targets["spt"], catalogue.targets["aarch64-spt"]])
    assert not [name for name in two if name.startswith("CARGO_TARGET_") or name == "CARGO_ENCODED_RUSTFLAGS"]
    for target, rust_target in (("spt", "x86_64-unikernel-elf"), ("aarch64-spt", "aarch64-unikernel-elf")):
        config = tomllib.loads((Path(two["UKTOOLCHAIN_CARGO_DIR"]) / f"{target}.toml").read_text())
        assert config["target"][rust_target]["rustflags"] == ["--sysroot", str(sysroot)]


def test_environment_runs_no_compiler_while_the_recorded_choice_holds(tmp_path, monkeypatch):
    from uktoolchain import rust_toolchain
    from uktoolchain.engine import stamps

    rustc = rustfakes.toolchain(tmp_path / "tc", "1.63.0", in_tree_builtins=True)
    monkeypatch.setenv("UKTOOLCHAIN_RUSTC", str(rustc))
    home = Home(tmp_path / "home")
    rust_toolchain.save_record(stamps.rust_record_file(home), rust_toolchain.record_choice())  # as install does
    real_run, ran = rust_toolchain._run, []
    monkeypatch.setattr(rust_toolchain, "_run", lambda argv: ran.append(argv) or real_run(argv))
    sysroot = [_sysroot_package(home.conan, "1.63.0")]
    assert cargo.cargo_environment(home, "spt", sysroot, None)["RUSTC"] == str(rustc)
    assert ran == []
    # Another compiler chosen now: the rule is applied again, and the sysroot refused.
    monkeypatch.setenv("UKTOOLCHAIN_RUSTC", str(rustfakes.toolchain(tmp_path / "new", "1.64.0", in_tree_builtins=True)))
    with pytest.raises(RustSysrootMismatchError):
        cargo.cargo_environment(home, "spt", sysroot, None)
    assert ran
