"""Real ELF files for the image tests, compiled here with the cross and host compilers.

An rpi4 "unikernel" is a tiny freestanding aarch64 program linked at 0x80000 with a Solo5 ABI1
note: core 0 prints a line on the PL011 UART (0xFE201000, QEMU raspi4b's first serial) and exits
with status 7 through semihosting; cores 1-3 wait forever. Other samples differ in machine, ABI
note or load address, for the bad-input tests.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

GREETING = "hello from kernel8.img"
EXIT_STATUS = 7
RPI4 = 0x34495052
HVT, SPT = 1, 2

AARCH64_PROGRAM = f"""\
    .section .text.boot, "ax"
    .globl _start
_start:
    mrs x0, mpidr_el1
    and x0, x0, #3
    cbnz x0, park
    ldr x1, =0xFE201000
    adr x2, message
1:  ldrb w3, [x2], #1
    cbz w3, 2f
    str w3, [x1]
    b 1b
2:  adr x1, exit_block
    mov w0, #0x18           // semihosting SYS_EXIT: x1 -> {{reason, status}}
    hlt #0xf000
park:
    wfe
    b park
    .p2align 3
exit_block:
    .quad 0x20026           // ADP_Stopped_ApplicationExit
    .quad {EXIT_STATUS}
message:
    .asciz "{GREETING}\\r\\n"
"""

X86_64_PROGRAM = """\
    .text
    .globl _start
_start:
    hlt
"""

# Solo5's ABI1 note layout: namesz, descsz, type "ABI1", "Solo5\\0" padded to 8, then the desc.
NOTE = """\
    .section .note.solo5.abi, "a"
    .p2align 2
    .long 6, 16, 0x31494241
    .asciz "Solo5"
    .p2align 2
    .long {target:#x}, {version}, 0, 0
"""

LINKER_SCRIPT = """\
ENTRY(_start)
SECTIONS {{
  . = {address:#x};
  .text : {{ *(.text.boot) *(.text*) }}
  .rodata : {{ *(.rodata*) }}
  .note.solo5.abi : {{ *(.note.solo5.abi) }}
  /DISCARD/ : {{ *(.note.gnu.*) *(.comment) }}
}}
"""

COMPILERS = {"aarch64": "aarch64-linux-gnu-gcc", "x86_64": "gcc"}


def manifest_note(devices: list[tuple[str, str]]) -> str:
    """A Solo5 MFT1 manifest note (Solo5's include/mft_abi.h, LP64) declaring ``devices``
    ((name, "block" | "net"), in order) after the reserved first entry: 4 bytes of padding to
    the 8-byte alignment of struct mft, {version, entries}, then 104-byte entries {name[68],
    type, u (16), b (8), attached (1) + padding}."""
    types = {"block": 1, "net": 2}
    entries = [("", 1 << 30)] + [(name, types[kind]) for name, kind in devices]
    lines = ['    .section .note.solo5.manifest, "a"', "    .p2align 3",
             f"    .long 6, {4 + 8 + 104 * len(entries)}, 0x3154464d", '    .asciz "Solo5"', "    .p2align 2",
             "    .long 0", f"    .long 1, {len(entries)}"]
    for name, kind in entries:
        lines += [f'    .ascii "{name}"', f"    .zero {68 - len(name)}", f"    .long {kind:#x}", "    .zero 32"]
    return "\n".join(lines) + "\n"


def build(directory: Path, name: str, arch: str = "aarch64", abi: tuple[int, int] | None = (RPI4, 1),
          address: int = 0x80000, extra: str = "") -> Path:
    """Compile and link one sample ELF; ``abi`` is (abi_target, abi_version) or None for no note;
    ``extra``: more assembly (e.g. a manifest_note)."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / f"{name}.S"
    program = AARCH64_PROGRAM if arch == "aarch64" else X86_64_PROGRAM
    source.write_text(program + (NOTE.format(target=abi[0], version=abi[1]) if abi else "") + extra)
    script = directory / f"{name}.lds"
    script.write_text(LINKER_SCRIPT.format(address=address))
    output = directory / name
    compiler = shutil.which(COMPILERS[arch])
    assert compiler, f"{COMPILERS[arch]} is missing: ci/setup.sh installs it"
    subprocess.run([compiler, "-nostdlib", "-ffreestanding", "-static", "-no-pie", "-Wl,--build-id=none",
                    "-T", str(script), "-o", str(output), str(source)], check=True, capture_output=True)
    return output
