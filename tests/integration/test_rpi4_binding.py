"""The rpi4 Solo5 binding (boards/rpi4) on an emulated Raspberry Pi 4.

The binding and its C test program (boards/rpi4/test/selftest.c) are built with Debian's
aarch64-linux-gnu-gcc through boards/rpi4/Makefile, linked the way the Solo5 cc wrapper links with
`-z solo5-abi=rpi4`, and booted with `qemu-system-aarch64 -M raspi4b`, driven with pexpect. QEMU
enters the ELF at EL3 and the raw kernel8-style image at EL2, so both boot paths run. ci/setup.sh
installs the cross compiler and QEMU 10, so CI runs this on every fresh machine.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pexpect
import pytest

from uktoolchain import doctor

REPO = Path(__file__).resolve().parents[2]
BOARD = REPO / "boards" / "rpi4"
missing = [f"{c.name}: {c.detail}" for c in doctor.run_checks(["make", "aarch64-gcc", "qemu-raspi4b"]) if not c.ok]

pytestmark = pytest.mark.skipif(bool(missing), reason=f"host lacks {missing} (ci/setup.sh installs them)")

# From boards/rpi4/board.h and README.md.
PAGE = 0x1000
APP_STACK = 4 << 20
EXIT_TRAP = 254
EXIT_ABORT = 255
PROGRAM_STATUS = 7  # what selftest.c returns from solo5_app_main
# "RPI4" as a little-endian word, ABI version 1, two reserved words (boards/rpi4/rpi4_abi.h).
ABI_NOTE_DESC = "52 50 49 34 01 00 00 00 00 00 00 00 00 00 00 00"


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rpi4-build")
    made = subprocess.run(["make", "-C", str(BOARD), f"O={out}", "selftest"], capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    return out


class Console:
    """QEMU -M raspi4b on a pty; keeps the whole transcript (CRs dropped) across expect() calls."""

    def __init__(self, kernel: Path, append: str, semihosting: bool = True):
        args = ["-M", "raspi4b", "-kernel", str(kernel), "-nographic", "-no-reboot", "-serial", "stdio",
                "-monitor", "none", "-append", append]
        if semihosting:
            args += ["-semihosting-config", "enable=on,target=native"]
        self.child = pexpect.spawn(shutil.which("qemu-system-aarch64"), args, encoding="utf-8",
                                   codec_errors="replace", timeout=60)
        self.text = ""

    def expect(self, pattern: str) -> re.Match:
        self.child.expect(pattern)
        self.text += (self.child.before + self.child.after).replace("\r", "")
        return self.child.match

    def finish(self) -> int:
        """Waits for QEMU to exit; returns its exit status."""
        self.child.expect(pexpect.EOF)
        self.text += self.child.before.replace("\r", "")
        self.child.close()
        return self.child.exitstatus


def value(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"no match for {pattern!r} in:\n{text}"
    return int(found.group(1), 0)


def test_elf_entered_at_el3_runs_the_program(build):
    qemu = Console(build / "selftest.elf", "--solo5:semihosting hello there")
    qemu.expect(r"rpi4: entered at EL3, running at EL1 with the MMU on")
    qemu.expect(r"rpi4: solo5_yield sleeps with WFI")
    qemu.expect(r"selftest: hello from solo5_app_main")
    qemu.expect(r"selftest: slept ms \d+")
    status = qemu.finish()
    out = qemu.text
    assert status == PROGRAM_STATUS, out
    assert "selftest: cmdline [hello there]\n" in out  # the binding's own option is not passed on

    # Memory: "ARM memory" from the mailbox (QEMU raspi4b: everything below the VideoCore's share at
    # 0x3c000000); the heap runs from the end of the image to a guard page under the 4 MiB stack.
    mem_end = value(r"rpi4: ARM memory 0x0-(0x[0-9a-f]+)", out)
    assert mem_end == 0x3C000000, out
    assert value(r"timer (\d+) Hz", out) > 1_000_000
    heap_start = value(r"selftest: heap_start (0x[0-9a-f]+)", out)
    heap_size = value(r"selftest: heap_size (\d+)", out)
    assert heap_start == value(r"rpi4:   heap   (0x[0-9a-f]+)-", out)
    assert heap_start + heap_size + PAGE + APP_STACK == mem_end
    assert "selftest: heap ok 1\n" in out
    assert "selftest: unaligned and atomic ok 1\n" in out
    assert "selftest: tls ok 1\n" in out

    # Devices: none supported; declared ones fail with EUNSPEC (3), anything else with EINVAL (2).
    assert "the manifest declares network device 'service0'" in out
    for call, result in [("net_acquire(service0)", 3), ("net_acquire(missing)", 2), ("block_acquire(storage0)", 3),
                         ("net_write(0)", 2), ("net_read(0)", 2), ("block_read(0)", 2)]:
        assert f"selftest: {call} = {result}\n" in out, out
    assert "selftest: ready set 0\n" in out

    slept = value(r"selftest: slept ms (\d+)", out)
    assert 100 <= slept < 1000, out
    assert "selftest: done\n" in out and f"rpi4: solo5_exit({PROGRAM_STATUS}) called" in out


def test_raw_image_entered_at_el2(build):
    image = (build / "selftest.img").read_bytes()
    assert image[:64] == elf_text_start(build / "selftest.elf", 64)  # objcopy -O binary starts at _start
    qemu = Console(build / "selftest.img", "--solo5:semihosting")
    qemu.expect(r"rpi4: entered at EL2, running at EL1 with the MMU on")
    qemu.expect(r"selftest: slept ms (\d+)\r*\n")  # the whole number, not its first digits
    assert 100 <= int(qemu.child.match.group(1)) < 1000
    assert qemu.finish() == PROGRAM_STATUS, qemu.text
    assert "selftest: tls ok 1\n" in qemu.text and "selftest: cmdline []\n" in qemu.text


FAULTS = {
    "load": ["data abort (EC 0x25)", "read, translation fault at level 1, address 0x40000000",
             "FAR 0x0000000040000000"],
    "null": ["data abort (EC 0x25)", "address 0x8\n", "(NULL pointer dereference?)"],
    "brk": ["BRK instruction (EC 0x3c), immediate 0x2a"],
    "stack": ["data abort (EC 0x25)", "write, translation fault at level 3",
              "(stack overflow: the address is in the guard page below the 4096 KiB stack)"],
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_exceptions_are_reported(build, fault):
    qemu = Console(build / "selftest.elf", f"--solo5:semihosting fault={fault}")
    qemu.expect(f"selftest: triggering {fault}")
    qemu.expect(r"rpi4: FATAL: synchronous exception taken from EL1, application stack \(SP_EL0\)")
    assert qemu.finish() == EXIT_TRAP, qemu.text
    for phrase in FAULTS[fault] + ["ESR 0x", "ELR 0x", f"rpi4: exit status {EXIT_TRAP} (trap)"]:
        assert phrase in qemu.text, qemu.text
    assert "selftest: unknown fault" not in qemu.text


def test_abort_and_quiet(build):
    qemu = Console(build / "selftest.elf", "--solo5:quiet --solo5:semihosting abort")
    qemu.expect(r"rpi4: solo5_abort\(\) called")
    assert qemu.finish() == EXIT_ABORT, qemu.text
    assert "rpi4: uktoolchain Solo5 binding" not in qemu.text  # --solo5:quiet: errors only
    assert "selftest: cmdline [abort]\n" in qemu.text


def test_watchdog_ends_qemu_without_semihosting(build):
    qemu = Console(build / "selftest.img", "", semihosting=False)
    qemu.expect(f"rpi4: solo5_exit\\({PROGRAM_STATUS}\\) called")
    assert qemu.finish() == 0, qemu.text  # watchdog reset + -no-reboot: QEMU's status is 0


def test_semihosting_asked_for_but_not_enabled(build):
    qemu = Console(build / "selftest.elf", "--solo5:semihosting", semihosting=False)
    qemu.expect(f"semihosting is not enabled .*; halting, exit status {PROGRAM_STATUS} lost")
    assert qemu.finish() == 0, qemu.text


def test_binding_object_and_abi_note(build):
    symbols = subprocess.run(["aarch64-linux-gnu-nm", str(build / "solo5_rpi4.o")], capture_output=True,
                             text=True, check=True).stdout
    exported = {line.split()[-1] for line in symbols.splitlines() if re.match(r"\S+ [A-Z] ", line)}
    allowed = {"_start", "__stack_chk_guard", "__stack_chk_fail"}
    assert exported and all(name in allowed or name.startswith("solo5_") for name in exported), exported
    for needed in ["_start", "solo5_console_write", "solo5_yield", "solo5_clock_monotonic", "solo5_clock_wall",
                   "solo5_exit", "solo5_abort", "solo5_set_tls_base", "solo5_tls_init", "solo5_net_acquire",
                   "solo5_block_acquire"]:
        assert needed in exported, needed

    elf = subprocess.run(["aarch64-linux-gnu-readelf", "-h", "-n", "-W", str(build / "selftest.elf")],
                         capture_output=True, text=True, check=True).stdout
    assert re.search(r"Machine:\s+AArch64", elf) and re.search(r"Entry point address:\s+0x80000\b", elf), elf
    abi = re.search(r"Displaying notes found in: \.note\.solo5\.abi\n.*\n\s+Solo5\s+0x00000010\s+Unknown note type: "
                    r"\(0x31494241\)\s+description data: ([0-9a-f ]+)", elf)
    assert abi and abi.group(1).strip() == ABI_NOTE_DESC, elf


def elf_text_start(elf: Path, size: int) -> bytes:
    dumped = subprocess.run(["aarch64-linux-gnu-objcopy", "-O", "binary", "-j", ".text", str(elf), "/dev/stdout"],
                            capture_output=True, check=True).stdout
    return dumped[:size]
