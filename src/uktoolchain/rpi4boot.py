"""What goes on a Raspberry Pi 4 boot partition for a unikernel: the firmware, config.txt and
kernel8.img (the raw binary of the unikernel, which the firmware loads at 0x80000).

The unikernel is checked first, by its ELF header and Solo5 ABI note, so that an image built for
another target is refused with a message instead of producing a card that never boots.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from uktoolchain import __version__, elf
from uktoolchain.engine import state
from uktoolchain.errors import ConfigError, EnvironmentProblem, NotInstalledError
from uktoolchain.exporters import environment
from uktoolchain.home import Home
from uktoolchain.sources import file_digest

RPI4_ABI_TARGET = 0x34495052  # "RPI4": the rpi4 binding's abi_target in the Solo5 ABI1 note
RPI4_ABI_VERSION = 1
KERNEL_ADDRESS = 0x80000  # config.txt kernel_address: where the firmware loads and enters kernel8.img

FIRMWARE_COMPONENT = "rpi4-firmware"
FIRMWARE_FACT = "rpi4_firmware_dir"  # published by the rpi4-firmware recipe: its boot/ folder
FIRMWARE_REQUIRED = ("start4.elf", "fixup4.dat")
# Copied when present. A real Pi 4's firmware expects the device tree; the rpi4 binding itself
# reads none. The licence must accompany redistributed copies of the firmware.
FIRMWARE_OPTIONAL = ("bcm2711-rpi-4-b.dtb", "LICENCE.broadcom")

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


@dataclass(frozen=True)
class Firmware:
    directory: Path
    files: dict[str, Path]  # name on the card -> file
    missing_optional: tuple[str, ...]


# -- the unikernel ------------------------------------------------------------------------------


def check_unikernel(path: Path) -> elf.ElfImage:
    """The parsed unikernel, if it is an aarch64 ELF linked with the rpi4 binding at 0x80000."""
    build_it = "build it for aarch64-rpi4: link it with -z solo5-abi=rpi4"
    if not path.is_file():
        raise ConfigError(f"unikernel {path} does not exist or is not a file", "give the ELF that dune or the linker wrote")
    try:
        image = elf.read(path)
    except OSError as exc:
        raise ConfigError(f"cannot read unikernel {path}: {exc.strerror or exc}") from exc
    except elf.ElfFormatError as exc:
        raise ConfigError(f"{path} is {exc}: expected an aarch64 unikernel ELF", build_it) from exc
    if image.machine != elf.EM_AARCH64 or image.bits != 64 or not image.little_endian:
        raise ConfigError(f"{path} is an {image.describe()}", build_it)
    abi = image.solo5_abi()
    if abi is None or abi.target != RPI4_ABI_TARGET:
        raise ConfigError(f"{path} is an {image.describe()}; an SD card image needs the rpi4 binding", build_it)
    if abi.version != RPI4_ABI_VERSION:
        raise ConfigError(f"{path} is an {image.describe()}; this uktoolchain makes images for rpi4 ABI version "
                          f"{RPI4_ABI_VERSION}", "relink it for aarch64-rpi4 with the rpi4 binding this uktoolchain installs")
    segments = image.load_segments
    start = min((s.paddr for s in segments if s.filesz), default=None)
    if start != KERNEL_ADDRESS or image.entry != KERNEL_ADDRESS:
        where = "has no loadable contents" if start is None else f"loads at 0x{start:x} with its entry at 0x{image.entry:x}"
        raise ConfigError(f"{path} {where}; the firmware loads kernel8.img at 0x{KERNEL_ADDRESS:x} and starts it there",
                          "build it for aarch64-rpi4: the rpi4 binding's linker script (solo5_rpi4.lds) places it there")
    return image


def find_objcopy(extra_path: str = "") -> str:
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


FIRMWARE_SOURCES = ("run uktoolchain install aarch64-rpi4; where the pinned files cannot be downloaded, add "
                    "--source rpi4-firmware=DIR, e.g. /usr/lib/raspi-firmware of Debian's raspi-firmware package; "
                    "or give a firmware directory with --firmware DIR")


def installed_firmware(home: Home, target: str) -> tuple[Firmware, str]:
    """The firmware of an installed target, and the PATH of its tools (for the Solo5 objcopy)."""
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


def boot_files(firmware: Firmware, kernel_image: Path, config: Path) -> dict[str, Path]:
    """Everything on the boot partition, name on the card -> local file, firmware first."""
    return {**firmware.files, "config.txt": config, "kernel8.img": kernel_image}
