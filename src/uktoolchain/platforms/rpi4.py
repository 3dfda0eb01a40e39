"""The Raspberry Pi 4 board (our rpi4 Solo5 binding, boards/rpi4): bare metal, booted by the Pi
firmware from a FAT boot partition (start4.elf, fixup4.dat, config.txt and kernel8.img, the raw
binary of the unikernel, loaded at 0x80000), or here by QEMU 10's raspi4b machine.

The unikernel is checked first, by its ELF header and Solo5 ABI note, so that an image built for
another target is refused with a message instead of producing a card that never boots.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from uktoolchain import __version__
from uktoolchain.errors import ConfigError, EnvironmentProblem, ImageMismatchError, NotInstalledError
from uktoolchain.platforms.base import PROCESS, CannotRunHere, Devices, Launch, MediaInputs, MediaPlan, Platform

if TYPE_CHECKING:
    from uktoolchain import elf

RPI4_ABI_TARGET = 0x34495052  # "RPI4": the rpi4 binding's abi_target in the Solo5 ABI1 note (boards/rpi4/rpi4_abi.h)
RPI4_ABI_VERSION = 1
KERNEL_ADDRESS = 0x80000  # config.txt kernel_address: where the firmware loads and enters kernel8.img

FIRMWARE_COMPONENT = "rpi4-firmware"
FIRMWARE_FACT = "rpi4_firmware_dir"  # published by the rpi4-firmware recipe: its boot/ folder
FIRMWARE_REQUIRED = ("start4.elf", "fixup4.dat")
# Copied when present. A real Pi 4's firmware expects the device tree; the rpi4 binding itself
# reads none. The licence must accompany redistributed copies of the firmware.
FIRMWARE_OPTIONAL = ("bcm2711-rpi-4-b.dtb", "LICENCE.broadcom")
MISSING_NOTES = {
    "bcm2711-rpi-4-b.dtb": "a real Raspberry Pi 4's firmware expects this device tree (QEMU does not need it); "
                           "add it with --firmware DIR or a --source rpi4-firmware directory that has it",
    "LICENCE.broadcom": "the Broadcom licence must accompany copies of the firmware you give to others",
}

# Objcopy able to write an aarch64 image, best first: the aarch64 Solo5 toolchain's, then binutils'.
OBJCOPY_CANDIDATES = ("aarch64-solo5-none-static-objcopy", "aarch64-linux-gnu-objcopy")

CONFIG_TXT = f"""\
# config.txt, written by uktoolchain {__version__} for a bare-metal 64-bit unikernel (rpi4 binding).
# Read by the Raspberry Pi 4 firmware (start4.elf): start kernel8.img in 64-bit mode at 0x80000,
# with the serial console enabled.
arm_64bit=1
kernel=kernel8.img
kernel_address=0x{KERNEL_ADDRESS:x}
enable_uart=1
"""

FIRMWARE_SOURCES = ("run uktoolchain install aarch64-rpi4; where the pinned files cannot be downloaded, add "
                    "--source rpi4-firmware=DIR, e.g. /usr/lib/raspi-firmware of Debian's raspi-firmware package; "
                    "or give a firmware directory with --firmware DIR")


class Rpi4(Platform):
    name = "rpi4"
    build_tools = (*Platform.build_tools, "pkg-config", "libseccomp")  # Solo5's aarch64 toolchain
    run_tools = ("qemu-raspi4b",)
    media_tools = ("mtools", "mkfs.vfat")
    abi_target = RPI4_ABI_TARGET
    volume_label = "RPI4BOOT"

    @property
    def mirage_target(self) -> str:
        return "hvt"  # mirage has no rpi4 target: configure for hvt, then switch the binding

    def examine(self, path: Path, need: str | None = None, abi_names: dict[int, str] | None = None) -> elf.ElfImage:
        """Also: the rpi4 ABI version this uktoolchain builds, loaded and entered at 0x80000 (where
        the firmware, and QEMU for a raw kernel, put kernel8.img)."""
        need = need or f"{self.target.name} runs images linked with the rpi4 binding"
        image = super().examine(path, need, abi_names)
        abi = image.solo5_abi()
        if abi.version != RPI4_ABI_VERSION:
            raise ImageMismatchError(f"{path} is an {image.describe()}; this uktoolchain makes images for rpi4 ABI "
                                     f"version {RPI4_ABI_VERSION}",
                                     f"relink it for {self.target.name} with the rpi4 binding this uktoolchain installs")
        start = min((s.paddr for s in image.load_segments if s.filesz), default=None)
        if start != KERNEL_ADDRESS or image.entry != KERNEL_ADDRESS:
            where = "has no loadable contents" if start is None else f"loads at 0x{start:x} with its entry at 0x{image.entry:x}"
            raise ImageMismatchError(f"{path} {where}; the firmware loads kernel8.img at 0x{KERNEL_ADDRESS:x} and starts it there",
                                     f"build it for {self.target.name}: the rpi4 binding's linker script (solo5_rpi4.lds) places it there")
        return image

    def link_hint(self) -> str:
        return f"build it for {self.target.name}: link it with -z solo5-abi=rpi4"

    def runs_here(self) -> str | None:
        return None  # emulated: any host with QEMU's raspi4b

    def launch(self, image: Path, args: list[str], devices: Devices, tool_path: str, workdir: Path) -> Launch:
        """QEMU's raspi4b loads kernel8.img (the raw image the Pi firmware loads) at 0x80000 and
        enters it at EL2, as the firmware does. Semihosting, which the binding uses only when the
        command line asks for it, hands the guest's exit status to QEMU."""
        self.require_run_tools()
        kernel = workdir / "kernel8.img"
        try:  # the same kernel8.img as `uktoolchain image` writes, with the target's own objcopy
            write_kernel_image(image, kernel, find_objcopy(tool_path))
        except EnvironmentProblem as exc:
            raise CannotRunHere(exc.message, exc.hint) from exc
        return Launch(["qemu-system-aarch64", "-M", "raspi4b", "-kernel", str(kernel),
                       "-append", " ".join(["--solo5:semihosting", *args]),
                       "-semihosting-config", "enable=on,target=native", "-nographic", "-no-reboot", "-display",
                       "none", "-serial", "stdio", "-monitor", "none"], PROCESS, "QEMU raspi4b")

    def media(self, unikernel: Path, inputs: MediaInputs) -> MediaPlan:
        if inputs.firmware is not None:
            firmware = firmware_in(inputs.firmware.absolute(), "give a directory holding start4.elf and fixup4.dat to --firmware")
            tool_path = ""
        else:
            firmware, tool_path = installed_firmware(inputs.home, self.target.name)
        return Rpi4Media(self, unikernel, firmware, find_objcopy(tool_path), inputs)


class Firmware(NamedTuple):
    directory: Path
    files: dict[str, Path]  # name on the card -> file
    missing_optional: tuple[str, ...]


class Rpi4Media(MediaPlan):
    kernel = "kernel8.img"

    def __init__(self, platform: Rpi4, unikernel: Path, firmware: Firmware, objcopy: str, inputs: MediaInputs):
        self.volume_label = platform.volume_label
        self.unikernel, self.firmware, self.objcopy, self.inputs = unikernel, firmware, objcopy, inputs

    def boot_files(self, scratch: Path) -> dict[str, Path]:
        kernel = scratch / "kernel8.img"
        write_kernel_image(self.unikernel, kernel, self.objcopy)
        config = scratch / "config.txt"
        config.write_text(CONFIG_TXT)
        return {**self.firmware.files, "config.txt": config, "kernel8.img": kernel}

    def notes(self) -> list[str]:
        lines = [f"(kernel8.img by {os.path.basename(self.objcopy)})"]
        version = self.inputs.versions.get(FIRMWARE_COMPONENT)
        if version:
            origin = provenance(self.firmware, self.inputs.index.recipe_dir(FIRMWARE_COMPONENT), version)
            lines.append(f"firmware from {self.firmware.directory}: {origin}")
        lines += [f"note: the firmware has no {name}: {MISSING_NOTES[name]}" for name in self.firmware.missing_optional]
        return lines


# -- kernel8.img --------------------------------------------------------------------------------


def find_objcopy(extra_path: str = "") -> str:
    import shutil  # here: `env` of an rpi4 target imports this module, and needs neither

    search = os.pathsep.join(p for p in (extra_path, os.environ.get("PATH", "")) if p)
    for name in OBJCOPY_CANDIDATES:
        found = shutil.which(name, path=search)
        if found:
            return found
    raise EnvironmentProblem(
        f"no objcopy for aarch64 found ({' or '.join(OBJCOPY_CANDIDATES)}) to write kernel8.img",
        "Debian/Ubuntu: sudo apt-get install binutils-aarch64-linux-gnu",
    )


def write_kernel_image(unikernel: Path, output: Path, objcopy: str) -> None:
    """kernel8.img: the ELF's loadable contents as one raw binary starting at its load address."""
    import subprocess

    result = subprocess.run([objcopy, "-O", "binary", str(unikernel), str(output)],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode != 0 or not output.is_file() or output.stat().st_size == 0:
        why = (result.stderr.strip() or "it wrote no data").splitlines()[-1]
        raise EnvironmentProblem(f"{os.path.basename(objcopy)} could not make kernel8.img from {unikernel}: {why}")


# -- the firmware -------------------------------------------------------------------------------


def firmware_in(directory: Path, how_to_fix: str) -> Firmware:
    """The boot firmware in ``directory`` (or its boot/ subdirectory, as in raspberrypi/firmware)."""
    if not directory.is_dir():
        raise ConfigError(f"firmware directory {directory} does not exist", how_to_fix)
    if not all((directory / name).is_file() for name in FIRMWARE_REQUIRED) and (directory / "boot").is_dir():
        directory = directory / "boot"
    missing = [name for name in FIRMWARE_REQUIRED if not (directory / name).is_file()]
    if missing:
        raise ConfigError(f"Raspberry Pi 4 firmware in {directory} lacks {', '.join(missing)}", how_to_fix)
    names = FIRMWARE_REQUIRED + tuple(n for n in FIRMWARE_OPTIONAL if (directory / n).is_file())
    return Firmware(directory, {name: directory / name for name in names},
                    tuple(n for n in FIRMWARE_OPTIONAL if not (directory / n).is_file()))


def installed_firmware(home, target: str) -> tuple[Firmware, str]:
    """The firmware of an installed target, and the PATH of its tools (for the Solo5 objcopy)."""
    from uktoolchain.engine import state
    from uktoolchain.exporters import environment

    record = state.read_present(home, target)
    if record is None:
        raise NotInstalledError(f"no Raspberry Pi 4 firmware: target {target} is not installed for OCaml set "
                                f"{home.toolset} in {home.root}", FIRMWARE_SOURCES)
    packages = list(record.packages)
    facts = {key: value for p in packages if p.name == FIRMWARE_COMPONENT for key, value in p.facts}
    if FIRMWARE_FACT not in facts:
        raise NotInstalledError(f"no Raspberry Pi 4 firmware: installed target {target} has no {FIRMWARE_COMPONENT}",
                                FIRMWARE_SOURCES)
    directory = Path(facts[FIRMWARE_FACT].replace("{conan_home}", str(home.conan)))
    values = environment.resolve(environment.compose(packages, home.conan), os.environ)
    return firmware_in(directory, FIRMWARE_SOURCES), values.get("PATH", "")


def provenance(firmware: Firmware, recipe_dir: Path, version: str) -> str:
    """One line saying which firmware files are byte for byte the pinned release's."""
    import yaml

    from uktoolchain.sources import file_digest

    data = yaml.safe_load((recipe_dir / "conandata.yml").read_text())
    pins = {name: entry.get("sha256") for name, entry in data["sources"][version].get("files", {}).items()}
    same, other, unpinned = [], [], []
    for name, path in firmware.files.items():
        if name not in pins:
            unpinned.append(name)
        elif file_digest(path) == pins[name]:
            same.append(name)
        else:
            other.append(name)
    parts = [f"{', '.join(same)} as pinned (raspberrypi/firmware {version})" if same else "",
             f"{', '.join(other)} differ from the pinned {version}" if other else "",
             f"{', '.join(unpinned)} not pinned (unverified)" if unpinned else ""]
    return "; ".join(p for p in parts if p)


PLATFORM = Rpi4
