"""A component built from another component's source archive (conandata ``sources_from``, as
nolibc-openlibm is built from ocaml-solo5's): the pin is written once, in the owner's conandata,
and reaches the other recipe at export, pinned or as a local source."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import synthetic


@pytest.fixture
def shared_index(tmp_path, server, monkeypatch):
    root = synthetic.write_shared_source_index(tmp_path / "index", server)
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))
    return root


def greetings(uk) -> dict[str, str]:
    values = json.loads(uk("env", "shared", "--json", check=True).stdout)
    return {name: (Path(values[f"{name.upper()}_HOME"]) / "share" / "greeting").read_text().strip()
            for name in ("alpha", "alphalib")}


def test_a_recipe_is_built_from_the_pinned_source_of_the_recipe_it_names(uk, shared_index, tmp_path):
    result = uk("install", "shared", "--plain")
    assert result.returncode == 0, result.stderr
    assert greetings(uk) == {"alpha": "hello from alpha", "alphalib": "hello from alpha"}
    # A lock file pins the same archive for both.
    uk("lock", "shared", "-o", str(tmp_path / "uktoolchain.lock"), check=True)
    components = json.loads((tmp_path / "uktoolchain.lock").read_text())["components"]
    assert components["alphalib"]["source"] == components["alpha"]["source"]
    assert components["alpha"]["source"].startswith("sha256 ")


def test_a_local_source_of_the_owner_reaches_the_recipe_built_from_it(uk, shared_index, tmp_path):
    local = tmp_path / "alpha-local.tar.gz"
    local.write_bytes(synthetic.make_tarball("alpha", "hello from a local alpha"))
    result = uk("install", "shared", "--plain", "--source", f"alpha={local}")
    assert result.returncode == 0, result.stderr
    assert greetings(uk) == {"alpha": "hello from a local alpha", "alphalib": "hello from a local alpha"}
    # Installed from it, the local source is used again by a plain install: nothing to build.
    again = uk("install", "shared", "--plain")
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout + again.stderr
    assert greetings(uk)["alphalib"] == "hello from a local alpha"


def test_a_local_source_for_the_recipe_itself_is_refused_naming_the_owner(uk, shared_index, tmp_path):
    local = tmp_path / "alpha-local.tar.gz"
    local.write_bytes(synthetic.make_tarball("alpha", "hello"))
    result = uk("install", "shared", "--plain", "--source", f"alphalib={local}")
    assert result.returncode == 3, result.stderr
    assert "alphalib is built from alpha's source" in result.stderr
    assert "--source alpha=PATH" in result.stderr
