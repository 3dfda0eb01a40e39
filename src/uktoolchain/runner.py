"""``uktoolchain run``: boot a user's unikernel the way ``check`` boots its own, and hand back the
unikernel's exit status.

Before anything starts, the image is read (ELF header, Solo5 ABI note, manifest): an image of
another architecture or binding is refused with what it is and how to link for the target, and
every device its manifest declares must be given a host resource. The target's platform then
says what boots it here (solo5-spt, solo5-hvt, QEMU) and how the status comes back: as the
runner's own (tenders, QEMU semihosting), or on the console (virtio under QEMU), which is passed
through as it comes while being read.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from uktoolchain.errors import ImageMismatchError, UkError
from uktoolchain.platforms import platform_of
from uktoolchain.platforms.base import PROCESS, Devices, Launch
from uktoolchain.targets import Target

__all__ = ["Devices", "ExitStatusUnknownError", "execute", "prepare", "prepare_installed"]

# What Solo5's bindings print as they end (bindings/exit.c); solo5_abort ends with SOLO5_EXIT_ABORT.
EXIT_LINE = re.compile(rb"Solo5: solo5_exit\((-?\d+)\) called")
ABORT_LINE = re.compile(rb"Solo5: solo5_abort\(\) called")
SOLO5_EXIT_ABORT = 255


class ExitStatusUnknownError(UkError):
    """The unikernel ended without showing its exit status (a console runner, a quiet binding)."""

    exit_code = 8


def prepare_installed(ctx, target: Target, image: Path, args: list[str], devices: Devices,
                      workdir: Path) -> tuple[Launch, dict[str, str]]:
    """``prepare`` with the tools of the installed target (a tender comes with its toolchain: then
    the target must be installed; QEMU comes from the host). The image is checked first, so an
    image for another target is refused whether or not this one is installed."""
    from uktoolchain import installed, platforms
    from uktoolchain.engine import state
    from uktoolchain.exporters import environment

    platform = platform_of(target)
    abi_names = platforms.abi_names(ctx.catalogue.targets.values())
    try:
        elf_image = platform.examine(image, abi_names=abi_names)
    except ImageMismatchError as exc:
        fits = [t.name for t in ctx.catalogue.targets.values()
                if t.available and platform_of(t).unikernel and image.is_file() and platform_of(t).verify(image) is None]
        if fits:
            exc.hint = f"{exc.hint}; or run it as {fits[0]}: uktoolchain run {fits[0]} {image}"
        raise
    platform.check_devices(elf_image, devices, image)
    env = dict(os.environ)
    if platform.runner_in_toolchain or state.read_present(ctx.home, target.name) is not None:
        env = environment.resolve(installed.environment_of(ctx, [target.name]), os.environ)
    return prepare(target, image, args, devices, env.get("PATH", ""), workdir, abi_names), env


def prepare(target: Target, image: Path, args: list[str], devices: Devices, tool_path: str, workdir: Path,
            abi_names: dict[int, str] | None = None) -> Launch:
    """Check ``image`` against ``target`` and the devices given; the command that boots it here."""
    platform = platform_of(target)
    elf_image = platform.examine(image, abi_names=abi_names)
    platform.check_devices(elf_image, devices, image)
    return platform.launch(image.absolute(), args, devices, tool_path, workdir)


def execute(launch: Launch, env: dict[str, str]) -> int:
    """Boot, with the console on our stdin/stdout; the unikernel's exit status."""
    if launch.status == PROCESS:
        process = subprocess.Popen(launch.command, env=env)
        return _status(_wait(process))
    return _run_reading_console(launch, env)


def _run_reading_console(launch: Launch, env: dict[str, str]) -> int:
    process = subprocess.Popen(launch.command, env=env, stdout=subprocess.PIPE)
    tail = b""
    status = None
    out = sys.stdout.buffer
    while True:
        chunk = os.read(process.stdout.fileno(), 65536)
        if not chunk:
            break
        out.write(chunk)
        out.flush()
        tail = (tail + chunk)[-256:]  # a status line may arrive in two chunks
        found = EXIT_LINE.search(tail)
        if found:
            status = int(found.group(1)) & 0xFF
            tail = tail[found.end():]
        elif ABORT_LINE.search(tail):
            status = SOLO5_EXIT_ABORT
            tail = b""
    runner_status = _wait(process)
    if status is None:
        raise ExitStatusUnknownError(
            f"the unikernel ended without showing its exit status ({launch.runner} ended with status "
            f"{_status(runner_status)}, and the console has no 'Solo5: solo5_exit(N) called')",
            "the binding prints it unless told to be quiet: leave out --solo5:quiet")
    return status


def _wait(process: subprocess.Popen) -> int:
    """Wait for the runner; Ctrl-C reaches it too (same process group), so wait for it to end."""
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.send_signal(signal.SIGINT)


def _status(returncode: int) -> int:
    """A process's status as a shell reports it (128 + N for a signal)."""
    return 128 - returncode if returncode < 0 else returncode
