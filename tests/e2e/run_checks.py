"""What ``uktoolchain run`` must do with real hello unikernels (src/uktoolchain/data/hello, built
by dune for each target), shared by test_run_installed.py (an installed home given) and
test_unikernel_targets.py (the home it builds)."""
from __future__ import annotations

from pathlib import Path

from uktoolchain import doctor

GREETING = "Hello from OCaml on Solo5!"
EXIT_STATUS = 7  # hello.ml ends with `exit 7`
BANNER = "Solo5: Bindings version"  # what a Solo5 binding prints first unless --solo5:quiet


def image(build: Path, target: str) -> Path:
    return build / "_build" / target / "hello.exe"


def run_spt(uk, build: Path) -> None:
    """spt boots under solo5-spt and run ends with the unikernel's status; the arguments after
    the image reach the unikernel (the binding reads --solo5:quiet from its command line)."""
    booted = uk("run", "spt", str(image(build, "spt")), timeout=120)
    assert booted.returncode == EXIT_STATUS, booted.stdout + booted.stderr
    assert GREETING in booted.stdout and BANNER in booted.stdout and "solo5_exit(7)" in booted.stdout
    quiet = uk("run", "spt", str(image(build, "spt")), "--", "--solo5:quiet", timeout=120)
    assert quiet.returncode == EXIT_STATUS, quiet.stdout + quiet.stderr
    assert GREETING in quiet.stdout and BANNER not in quiet.stdout, quiet.stdout


def run_virtio(uk, build: Path) -> None:
    """virtio boots under QEMU, which ends with a status of its own: run's is the unikernel's,
    read from the console; told to be quiet, the binding shows none and run says so (exit 8)."""
    if not doctor.run_checks(["qemu-x86"])[0].ok:
        return
    booted = uk("run", "virtio", str(image(build, "virtio")), timeout=300)
    assert booted.returncode == EXIT_STATUS, booted.stdout + booted.stderr
    assert GREETING in booted.stdout
    quiet = uk("run", "virtio", str(image(build, "virtio")), "--solo5:quiet", timeout=300)
    assert quiet.returncode == 8 and "without showing its exit status" in quiet.stderr, quiet.stdout + quiet.stderr
    assert GREETING in quiet.stdout


def run_rpi4(uk, build: Path) -> None:
    """aarch64-rpi4 boots under QEMU raspi4b (kernel8.img by the target's objcopy), its status
    passed on by semihosting."""
    booted = uk("run", "aarch64-rpi4", str(image(build, "aarch64-rpi4")), timeout=300)
    assert booted.returncode == EXIT_STATUS, booted.stdout + booted.stderr
    assert GREETING in booted.stdout and "solo5_exit(7)" in booted.stdout


def refuse_other_binding(uk, build: Path, given: str, target: str) -> None:
    """A real image for ``given`` run as ``target``: exit 3, nothing booted."""
    refused = uk("run", target, str(image(build, given)), timeout=60)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert f"Solo5 {given} ABI" in refused.stderr and f"-z solo5-abi={target}" in refused.stderr, refused.stderr
    assert refused.stdout == ""  # nothing booted


BLOCK_MANIFEST = '{"type": "solo5.manifest", "version": 1, "devices": [{"name": "storage", "type": "BLOCK_BASIC"}]}\n'


def run_with_a_block_device(uk, project: Path, disk: Path) -> None:
    """A hello whose manifest.json declares block device `storage` (``project``: built for spt
    and virtio): refused until the device is given, then attached by solo5-spt (which refuses to
    start a unikernel whose manifest device is not attached) and by QEMU as a virtio-blk device."""
    spt, virtio = image(project, "spt"), image(project, "virtio")
    refused = uk("run", "spt", str(spt), timeout=60)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "declares block device storage" in refused.stderr and "--block storage=FILE" in refused.stderr
    assert refused.stdout == ""
    booted = uk("run", "--block", f"storage={disk}", "spt", str(spt), timeout=120)
    assert booted.returncode == EXIT_STATUS and GREETING in booted.stdout, booted.stdout + booted.stderr
    if doctor.run_checks(["qemu-x86"])[0].ok:
        booted = uk("run", "--block", f"storage={disk}", "virtio", str(virtio), timeout=300)
        assert booted.returncode == EXIT_STATUS, booted.stdout + booted.stderr
        sectors = disk.stat().st_size // 512
        assert "virtio-block device" in booted.stdout and f"capacity={sectors} sectors" in booted.stdout, booted.stdout
