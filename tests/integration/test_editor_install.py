"""The editor extra through the real CLI and the real Conan engine, on synthetic recipes: an
optional part whose sources cannot be fetched fails the install before anything is built (one
line, exit 4), and the toolchain installed before stays as it was."""
from __future__ import annotations

import json

import pytest

import synthetic


@pytest.fixture
def extra_index(tmp_path, server, monkeypatch):
    """alpha (target solo) and an extra `ed` = gamma (requires alpha) whose only URL is dead."""
    root = synthetic.write_index(tmp_path / "index", server,
                                 urls={"gamma": [synthetic.dead_url("gamma-1.0.tar.gz")]})
    catalogue = root / "recipes" / "targets.toml"
    catalogue.write_text(catalogue.read_text() + '\n[extras.ed]\ndescription = "an editor"\ncomponents = ["gamma"]\n')
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))
    return root


def test_unreachable_extra_source_fails_first_and_keeps_the_installed_toolchain(uk, extra_index, isolated_home):
    uk("install", "solo", "--plain", check=True)
    stamps = isolated_home / "state" / "installed"
    before = {str(p): p.read_bytes() for p in stamps.glob("*/*.json")}
    assert before

    result = uk("install", "solo", "--with", "ed", "--plain")
    assert result.returncode == 4, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("uktoolchain: error:")]
    assert len(errors) == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "--with ed:" in errors[0] and "gamma" in errors[0] and "127.0.0.1:9" in errors[0]
    assert "nothing was built" in errors[0] and "--source gamma=PATH" in errors[0]
    assert "building" not in result.stderr

    after = {str(p): p.read_bytes() for p in stamps.glob("*/*.json")}
    assert after == before  # solo is still installed, without the extra
    assert json.loads(uk("env", "solo", "--json", check=True).stdout)["ALPHA_HOME"]
    assert uk("install", "solo", "--plain", check=True).stderr.startswith("up to date")


def test_unreachable_extra_source_builds_nothing_on_a_fresh_home(uk, extra_index, isolated_home):
    result = uk("install", "tiny", "--with", "ed", "--plain")
    assert result.returncode == 4, result.stderr
    assert "gamma" in result.stderr and "alpha: done" not in result.stderr and "building" not in result.stderr
    assert not list((isolated_home / "state" / "installed").glob("*/*.json"))


def test_editor_extra_is_for_any_target_rust_only_for_unikernels(uk, extra_index):
    # `ed` has no per-architecture component: a host target may have it (this one is unreachable).
    assert uk("install", "solo", "--with", "ed", "--plain").returncode == 4
    assert uk("install", "solo", "--with", "nope").returncode == 2


def test_workspace_merlin_on_the_cli(uk, tmp_path):
    out = tmp_path / "dune-workspace"
    result = uk("workspace", "spt", "hvt", "--merlin", "hvt", "-o", str(out))
    assert result.returncode == 0 and "editors (merlin) see hvt" in result.stderr, result.stderr
    assert "(name hvt)\n  (toolchain solo5)\n  (host default)\n  (merlin)" in out.read_text()
    bad = uk("workspace", "spt", "--merlin", "virtio", "-o", str(tmp_path / "other"))
    assert bad.returncode == 3 and len(bad.stderr.strip().splitlines()) == 1
    assert "--merlin virtio is not one of the unikernel contexts written (spt)" in bad.stderr
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize("extra,lacking", [("editor", "merlin 5.7.1-504"), ("lsp", "ocaml-lsp-server 1.26.0")])
def test_real_recipes_name_the_sets_merlin_when_it_cannot_be_fetched(uk, tmp_path, monkeypatch, extra, lacking):
    """The 5.4 set's merlin and ocaml-lsp-server have no reachable source here (their release
    archives only): --with editor / --with lsp says so before anything is built. Their URLs point at
    a closed local port, so the answer is the same on a machine that reaches the upstream hosts."""
    import shutil

    import yaml

    index = tmp_path / "index"
    shutil.copytree(synthetic.REPO / "recipes", index / "recipes", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(synthetic.REPO / "patches", index / "patches")
    for component in ("cppo", "csexp", "yojson", "menhir", "merlin", "ocaml-lsp-server"):
        data_file = index / "recipes" / component / "conandata.yml"
        data = yaml.safe_load(data_file.read_text())
        for version, entry in data["sources"].items():
            for name, part in (entry["files"].items() if "files" in entry else [(component, entry)]):
                part["url"] = [synthetic.dead_url(f"{name}-{version}.tar.gz")]
        data_file.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(index))

    result = uk("install", "unix", "--with", extra, "--ocaml", "5.4", "--plain")
    assert result.returncode == 4, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"--with {extra}: no source reachable for" in result.stderr and lacking in result.stderr
    assert "nothing was built" in result.stderr and "building" not in result.stderr
