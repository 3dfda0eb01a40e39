"""Can this host build and use a target at all? Asked before planning, so that a missing cross
compiler is one clear line, not a failed build ten minutes in (and not a broken toolchain later:
Solo5's aarch64 cc wrapper runs aarch64-linux-gnu-gcc at use time too)."""
from __future__ import annotations

from uktoolchain import doctor
from uktoolchain.errors import EnvironmentProblem
from uktoolchain.targets import Target, host_target_arch

# Target architecture -> the doctor check of the C cross compiler it needs on another host.
_CROSS_GCC_CHECK = {"aarch64": "aarch64-gcc"}


def require_buildable(targets: list[Target]) -> None:
    host = host_target_arch()
    needed: dict[str, list[str]] = {}
    for target in targets:
        if target.arch in ("host", host):
            continue
        check = _CROSS_GCC_CHECK.get(target.arch)
        if check is None:
            raise EnvironmentProblem(
                f"target {target.name} ({target.arch}) cannot be built on this {host} host",
                f"build it on a {target.arch} machine, or fetch it prebuilt from a remote")
        needed.setdefault(check, []).append(target.name)
    if not needed:
        return
    for result in doctor.run_checks(needed):
        if not result.ok:
            names = ", ".join(needed[result.key])
            raise EnvironmentProblem(
                f"{names} cannot be built or used on this host: {result.detail}",
                f"install the {result.name}: {result.hint(doctor.host_platform())}")


def require_tools(keys: list[str], purpose: str) -> None:
    """The doctor checks ``keys`` must pass for ``purpose``; else one line with the install command."""
    for result in doctor.run_checks(keys):
        if not result.ok:
            raise EnvironmentProblem(f"{purpose} needs {result.name}: {result.detail}",
                                     f"install it: {result.hint(doctor.host_platform())}")
