"""uktoolchain image aarch64-rpi4 UNIKERNEL (-o sdcard.img | --boot-dir DIR) [--firmware DIR]"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

from uktoolchain import atomic, rpi4boot, sdimage
from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.cli.outputs import require_existing_directory
from uktoolchain.errors import ConfigError, UnknownTargetError, UsageError, home_error_for_path
from uktoolchain.targets import unknown_target_message

BOARD = "rpi4"
# Boot files are not secrets: readable by all, as files copied from a card are.
BOOT_FILE_MODE = 0o644
BOOT_DIR_MODE = 0o755
VOLUME_LABEL = "RPI4BOOT"


def register(sub) -> None:
    parser = sub.add_parser("image", help="make a bootable SD card image (or boot files) for a Raspberry Pi 4")
    parser.add_argument("target", metavar="TARGET", help="a board target: aarch64-rpi4")
    parser.add_argument("unikernel", type=Path, metavar="UNIKERNEL", help="the unikernel ELF linked with the rpi4 binding")
    add_set_option(parser)
    output = parser.add_mutually_exclusive_group(required=True)
    output.add_argument("-o", "--output", type=Path, metavar="IMAGE",
                        help="write an SD card image (MBR, one FAT32 boot partition)")
    output.add_argument("--boot-dir", type=Path, metavar="DIR",
                        help="write the boot files into DIR instead (e.g. a mounted card's boot partition)")
    parser.add_argument("--firmware", type=Path, metavar="DIR",
                        help="take start4.elf, fixup4.dat (and the device tree, licence) from DIR "
                             "instead of the installed rpi4-firmware")
    parser.set_defaults(run=run)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args) -> int:
    ctx, _ = Context.for_installed(args.ocaml, [args.target], "image")
    target = ctx.catalogue.targets.get(args.target)
    if target is None:
        raise UnknownTargetError(unknown_target_message(args.target, ctx.catalogue.targets))
    if target.board != BOARD:
        raise UsageError(f"image makes Raspberry Pi 4 boot media; target {target.name} has no board image",
                         "give aarch64-rpi4")
    rpi4boot.check_unikernel(args.unikernel)
    if args.output is not None:
        sdimage.find_tools()  # before any work: say what to install
    if args.firmware is not None:
        firmware = rpi4boot.firmware_in(args.firmware.absolute(),
                                        "give a directory holding start4.elf and fixup4.dat to --firmware")
        tool_path = ""
    else:
        firmware, tool_path = rpi4boot.installed_firmware(ctx.home, target.name)
    objcopy = rpi4boot.find_objcopy(tool_path)
    destination = args.output if args.output is not None else args.boot_dir
    _check_writable(destination, is_dir=args.boot_dir is not None)

    with tempfile.TemporaryDirectory(prefix="uktoolchain-image-") as scratch:
        kernel = Path(scratch) / "kernel8.img"
        rpi4boot.write_kernel_image(args.unikernel, kernel, objcopy)
        config = Path(scratch) / "config.txt"
        config.write_text(rpi4boot.CONFIG_TXT)
        files = rpi4boot.boot_files(firmware, kernel, config)
        try:
            if args.output is not None:
                layout = sdimage.write_image(args.output, files, VOLUME_LABEL, _disk_signature(kernel))
                say(f"wrote {args.output}: {layout.image_size >> 20} MiB SD card image, FAT32 boot partition at "
                    f"{layout.partition_start >> 20} MiB ({layout.partition_size >> 20} MiB)")
            else:
                for name, path in files.items():
                    atomic.copy_file(path, args.boot_dir / name, mode=BOOT_FILE_MODE)
                say(f"wrote {len(files)} boot files to {args.boot_dir}")
        except OSError as exc:
            raise home_error_for_path(destination, exc) from exc
    say("  " + "  ".join(files) + f"  (kernel8.img by {os.path.basename(objcopy)})")
    version = ctx.catalogue.versions.get(rpi4boot.FIRMWARE_COMPONENT)
    if version:
        origin = rpi4boot.provenance(firmware, ctx.index.recipe_dir(rpi4boot.FIRMWARE_COMPONENT), version)
        say(f"firmware from {firmware.directory}: {origin}")
    for name in firmware.missing_optional:
        say(f"note: the firmware has no {name}: {_MISSING_NOTES[name]}")
    return 0


_MISSING_NOTES = {
    "bcm2711-rpi-4-b.dtb": "a real Raspberry Pi 4's firmware expects this device tree (QEMU does not need it); "
                           "add it with --firmware DIR or a --source rpi4-firmware directory that has it",
    "LICENCE.broadcom": "the Broadcom licence must accompany copies of the firmware you give to others",
}


def _check_writable(path: Path, is_dir: bool) -> None:
    """Fail before any work when the output cannot be written (the error names the path)."""
    if not is_dir and path.is_dir():
        raise ConfigError(f"output {path} is a directory", "give a file name to -o, or use --boot-dir DIR")
    if not is_dir:
        require_existing_directory(path)
    if is_dir and path.exists() and not path.is_dir():
        raise ConfigError(f"--boot-dir {path} exists and is not a directory", "give a directory")
    try:
        if is_dir:
            _make_boot_dir(path)
        probe = tempfile.NamedTemporaryFile(dir=path if is_dir else path.absolute().parent, prefix=".uktoolchain-probe-")
        probe.close()
    except OSError as exc:
        raise home_error_for_path(path, exc) from exc


def _make_boot_dir(path: Path) -> None:
    """Create --boot-dir and the parents it lacks, each 0755 (an existing one keeps its mode)."""
    missing = []
    for directory in [path, *path.absolute().parents]:
        if directory.exists():
            break
        missing.append(directory)
    path.mkdir(parents=True, exist_ok=True)
    for directory in missing:
        directory.chmod(BOOT_DIR_MODE)


def _disk_signature(kernel: Path) -> int:
    """MBR disk signature and FAT volume id: derived from the unikernel, so equal inputs give
    equal identifiers (and different unikernels different ones)."""
    return int.from_bytes(hashlib.sha256(kernel.read_bytes()).digest()[:4], "little")
