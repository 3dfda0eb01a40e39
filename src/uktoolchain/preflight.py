"""Can this host build and use a target at all? Asked before planning, so that a missing cross
compiler is one clear line, not a failed build ten minutes in (and not a broken toolchain later:
Solo5's aarch64 cc wrapper runs aarch64-linux-gnu-gcc at use time too). Each target's platform
says what it needs ([arches] in targets.toml: the cross tools of its architecture)."""
from __future__ import annotations

from uktoolchain import doctor
from uktoolchain.errors import EnvironmentProblem
from uktoolchain.platforms import platform_of
from uktoolchain.targets import Target


def require_buildable(targets: list[Target]) -> None:
    needed: dict[str, list[str]] = {}
    for target in targets:
        for check in platform_of(target).toolchain_tools():
            needed.setdefault(check, []).append(target.name)
    if not needed:
        return
    for result in doctor.run_checks(needed):
        if not result.ok:
            names = ", ".join(needed[result.key])
            raise EnvironmentProblem(
                f"{names} cannot be built or used on this host: {result.detail}",
                f"install the {result.name}: {result.hint(doctor.host_platform())}")


def require_tools(keys, purpose: str, error: type[EnvironmentProblem] = EnvironmentProblem) -> None:
    """The doctor checks ``keys`` must pass for ``purpose``; else one line with the install command."""
    for result in doctor.run_checks(keys):
        if not result.ok:
            raise error(f"{purpose} needs {result.name}: {result.detail}",
                                     f"install it: {result.hint(doctor.host_platform())}")
