"""engine/critical_path.py: tails and which builds are on the critical path."""
from __future__ import annotations

from uktoolchain.engine.critical_path import UNKNOWN_COST, on_critical_path, tails
from uktoolchain.engine.model import BUILD, CACHED, Plan, PlannedPackage


def package(label: str, *deps: str, action: str = BUILD) -> PlannedPackage:
    return PlannedPackage(label=label, name=label.split("[")[0], version="1", ref=f"{label}/1#r", package_id="p",
                          action=action, deps=deps, options=(), lockfile="x.lock")


# A cold `install hvt aarch64-rpi4`, reduced: the host compiler, then a cross-compiler per arch.
PLAN = Plan({p.label: p for p in (
    package("ocaml"), package("solo5[x86_64]"), package("solo5[aarch64]"), package("rpi4-firmware"),
    package("dune", "ocaml"), package("ocaml-solo5[x86_64]", "ocaml", "solo5[x86_64]"),
    package("ocaml-solo5[aarch64]", "ocaml", "solo5[aarch64]"),
)})
COSTS = {"ocaml": 380.0, "solo5[x86_64]": 12.0, "solo5[aarch64]": 8.0, "rpi4-firmware": 1.0, "dune": 90.0,
         "ocaml-solo5[x86_64]": 250.0, "ocaml-solo5[aarch64]": 240.0}


def test_a_tail_is_the_cost_of_the_longest_chain_from_a_build_to_the_end():
    tail_of = tails(PLAN, COSTS)
    assert tail_of["ocaml"] == 380.0 + 250.0
    assert tail_of["solo5[aarch64]"] == 8.0 + 240.0
    assert tail_of["dune"] == 90.0 and tail_of["rpi4-firmware"] == 1.0


def test_the_host_compiler_and_then_the_cross_compilers_are_the_critical_path():
    tail_of = tails(PLAN, COSTS)
    everything = set(PLAN.packages)
    assert [label for label in PLAN.packages if on_critical_path(label, tail_of, everything)] == ["ocaml"]
    after_ocaml = everything - {"ocaml", "solo5[x86_64]", "solo5[aarch64]", "rpi4-firmware"}
    assert {label for label in after_ocaml if on_critical_path(label, tail_of, after_ocaml)} == {
        "ocaml-solo5[x86_64]", "ocaml-solo5[aarch64]"}  # dune fills their idle cores


def test_packages_not_built_here_cost_nothing_and_unknown_builds_a_middling_amount():
    plan = Plan({p.label: p for p in (package("ocaml", action=CACHED), package("dune", "ocaml"))})
    assert tails(plan, {"ocaml": 380.0}) == {"ocaml": UNKNOWN_COST, "dune": UNKNOWN_COST}
