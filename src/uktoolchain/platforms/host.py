"""The host toolchain (unix): programs for this machine, not unikernels."""
from uktoolchain.platforms.base import Platform


class Host(Platform):
    name = "host"
    unikernel = False

    def runs_here(self) -> str | None:
        return f"{self.target.name} builds programs for this machine, not unikernels"


PLATFORM = Host
