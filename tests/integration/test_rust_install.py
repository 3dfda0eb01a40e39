"""The rust extra through the real CLI and the real Conan engine, without building a sysroot:
bad input, and the Rust toolchain's identity in the sysroot's package id."""
from __future__ import annotations

import pytest

import rustfakes
import synthetic
from uktoolchain.engine import conan_home
from uktoolchain.home import Home
from uktoolchain.resources import RecipeIndex
from uktoolchain.targets import Catalogue


@pytest.fixture
def rust_index(tmp_path, server, monkeypatch):
    root = rustfakes.write_rust_index(tmp_path / "index", server)
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))
    return root


def test_bad_rust_input_fails_before_any_build(uk, rust_index, tmp_path):
    lacking = rustfakes.toolchain(tmp_path / "rustup", "1.95.0", rust_src=False, rustup=True)
    result = uk("install", "ux", "--with", "rust", "--plain", env={"UKTOOLCHAIN_RUSTC": str(lacking)})
    assert result.returncode == 4, result.stderr
    assert "rust-src missing" in result.stderr and "rustup component add rust-src" in result.stderr
    assert "building" not in result.stderr

    result = uk("install", "ux", "--with", "rust", env={"UKTOOLCHAIN_RUSTC": str(tmp_path / "no-rustc")})
    assert result.returncode == 3 and "UKTOOLCHAIN_RUSTC" in result.stderr

    result = uk("install", "ux", "--with", "rsut")
    assert result.returncode == 2 and "unknown extra rsut" in result.stderr


def test_target_without_rust_says_how_to_get_it(uk, rust_index):
    uk("install", "ux", "--plain", check=True)
    result = uk("cargo", "ux", "--", "build")
    assert result.returncode == 6
    assert "installed without Rust" in result.stderr and "uktoolchain install ux --with rust" in result.stderr
    assert uk("cargo-config", "ux").returncode == 6
    assert "CARGO_BUILD_TARGET" not in uk("env", "ux", check=True).stdout


def _sysroot_ids(home: Home, conf_sets: dict[str, list[str]], arch: str = "x86_64") -> dict[str, str]:
    from uktoolchain.engine.conan_adapter import ConanEngine

    index = RecipeIndex(synthetic.REPO)
    conan_home.prepare(home.conan, Catalogue.load(index.catalogue_file))
    engine = ConanEngine(home.conan, home.logs / "engine.log")
    engine.export(index.recipe_dir("ukbase"))
    ref = engine.export(index.recipe_dir("rust-sysroot"), "1.0")
    ids = {}
    for name, conf in conf_sets.items():
        plan = engine.plan([ref], conf, [f"rust-sysroot/*:target_arch={arch}"], home.state / f"{name}.lock")
        ids[name] = plan.packages[f"rust-sysroot[{arch}]"].package_id
    return ids


def test_package_id_carries_the_rust_toolchain(tmp_path):
    """Another rustc, another binary: rlibs only work with the compiler that built them."""
    def conf(release: str) -> list[str]:
        rustc = rustfakes.toolchain(tmp_path / release, release, in_tree_builtins=True)
        builtins = rustc.parent.parent / "lib/rustlib/src/rust/library/compiler-builtins/compiler-builtins"
        return [f"user.uktoolchain:rustc={rustc}", f"user.uktoolchain:cargo={rustc.parent / 'cargo'}",
                f"user.uktoolchain:rust_compiler_builtins={builtins}"]

    home = Home(tmp_path / "home")
    ids = _sysroot_ids(home, {"a": conf("1.63.0"), "again": conf("1.63.0"), "b": conf("1.64.0")})
    assert ids["a"] == ids["again"] != ids["b"]
    assert _sysroot_ids(home, {"arm": conf("1.63.0")}, arch="aarch64")["arm"] != ids["a"]
