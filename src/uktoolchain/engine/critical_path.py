"""Which builds are on the critical path, and which only fill cores the others leave idle.

A cold install is a few long builds in a chain (the host OCaml, then a cross-compiler per
architecture) and short ones beside them (Solo5, nolibc and openlibm, firmware, dune). The long
builds are not parallel all the time: OCaml's build has stretches where one file compiles alone
(parsing/parser.ml, typing/typecore.ml) and its links. Run side by side as equals, a short build takes
cores from a long one when it could have taken them while it ran alone; run as fillers (the
scheduler starts them at idle priority, with a job pool of their own, and stops them while the
chain keeps every core busy: engine/filler_gate.py) they only get what the chain leaves idle, and
finish in its gaps.

What is long comes from each build's cost: the CPU seconds it took when last built here, or the
catalogue's figure for a component never built here (``[build_cost]`` in targets.toml). A build
is on the critical path when the longest chain of builds from it to the end (its *tail*) is at least
half the longest tail still to run.
"""
from __future__ import annotations

from collections.abc import Mapping

from uktoolchain.engine.model import BUILD, Plan

SHARE_OF_LONGEST = 0.5  # a tail this close to the longest is worth running at full priority
UNKNOWN_COST = 60.0  # CPU seconds assumed for a build with no figure at all: a middling one


def tails(plan: Plan, costs: Mapping[str, float]) -> dict[str, float]:
    """Per package label: its own cost plus the longest tail of what depends on it (packages not
    built here cost nothing)."""
    dependants: dict[str, list[str]] = {label: [] for label in plan.packages}
    for label, package in plan.packages.items():
        for dependency in package.deps:
            dependants.setdefault(dependency, []).append(label)
    found: dict[str, float] = {}

    def tail(label: str) -> float:
        if label not in found:
            package = plan.packages[label]
            own = costs.get(label, UNKNOWN_COST) if package.action == BUILD else 0.0
            found[label] = own + max((tail(d) for d in dependants[label]), default=0.0)
        return found[label]

    for label in plan.packages:
        tail(label)
    return found


def on_critical_path(label: str, tail_of: Mapping[str, float], unfinished: set[str]) -> bool:
    longest = max((tail_of[other] for other in unfinished), default=0.0)
    return tail_of[label] >= SHARE_OF_LONGEST * longest
