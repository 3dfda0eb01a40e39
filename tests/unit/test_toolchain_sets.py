"""Toolchain sets in the real catalogue: every set's versions are pinned by the recipes, fit the
recipes' version ranges, and no recipe writes a dependency's version; and the set model itself."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from conan.internal.model.version import Version
from conan.internal.model.version_range import VersionRange

import synthetic
from uktoolchain.errors import ConfigError, UnknownSetError
from uktoolchain.targets import Catalogue

RECIPES = synthetic.REPO / "recipes"
REAL = Catalogue.load(RECIPES / "targets.toml")


def conandata(component: str) -> dict:
    path = RECIPES / component / "conandata.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def pinned_sources(component: str) -> dict | None:
    """The sources a recipe is built from: its own, or those of the recipe it names in
    ``sources_from`` (its export() copies them); None for recipes without sources."""
    data = conandata(component)
    owner = data.get("sources_from")
    return conandata(owner).get("sources") if owner else data.get("sources")


SAME_VERSION_AS = tomllib.loads((RECIPES / "targets.toml").read_text()).get("same_version_as", {})


def used_components(catalogue: Catalogue) -> set[str]:
    used = {c for t in catalogue.targets.values() for c in t.components + t.host_components}
    return used | {c for components in catalogue.extras.values() for c in components}


def test_the_default_set_is_the_newest_and_both_sets_are_shipped():
    assert list(REAL.sets)[:2] == ["5.4", "5.3"]
    assert REAL.default_set == "5.4" and REAL.toolset == "5.4"
    assert REAL.sets["5.4"].versions["ocaml"] == "5.4.1"
    assert REAL.sets["5.3"].versions["ocaml"] == "5.3.0"
    # mirage 4.11 caps solo5 < 0.13: every set keeps 0.12.x.
    assert all(s.versions["solo5"].startswith("0.12.") for s in REAL.sets.values())


@pytest.mark.parametrize("toolset", list(REAL.sets))
def test_every_component_of_a_set_is_pinned_by_its_recipe(toolset):
    versions = REAL.sets[toolset].versions
    for component in sorted(used_components(REAL)):
        sources = pinned_sources(component)
        if sources is not None:  # recipes without sources build our own code or the host's (rust-sysroot)
            assert versions[component] in sources, f"{component} {versions[component]} has no pinned source"


@pytest.mark.parametrize("toolset", list(REAL.sets))
def test_a_sets_versions_fit_the_ranges_its_recipes_declare(toolset):
    versions = REAL.sets[toolset].versions
    for component in sorted(used_components(REAL)):
        requires = conandata(component).get("requires", {}).get(versions[component], {})
        for dependency, version_range in requires.items():
            assert VersionRange(version_range.strip("[]")).contains(Version(versions[dependency]), None), (
                f"set {toolset}: {component} {versions[component]} needs {dependency} {version_range}, "
                f"the set has {versions[dependency]}")


def test_every_pinned_version_of_a_recipe_with_dependencies_says_what_it_builds_with():
    for recipe in sorted(p.parent.name for p in RECIPES.glob("*/conanfile.py")):
        data = conandata(recipe)
        if "requires" in data and pinned_sources(recipe) is not None:
            assert set(pinned_sources(recipe)) == set(data["requires"]), recipe


def test_no_recipe_writes_a_dependencys_version():
    names = "|".join(re.escape(p.parent.name) for p in RECIPES.glob("*/conanfile.py") if p.parent.name != "ukbase")
    literal = re.compile(rf"""["'](?:{names})/\d""")
    for path in sorted(RECIPES.glob("*/conanfile.py")):
        assert not literal.search(path.read_text()), f"{path} names a dependency version; put it in conandata.yml"


def test_each_version_is_written_once_in_the_catalogue():
    text = (RECIPES / "targets.toml").read_text()
    for component in used_components(REAL):
        for version in {s.versions[component] for s in REAL.sets.values()}:
            lines = [line for line in text.splitlines()
                     if re.match(rf'\s*{re.escape(component)}\s*=\s*"{re.escape(version)}"', line)]
            # A component with another's version (same_version_as) writes none of its own.
            assert len(lines) == (0 if component in SAME_VERSION_AS else 1), (component, version, lines)


def test_a_recipe_built_from_anothers_source_has_its_version_in_every_set():
    assert SAME_VERSION_AS == {"nolibc-openlibm": "ocaml-solo5", "ocaml-cross-tree": "ocaml"}
    for component, owner in SAME_VERSION_AS.items():
        assert conandata(component)["sources_from"] == owner
        for toolset in REAL.sets.values():
            assert toolset.versions[component] == toolset.versions[owner], toolset.name
    for toolset in REAL.sets.values():
        solo5_version, ocaml = toolset.versions["ocaml-solo5"], toolset.versions["ocaml"]
        requires = conandata("ocaml-solo5")["requires"][solo5_version]
        # ocaml-solo5 is built with the libraries of its own archive, no other version...
        assert requires["nolibc-openlibm"] == f"[={solo5_version}]", toolset.name
        # ...in an OCaml tree of the host compiler's version, patched by this same ocaml-solo5.
        assert requires["ocaml-cross-tree"] == requires["ocaml"] and f"={ocaml}" in requires["ocaml"], toolset.name
        assert conandata("ocaml-cross-tree")["requires"][ocaml]["nolibc-openlibm"] == f"[={solo5_version}]"


def test_same_version_as_needs_a_component_the_set_gives(tmp_path):
    catalogue = tmp_path / "targets.toml"
    catalogue.write_text('[components]\na = "1"\n[same_version_as]\nb = "c"\n'
                         '[targets.t]\ncomponents = ["a"]\n')
    with pytest.raises(ConfigError, match="b in .* has the version of c, which toolchain set default does not give"):
        Catalogue.load(catalogue)


def test_unknown_set_names_the_sets():
    with pytest.raises(UnknownSetError, match=r"unknown toolchain set '5\.9'; sets: 5\.4 \(default\), 5\.3"):
        REAL.for_set("5.9")


def test_a_set_lacking_a_version_is_refused(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text('[components]\nalpha = "1"\n[sets."2"]\nbeta = "2"\n[sets."1"]\n'
                    '[targets.t]\ncomponents = ["alpha", "beta"]\n')
    with pytest.raises(ConfigError, match="toolchain set 1 .* has no version of beta"):
        Catalogue.load(path)


def test_sets_sort_numerically_and_an_unavailable_set_is_never_the_default(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text('[components]\nalpha = "1"\n[sets."5.10"]\navailable = false\nnote = "no source here"\n'
                    '[sets."5.9"]\n[sets."5.4"]\n[targets.t]\ncomponents = ["alpha"]\n')
    catalogue = Catalogue.load(path)
    assert list(catalogue.sets) == ["5.10", "5.9", "5.4"]
    assert catalogue.default_set == "5.9"
    assert catalogue.sets["5.10"].note == "no source here"


def test_a_catalogue_without_sets_has_one(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text('[components]\nalpha = "1"\n[targets.t]\ncomponents = ["alpha"]\n')
    catalogue = Catalogue.load(path)
    assert list(catalogue.sets) == ["default"] and catalogue.versions == {"alpha": "1"}


def test_for_set_changes_only_the_versions():
    old = REAL.for_set("5.3")
    assert old.toolset == "5.3" and old.versions["dune"] == "3.17.2"
    assert old.targets == REAL.targets and REAL.versions["dune"] == "3.24.2"


def test_pinned_patches_exist_for_every_ocaml_of_every_set():
    patches = Path(synthetic.REPO / "patches" / "ocaml")
    for toolset in REAL.sets.values():
        version = toolset.versions["ocaml"]
        assert sorted(p.name.split("-", 2)[1] for p in patches.glob(f"{version}-*.patch")) == ["0001", "0002", "0003"], version


def test_build_costs_are_cpu_seconds_and_every_component_built_has_one(tmp_path):
    """The scheduler's figures for components never built here (engine/critical_path.py)."""
    built = set(REAL.per_arch) | {c for t in REAL.targets.values() for c in t.components}
    built |= {c for components in REAL.extras.values() for c in components}
    assert built <= set(REAL.build_costs), "components without a [build_cost]"
    assert REAL.build_costs["ocaml"] > REAL.build_costs["ocaml-solo5"] > REAL.build_costs["solo5"]
    path = tmp_path / "targets.toml"
    path.write_text('[components]\na = "1"\n[build_cost]\na = "long"\n[targets.t]\ncomponents = ["a"]\n')
    with pytest.raises(ConfigError, match=r"\[build_cost\] in .* must give each component a number of CPU seconds"):
        Catalogue.load(path)
