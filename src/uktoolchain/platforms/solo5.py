"""What Solo5's bindings have in common: booted by a tender of the installed toolchain
(solo5-spt, solo5-hvt), which attaches the manifest's devices by name and passes the unikernel's
exit status on as its own."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from uktoolchain.platforms.base import PROCESS, CannotRunHere, Devices, Launch, Platform


class Solo5(Platform):
    # Solo5's recipe checks these itself (its configure wants libseccomp for the tenders).
    build_tools = (*Platform.build_tools, "pkg-config", "libseccomp")


class Tendered(Solo5):
    tender: ClassVar[str] = ""
    runner_in_toolchain = True
    device_kinds = frozenset({"net", "block"})


    def launch(self, image: Path, args: list[str], devices: Devices, tool_path: str, workdir: Path) -> Launch:
        self.require_runnable_here()
        tender = self.find_tool(self.tender, tool_path)
        if tender is None:
            raise CannotRunHere(f"{self.tender} is not on PATH: it comes with the {self.target.name} toolchain",
                                f"run: uktoolchain install {self.target.name}")
        # The tender's own options (--net:NAME=TAP, --block:NAME=FILE) end at the image's path.
        attach = [f"--{kind}:{name}={value}" for kind in ("net", "block") for name, value in sorted(devices.of(kind).items())]
        return Launch([tender, *attach, str(image), *args], PROCESS, self.tender)


class Unbootable(Solo5):
    """A binding this host has no runner for (a hypervisor or kernel of its own)."""

    needs: ClassVar[str] = ""  # what boots it

    def runs_here(self) -> str | None:
        return f"{self.target.binding} images boot under {self.needs}, not on this host"

    def launch(self, image: Path, args: list[str], devices: Devices, tool_path: str, workdir: Path) -> Launch:
        raise CannotRunHere(f"{self.runs_here()}", f"boot {image.name} there")
