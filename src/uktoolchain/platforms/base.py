"""What a platform declares, and what every platform shares.

A platform is made for one target (``Platform(target)``) and answers from the target's data
(architecture, binding, board): which host tools its toolchain, its images and its media need
(keys of ``uktoolchain doctor``, whose checks carry the install commands), how to link for it,
how an image is recognised as its own (ELF machine, Solo5 ABI note), how to boot one here and how
to read the unikernel's exit status, and what boot media it makes.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from uktoolchain.errors import EnvironmentProblem, ImageMismatchError, UsageError
from uktoolchain.targets import Target, host_target_arch

if TYPE_CHECKING:  # elf is read only when an image is: env and install need none
    from uktoolchain import elf

# How the unikernel's exit status reaches us.
PROCESS = "process"  # the runner's own exit status is the unikernel's (Solo5 tenders, QEMU semihosting)
CONSOLE = "console"  # the runner ends with its own status; the unikernel's is on its console


class Launch(NamedTuple):
    """A command that boots an image here, and how its exit status is read."""

    command: list[str]
    status: str  # PROCESS | CONSOLE
    runner: str  # what boots it, for messages ("solo5-spt", "QEMU raspi4b")


class Devices(NamedTuple):
    """Host resources to attach to a unikernel's manifest devices, by device name."""

    net: dict[str, str]  # name -> host network interface (a tap)
    block: dict[str, str]  # name -> file backing the block device

    def of(self, kind: str) -> dict[str, str]:
        return self.net if kind == "net" else self.block if kind == "block" else {}


NO_DEVICES = Devices({}, {})


class CannotRunHere(EnvironmentProblem):
    """This host cannot boot the target's images (no KVM, no QEMU, another architecture)."""


class MediaInputs(NamedTuple):
    """What boot media may be made from besides the unikernel."""

    home: object  # uktoolchain.home.Home of the chosen set (installed firmware and tools)
    index: object  # uktoolchain.resources.RecipeIndex (pinned firmware checksums)
    versions: dict[str, str]  # component -> version in the chosen set
    firmware: Path | None = None  # a firmware directory given by the user


class MediaPlan:
    """Boot media ready to be written: everything has been checked, nothing written yet."""

    volume_label: str = "BOOT"
    kernel: str = ""  # the boot file holding the unikernel (card identifiers are derived from it)

    def boot_files(self, scratch: Path) -> dict[str, Path]:
        """Name on the boot partition -> file (made in ``scratch`` where needed)."""
        raise NotImplementedError

    def notes(self) -> list[str]:
        """Lines to show after writing (provenance, missing optional files)."""
        return []


class Platform:
    name: ClassVar[str] = ""
    unikernel: ClassVar[bool] = True
    # Doctor checks the target's recipes need on the build machine (what `doctor TARGET` shows;
    # the recipes check them themselves).
    build_tools: ClassVar[tuple[str, ...]] = ("cc", "make", "patch")
    # Doctor checks that booting its images on this host needs.
    run_tools: ClassVar[tuple[str, ...]] = ()
    # Doctor checks that writing its card images needs.
    media_tools: ClassVar[tuple[str, ...]] = ()
    # Whether `run` boots images with a program of the installed toolchain (Solo5's tenders),
    # so the target must be installed, rather than with the host's (QEMU).
    runner_in_toolchain: ClassVar[bool] = False
    # Manifest device kinds it can attach ("net", "block").
    device_kinds: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, target: Target):
        self.target = target

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.target.name})"

    # -- toolchain ---------------------------------------------------------------------------------

    def toolchain_tools(self, host: str | None = None) -> list[str]:
        """Doctor checks that building and using the target's toolchain on this host needs (the
        cross tools of its architecture on a machine of another one)."""
        host = host or host_target_arch()
        arch = self.target.arch
        if arch in ("host", host):
            return []
        if self.target.cross_tools is None:
            raise EnvironmentProblem(f"target {self.target.name} ({arch}) cannot be built on this {host} host",
                                     f"build it on a {arch} machine, or fetch it prebuilt from a remote")
        return list(self.target.cross_tools)

    def doctor_checks(self) -> list[str]:
        """Every doctor check that matters for the target on this host: building and using its
        toolchain, booting its images, writing its media."""
        try:
            toolchain = self.toolchain_tools()
        except EnvironmentProblem:
            toolchain = []
        return list(dict.fromkeys([*self.build_tools, *toolchain, *self.run_tools, *self.media_tools]))

    def link_flags(self) -> tuple[str, ...]:
        """What the linker is given to link for this target (the Solo5 cc/ld wrappers' option)."""
        return ("-z", f"solo5-abi={self.target.binding}") if self.target.binding else ()

    def link_hint(self) -> str:
        """How to link an image for this target."""
        flags = " ".join(self.link_flags())
        name = self.target.name
        return (f'link it for {name}: dune link_flags -cclib "{flags}" (as `uktoolchain workspace {name}` writes '
                f'them), or the Solo5 linker with {flags} ($UKTOOLCHAIN_LDFLAGS in `uktoolchain env {name}`)')

    @property
    def mirage_target(self) -> str:
        """mirage configure's -t for this target."""
        return str(self.target.binding)

    # -- images ------------------------------------------------------------------------------------

    @property
    def abi_target(self) -> int | None:
        """The abi_target of the Solo5 ABI note its images carry (Solo5's own number for the binding)."""
        from uktoolchain import elf

        return next((n for n, b in elf.SOLO5_ABI_TARGETS.items() if b == self.target.binding), None)

    def examine(self, path: Path, need: str | None = None, abi_names: dict[int, str] | None = None) -> elf.ElfImage:
        """The image at ``path`` if it is this target's: a 64-bit little-endian ELF of its
        architecture with its Solo5 ABI note. Otherwise ImageMismatchError, one line saying what the
        image is (``need``: what the target needs instead) and how to link for the target."""
        if not self.unikernel:
            raise UsageError(f"{self.target.name} is not a unikernel target: it has no images",
                             "give a unikernel target, e.g. spt")
        if not path.is_file():
            raise ImageMismatchError(f"unikernel {path} does not exist or is not a file",
                                     "give the ELF that dune or the linker wrote")
        from uktoolchain import elf

        try:
            image = elf.read(path)
        except OSError as exc:
            raise ImageMismatchError(f"cannot read unikernel {path}: {exc.strerror or exc}") from exc
        except elf.ElfFormatError as exc:
            raise ImageMismatchError(f"{path} is {exc}: expected {self.target.arch} unikernel ELF for "
                                     f"{self.target.name}", self.link_hint()) from exc
        abi = image.solo5_abi()
        if image.machine_name != self.target.arch or image.bits != 64 or abi is None or abi.target != self.abi_target:
            need = need or (f"{self.target.name} runs {self.target.arch} images linked with the "
                            f"{self.target.binding} binding")
            raise ImageMismatchError(f"{path} is an {describe(image, abi_names)}; {need}", self.link_hint())
        return image

    def verify(self, path: Path) -> str | None:
        """For check: None when ``path`` is this target's image, else what is wrong."""
        from uktoolchain.errors import UkError

        try:
            self.examine(path)
        except UkError as exc:
            return exc.message
        return None

    # -- running -----------------------------------------------------------------------------------

    def runs_here(self) -> str | None:
        """None when this host can boot the target's images, else why not."""
        host = host_target_arch()
        if self.target.arch != host:
            return f"{self.target.arch} images cannot run on this {host} host"
        return None

    def launch(self, image: Path, args: list[str], devices: Devices, tool_path: str, workdir: Path) -> Launch:
        """The command that boots ``image`` with the unikernel arguments ``args`` here; CannotRunHere
        with the reason otherwise. ``tool_path``: the PATH of the installed toolchain; ``workdir``:
        where files made for the boot (e.g. a raw kernel) may go."""
        raise CannotRunHere(f"{self.target.name} images cannot be booted here: no runner for the "
                            f"{self.target.binding} binding on this host")

    def require_runnable_here(self) -> None:
        """CannotRunHere when this host cannot boot the target's images: another architecture, or a
        run tool missing (with its install command)."""
        why = self.runs_here()
        if why:
            raise CannotRunHere(why, f"run it on an {self.target.arch} machine with the {self.target.name} toolchain")
        self.require_run_tools()

    def require_run_tools(self) -> None:
        """CannotRunHere, with the install command, when a run tool is missing."""
        from uktoolchain.preflight import require_tools

        require_tools(self.run_tools, f"booting {self.target.name} images", CannotRunHere)

    def check_devices(self, image: elf.ElfImage, devices: Devices, path: Path) -> None:
        """Every device the image's manifest declares must be given, and nothing else."""
        from uktoolchain.errors import ConfigError

        declared = image.solo5_devices() or ()
        given = {(kind, name) for kind in ("net", "block") for name in devices.of(kind)}
        wanted = {(d.kind, d.name) for d in declared}
        unknown = [d for d in declared if d.kind not in ("net", "block")]
        if unknown:
            raise ConfigError(f"{path} declares device {unknown[0].name} of {unknown[0].kind}, which no runner attaches")
        if wanted and not set(d.kind for d in declared) <= self.device_kinds:
            kinds = ", ".join(sorted({d.kind for d in declared} - self.device_kinds))
            raise ConfigError(f"{path} declares {kinds} devices ({', '.join(d.name for d in declared)}), "
                              f"which the {self.target.binding} binding cannot attach here",
                              "run it on a target whose binding has them (spt, hvt)")
        missing = sorted(wanted - given)
        if missing:
            options = " ".join(f"--{kind} {name}={'TAP' if kind == 'net' else 'FILE'}" for kind, name in missing)
            raise ConfigError(f"{path} declares {', '.join(f'{kind} device {name}' for kind, name in missing)} "
                              "in its Solo5 manifest, which must be attached", f"give {options}")
        extra = sorted(given - wanted)
        if extra:
            names = ", ".join(f"{kind} device {name}" for kind, name in extra)
            have = ", ".join(f"{d.kind} {d.name}" for d in declared) or "none"
            raise ConfigError(f"{path} declares no {names} in its Solo5 manifest (it declares: {have})",
                              "give only the devices its manifest.json names")

    @staticmethod
    def find_tool(name: str, tool_path: str) -> str | None:
        search = os.pathsep.join(p for p in (tool_path, os.environ.get("PATH", "")) if p)
        import shutil  # here: importing it (with bz2, lzma) costs env ~2 ms, and only a boot looks up tools

        return shutil.which(name, path=search)

    # -- media -------------------------------------------------------------------------------------

    def media(self, unikernel: Path, inputs: MediaInputs) -> MediaPlan:
        """Boot media for ``unikernel`` (already examined), its sources checked, ready to write;
        UsageError when the platform makes none."""
        raise UsageError(f"target {self.target.name} has no board image: `image` makes boot media for boards",
                         "give a board target, e.g. aarch64-rpi4")


def describe(image: elf.ElfImage, abi_names: dict[int, str] | None = None) -> str:
    """e.g. 'x86_64 ELF, Solo5 spt ABI version 2', naming bindings of ``abi_names`` too."""
    abi = image.solo5_abi()
    if abi is None or abi_names is None or abi.target not in abi_names:
        return image.describe()
    return f"{image.machine_name} ELF, Solo5 {abi_names[abi.target]} ABI version {abi.version}"
