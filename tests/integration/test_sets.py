"""Toolchain sets on a synthetic index with two sets ("2": alpha 2.0, the default; "1": alpha 1.0),
the real Conan engine and a real HTTP server: coexistence, choice of set, project pins, removal."""
from __future__ import annotations

import json

import pytest

import synthetic
from conftest import shell_with_env


@pytest.fixture
def two_sets(tmp_path, server, monkeypatch):
    root = synthetic.write_two_set_index(tmp_path / "index", server)
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))
    return root


def greeting(uk, *args, cwd=None) -> str:
    script = uk("env", *args, check=True).stdout
    return shell_with_env(script, "alpha").stdout.strip()


def test_sets_coexist_and_share_what_they_have_in_common(uk, two_sets, isolated_home):
    first = uk("install", "tiny", "--plain", check=True)
    assert "with OCaml set 2 (the default)" in first.stderr
    second = uk("install", "tiny", "--ocaml", "1", "--plain", check=True)
    assert "with OCaml set 1 (--ocaml)" in second.stderr
    # beta and gamma are built against another alpha, so they are other binaries: nothing is shared
    # by accident, and each set's alpha is its own.
    assert "built alpha, beta, gamma" in second.stderr.replace("gamma, beta", "beta, gamma")
    assert greeting(uk, "tiny") == "hello from alpha 2"
    assert greeting(uk, "tiny", "--ocaml", "1") == "hello from alpha"
    records = sorted(p.relative_to(isolated_home).as_posix() for p in (isolated_home / "state").rglob("tiny.json"))
    assert records == ["state/installed/1/tiny.json", "state/installed/2/tiny.json"]
    # Installing one set again touches neither set.
    assert "up to date: tiny (OCaml set 1 (--ocaml))" in uk("install", "tiny", "--ocaml", "1", check=True).stderr
    assert "up to date: tiny (OCaml set 2 (the default))" in uk("install", "tiny", check=True).stderr


def test_a_component_both_sets_use_at_the_same_version_is_built_once(uk, two_sets, isolated_home):
    catalogue = two_sets / "recipes" / "targets.toml"
    # gamma alone, without alpha: both sets name gamma 1.0 and nothing it depends on differs.
    catalogue.write_text(catalogue.read_text() + '\n[targets.g]\ndescription = "gamma"\ncomponents = ["gamma"]\n')
    data = two_sets / "recipes" / "gamma" / "conandata.yml"
    data.write_text(data.read_text().split("requires:")[0])
    (two_sets / "recipes" / "gamma" / "conanfile.py").write_text(
        (two_sets / "recipes" / "gamma" / "conanfile.py").read_text().replace("uk_requires = ['alpha']", "uk_requires = []"))
    uk("install", "g", "--plain", check=True)
    other = uk("install", "g", "--ocaml", "1", "--plain", check=True)
    assert "gamma: cached" in other.stderr and "nothing to build" in other.stderr


def test_unknown_set_is_a_usage_error_naming_the_sets(uk, two_sets):
    result = uk("install", "tiny", "--ocaml", "9")
    assert result.returncode == 2
    assert "unknown toolchain set '9'; sets: 2 (default), 1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_target_installed_for_one_set_only(uk, two_sets):
    uk("install", "solo", "--ocaml", "1", "--plain", check=True)
    # Asked for explicitly in another set: not installed there, say where it is and how to install.
    refused = uk("env", "solo", "--ocaml", "2")
    assert refused.returncode == 6
    assert "target solo is not installed for OCaml set 2 (it is installed for 1)" in refused.stderr
    assert "run: uktoolchain install solo" in refused.stderr
    # Without a choice, env takes the set it is installed for, and says why.
    chosen = uk("env", "solo", check=True)
    assert "using OCaml set 1 (solo is installed for it, not for the default 2)" in chosen.stderr
    assert shell_with_env(chosen.stdout, "alpha").stdout.strip() == "hello from alpha"
    listing = uk("list", check=True).stdout
    row = next(line for line in listing.splitlines() if line.startswith("solo "))
    assert row.split()[1:4] == ["not", "installed", "installed"], listing
    # Descriptions line up, whatever the width of the last set's status.
    rows = [line for line in listing.splitlines()[1:] if line.strip() and not line[0].isspace()]
    rows = rows[:rows.index(next(line for line in rows if line.startswith("toolchain sets")))]
    starts = {line.index(description) for line, description in
              ((line, line.rsplit("  ", 1)[-1].strip()) for line in rows)}
    assert len(starts) == 1, listing
    assert "2 (default): alpha 2.0, beta 1.0, gamma 1.0" in listing.replace("beta 1.0, gamma 1.0, alpha 2.0",
                                                                              "alpha 2.0, beta 1.0, gamma 1.0")
    as_json = json.loads(uk("list", "--json", check=True).stdout)
    assert as_json["targets"]["solo"]["status"] == {"2": "not installed", "1": "installed"}
    assert as_json["default_set"] == "2"


def test_environment_variable_chooses_the_set_and_the_flag_wins(uk, two_sets):
    uk("install", "solo", "--ocaml", "1", "--plain", check=True)
    uk("install", "solo", "--plain", check=True)
    assert greeting(uk, "solo") == "hello from alpha 2"
    env = {"UKTOOLCHAIN_OCAML": "1"}
    assert shell_with_env(uk("env", "solo", env=env, check=True).stdout, "alpha").stdout.strip() == "hello from alpha"
    flagged = uk("env", "solo", "--ocaml", "2", env=env, check=True).stdout
    assert shell_with_env(flagged, "alpha").stdout.strip() == "hello from alpha 2"


def test_project_pin_names_set_and_targets(uk, two_sets, tmp_path, isolated_home):
    project = tmp_path / "project"
    (project / "src" / "deep").mkdir(parents=True)
    (project / "uktoolchain.toml").write_text('ocaml = "1"\ntargets = ["solo"]\n')
    inside = project / "src" / "deep"
    installed = uk.at(inside)("install", "--plain", check=True)
    assert f"with OCaml set 1 (pinned by {project / 'uktoolchain.toml'})" in installed.stderr
    assert (isolated_home / "state" / "installed" / "1" / "solo.json").is_file()
    assert not (isolated_home / "state" / "installed" / "2").exists()
    script = uk.at(inside)("env", check=True).stdout  # no target: the pin's
    assert shell_with_env(script, "alpha").stdout.strip() == "hello from alpha"
    # An explicit flag wins over the pin.
    refused = uk.at(inside)("env", "--ocaml", "2")
    assert refused.returncode == 6 and "not installed for OCaml set 2" in refused.stderr


@pytest.mark.parametrize("content, expected", [
    ('ocaml = "9"\n', 'uktoolchain.toml:1: unknown toolchain set \'9\' (sets: 2, 1)'),
    ('# the toolchain\ntargets = ["solo", "nope"]\n', "uktoolchain.toml:2: unknown target nope"),
    ('ocaml = "1"\ntargets = [\n', "uktoolchain.toml:2: not valid TOML"),
    ('ocaml = 1\n', "uktoolchain.toml:1: ocaml must be a string"),
    ('ocaml = "1"\ncolour = "blue"\n', "uktoolchain.toml:2: unknown key 'colour'"),
])
def test_bad_pin_file_is_one_line_naming_file_and_line(uk, two_sets, tmp_path, content, expected):
    (tmp_path / "uktoolchain.toml").write_text(content)
    result = uk.at(tmp_path)("install")
    assert result.returncode == 3, result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_install_without_targets_or_pin_says_what_to_give(uk, two_sets, tmp_path):
    result = uk.at(tmp_path)("install")
    assert result.returncode == 2
    assert "install: no target given and no uktoolchain.toml here or above" in result.stderr


def test_removing_one_set_leaves_the_other(uk, two_sets, isolated_home):
    uk("install", "tiny", "--plain", check=True)
    uk("install", "tiny", "--ocaml", "1", "--plain", check=True)
    removed = uk("remove", "--ocaml", "1", check=True)
    assert "removed tiny (OCaml set 1)" in removed.stderr
    assert "3 package(s) removed" in removed.stdout  # alpha 1.0 and the beta/gamma built with it
    assert greeting(uk, "tiny") == "hello from alpha 2"
    assert "up to date: tiny" in uk("install", "tiny", check=True).stderr
    assert uk("env", "tiny", "--ocaml", "1").returncode == 6


def test_gc_of_one_set_leaves_the_other(uk, two_sets, isolated_home):
    uk("install", "tiny", "--plain", check=True)
    uk("install", "tiny", "--ocaml", "1", "--plain", check=True)
    # Set 1's record gone without collecting (deleted by hand): its three packages are garbage.
    (isolated_home / "state" / "installed" / "1" / "tiny.json").unlink()
    # gc --ocaml takes only builds of versions no other set names: alpha 1.0 for set 1, none for 2.
    assert "0 package(s) of OCaml set 2 removed" in uk("gc", "--ocaml", "2", check=True).stdout
    own = uk("gc", "--ocaml", "1", check=True).stdout
    assert "1 package(s) of OCaml set 1 removed" in own and "removed alpha/1.0#" in own
    assert "2 package(s) removed" in uk("gc", check=True).stdout  # beta, gamma built with alpha 1.0
    assert greeting(uk, "tiny") == "hello from alpha 2"
    assert "up to date: tiny" in uk("install", "tiny", check=True).stderr


def test_a_set_whose_versions_do_not_fit_the_recipes_is_refused_before_building(uk, two_sets, isolated_home):
    data = two_sets / "recipes" / "beta" / "conandata.yml"
    data.write_text(data.read_text().replace('alpha: "[>=1.0 <3]"', 'alpha: "[>=1.0 <2]"'))
    result = uk("install", "tiny", "--plain")
    assert result.returncode == 3, result.stderr
    assert "toolchain set 2 pairs beta 1.0 with alpha 2.0, but beta 1.0 needs alpha [>=1.0 <2]" in result.stderr
    assert not (isolated_home / "logs" / "2" / "alpha.log").exists()  # nothing was built
