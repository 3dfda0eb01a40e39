"""uktoolchain image TARGET UNIKERNEL (-o sdcard.img | --boot-dir DIR) [--firmware DIR]"""
from __future__ import annotations

from pathlib import Path

from uktoolchain import bootmedia
from uktoolchain.cli.context import Context, add_set_option
from uktoolchain.console import say
from uktoolchain.platforms.base import MediaInputs


def register(sub) -> None:
    parser = sub.add_parser("image", help="make a bootable SD card image (or boot files) for a Raspberry Pi 4")
    parser.add_argument("target", metavar="TARGET", help="a board target: aarch64-rpi4")
    parser.add_argument("unikernel", type=Path, metavar="UNIKERNEL", help="the unikernel ELF linked with the board's binding")
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


def run(args) -> int:
    ctx, _ = Context.for_installed(args.ocaml, [args.target], "image")
    [target] = ctx.catalogue.resolve([args.target])
    inputs = MediaInputs(ctx.home, ctx.index, ctx.catalogue.versions, args.firmware)
    bootmedia.make(target, args.unikernel, bootmedia.Output(args.output, args.boot_dir), inputs, ctx.catalogue, say)
    return 0
