"""The target catalogue (the real recipes/targets.toml and small hand-written ones) and the
order in which a plan makes packages ready."""
from __future__ import annotations

from pathlib import Path

import pytest

import synthetic
from uktoolchain.engine.model import BUILD, CACHED, Plan, PlannedPackage
from uktoolchain.errors import ConfigError, TargetNotAvailableError, UnknownTargetError, UsageError
from uktoolchain.targets import Catalogue

REAL_CATALOGUE = synthetic.REPO / "recipes" / "targets.toml"
SOLO5 = ("hvt", "spt", "virtio", "muen", "xen", "aarch64-hvt", "aarch64-spt")
UNIKERNELS = SOLO5 + ("aarch64-rpi4",)


@pytest.fixture(scope="module")
def real() -> Catalogue:
    return Catalogue.load(REAL_CATALOGUE)


def write_catalogue(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(text)
    return path


# -- the real catalogue -----------------------------------------------------------------------


def test_unix_is_available_with_the_host_tools(real):
    unix = real.targets["unix"]
    assert unix.available
    assert unix.arch == "host"
    assert set(unix.components) == {"ocaml", "ocamlfind", "dune"}
    assert unix.components[0] == "ocaml"  # the compiler comes first
    for component in unix.components:
        assert real.versions[component], component
        assert (synthetic.REPO / "recipes" / component / "conanfile.py").is_file(), component


def test_rpi4_shares_the_aarch64_cross_compiler_and_adds_its_binding(real):
    rpi4 = real.resolve(["aarch64-rpi4"])[0]
    labels = real.labels_of(rpi4)
    assert set(real.labels_of(real.targets["aarch64-spt"])) < set(labels)  # same cross-compiler build
    assert "solo5-rpi4" in labels and rpi4.binding == "rpi4"


def test_a_planned_target_is_listed_but_refused(tmp_path):
    catalogue = Catalogue.load(write_catalogue(tmp_path, """
[components]
a = "1"
[targets.now]
components = ["a"]
[targets.later]
description = "not yet"
components = ["a"]
available = false
"""))
    assert not catalogue.targets["later"].available
    with pytest.raises(TargetNotAvailableError) as caught:
        catalogue.resolve(["later"])
    assert "not yet available" in caught.value.message
    assert caught.value.exit_code == 2
    assert "now" in caught.value.hint


def test_unikernel_targets_describe_their_platform(real):
    assert {real.targets[n].arch for n in UNIKERNELS} == {"x86_64", "aarch64"}
    assert real.targets["hvt"].binding == "hvt" and real.targets["aarch64-hvt"].arch == "aarch64"
    assert real.targets["aarch64-rpi4"].board == "rpi4"
    assert all(real.targets[n].board is None for n in SOLO5)


@pytest.mark.parametrize("name", SOLO5)
def test_solo5_targets_share_the_cross_compiler_of_their_architecture(real, name):
    target = real.resolve([name])[0]
    assert {"ocaml", "ocaml-solo5", "solo5"} <= set(target.components)
    labels = real.labels_of(target)
    assert f"ocaml-solo5[{target.arch}]" in labels and "ocaml" in labels
    # hvt, spt, virtio... on one arch: same labels, hence one build (the binding is a link flag).
    same_arch = [t for t in SOLO5 if real.targets[t].arch == target.arch]
    assert all(real.labels_of(real.targets[t]) == labels for t in same_arch)
    if target.arch == "aarch64":
        assert "solo5[x86_64]" in labels  # solo5-elftool for manifests runs on the build machine


def test_resolve_keeps_order_and_drops_duplicates(real):
    assert [t.name for t in real.resolve(["unix", "unix"])] == ["unix"]
    assert real.components_of(real.resolve(["unix", "unix"])) == list(real.targets["unix"].components)


def test_unknown_target_suggests_the_closest(real):
    with pytest.raises(UnknownTargetError) as caught:
        real.resolve(["unx"])
    message = caught.value.message
    assert "unknown target 'unx'" in message and "did you mean unix?" in message
    assert "valid targets: " in message and all(name in message for name in ("unix", *UNIKERNELS))
    assert isinstance(caught.value, UsageError) and caught.value.exit_code == 2
    assert "\n" not in str(caught.value)


def test_unknown_target_without_a_close_match(real):
    with pytest.raises(UnknownTargetError) as caught:
        real.resolve(["zzzzzzzz"])
    assert "did you mean" not in caught.value.message


# -- small catalogues -------------------------------------------------------------------------


def test_components_of_several_targets_is_their_union_in_first_seen_order(tmp_path):
    catalogue = Catalogue.load(write_catalogue(tmp_path, (
        '[components]\na = "1"\nb = "2"\nc = "3"\n'
        '[targets.one]\ncomponents = ["a", "b"]\n'
        '[targets.two]\ncomponents = ["c", "a"]\n'
    )))
    targets = catalogue.resolve(["two", "one", "two"])
    assert [t.name for t in targets] == ["two", "one"]
    assert catalogue.components_of(targets) == ["c", "a", "b"]


def test_a_target_without_components_is_not_available(tmp_path):
    catalogue = Catalogue.load(write_catalogue(tmp_path, '[components]\n[targets.empty]\ndescription = "x"\n'))
    assert not catalogue.targets["empty"].available


def test_a_component_without_a_version_is_a_config_error(tmp_path):
    path = write_catalogue(tmp_path, '[components]\na = "1"\n[targets.one]\ncomponents = ["a", "ghost"]\n')
    with pytest.raises(ConfigError) as caught:
        Catalogue.load(path)
    assert "ghost" in caught.value.message and caught.value.exit_code == 3


def test_an_unreadable_catalogue_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError):
        Catalogue.load(write_catalogue(tmp_path, "[components\n"))
    with pytest.raises(ConfigError):
        Catalogue.load(tmp_path / "missing.toml")


# -- Plan.ready -------------------------------------------------------------------------------


def planned(name: str, *deps: str, action: str = BUILD) -> PlannedPackage:
    return PlannedPackage(label=name, name=name, version="1.0", ref=f"{name}/1.0#r", package_id="p", action=action,
                          deps=deps, options=(), lockfile="plan.lock")


def test_plan_ready_follows_dependencies():
    plan = Plan({p.name: p for p in (
        planned("alpha"), planned("beta", "alpha"), planned("gamma", "alpha"), planned("delta", "beta", "gamma"),
    )})
    names = lambda finished: [p.name for p in plan.ready(set(finished))]  # noqa: E731
    assert names([]) == ["alpha"]
    assert names(["alpha"]) == ["beta", "gamma"]  # independent: both at once, in plan order
    assert names(["alpha", "beta"]) == ["gamma"]
    assert names(["alpha", "gamma"]) == ["beta"]
    assert names(["alpha", "beta", "gamma"]) == ["delta"]
    assert names(["alpha", "beta", "gamma", "delta"]) == []


def test_plan_ready_with_independent_roots():
    plan = Plan({p.name: p for p in (planned("x"), planned("y"), planned("z", "x", action=CACHED))})
    assert [p.name for p in plan.ready(set())] == ["x", "y"]
    assert [p.name for p in plan.ready({"x"})] == ["y", "z"]


def test_merged_plans_share_packages_and_refuse_two_binaries_under_one_label():
    host = Plan({p.label: p for p in (planned("ocaml"), planned("dune", "ocaml"))})
    cross = Plan({p.label: p for p in (planned("ocaml"), planned("solo5[aarch64]"))})
    assert list(host.merged(cross).packages) == ["ocaml", "dune", "solo5[aarch64]"]
    other = PlannedPackage(label="ocaml", name="ocaml", version="1.0", ref="ocaml/1.0#r", package_id="different",
                           action=BUILD, deps=(), options=(), lockfile="x.lock")
    with pytest.raises(ValueError):
        host.merged(Plan({"ocaml": other}))


@pytest.mark.parametrize("name, expected", [
    ("aarch64-virtio", "the virtio binding is not available on aarch64 (only on x86_64); aarch64 targets: "),
    ("aarch64-muen", "the muen binding is not available on aarch64"),
    ("genode", "the genode binding is not supported (Solo5 removed its Genode bindings)"),
    ("aarch64-genode", "the genode binding is not supported"),
    ("aarch64-bogus", "unknown Solo5 binding 'bogus' in 'aarch64-bogus'; bindings: hvt, muen, rpi4, spt, virtio, xen"),
])
def test_a_binding_that_does_not_exist_for_an_architecture_is_named(real, name, expected):
    with pytest.raises(UnknownTargetError) as caught:
        real.resolve([name])
    assert expected in caught.value.message
    assert caught.value.exit_code == 2 and "did you mean" not in caught.value.message


def test_a_typo_of_a_binding_still_gets_did_you_mean(real):
    with pytest.raises(UnknownTargetError) as caught:
        real.resolve(["aarch64-sptt"])
    assert "did you mean aarch64-spt?" in caught.value.message
