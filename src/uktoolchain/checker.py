"""``uktoolchain check``: prove installed targets by building and booting a real unikernel.

The bundled hello project (an OCaml program, a dune library with a C stub, and a plain C library
built by CMake with the target's rendered toolchain file, linked as a foreign archive) is built for every
requested target with one ``dune build`` through a generated dune-workspace. Each image is verified
and booted by its target's platform (uktoolchain.platforms) where this host can: spt under
solo5-spt, virtio under QEMU's software emulation, hvt under solo5-hvt when KVM can run it,
aarch64-rpi4 under QEMU's raspi4b. The CMake-built library is checked
first like ``verify-objects`` does (machine, no glibc references). A target that cannot boot here is
reported as "linked and verified, not booted" with the reason, never as passed or failed.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from uktoolchain import objcheck
from uktoolchain.errors import CheckFailedError, UkError
from uktoolchain.exporters import environment, workspace
from uktoolchain.platforms import platform_of
from uktoolchain.platforms.base import NO_DEVICES, PROCESS, CannotRunHere, Launch
from uktoolchain.targets import Target

HELLO = Path(__file__).resolve().parent / "data" / "hello"
# Laid over HELLO when every checked target has a Rust sysroot (install --with rust).
HELLO_RUST = HELLO.parent / "hello-rust"
# What the hello unikernel prints, in order. The Adler-32 value is computed independently (zlib's
# adler32(b"uktoolchain")); the unikernel also compares the C result with its own OCaml one.
EXPECTED = [
    "Hello from OCaml on Solo5!",
    "<compiler>",  # the compiler's line (compiler_line)
    r"C stub: 2\.5 \* 4 = 10",
    r"CMake C library: norm\(3, 4\) = 5\s",
    r'CMake C library: adler32 "uktoolchain" = 1c4f04a2 \(matches OCaml\)',
    r"slept 100 ms: (\d+\.\d) ms by the monotonic clock",
    "allocated 4096 KiB and collected",
]
# With Rust: zlib's crc32(b"uktoolchain"), also compared with OCaml's in the unikernel, and a float
# computed in Rust from floats passed by OCaml through C.
EXPECTED_RUST = [
    r'Rust: crc32 "uktoolchain" = 1c998cee \(matches OCaml\)',
    r"Rust: 2\.5 \* 4\.25 \+ 0\.5 = 11\.125\s",
]


# What the compiler proves of itself (data/hello/compiler): its version and, from OCaml 5.4 on, a
# result of a standard library function that 5.3 lacks.
FEATURES = {(5, 4): r': String\.edit_distance "kitten" "sitting" = 3'}


def compiler_line(ocaml: str | None) -> str:
    if ocaml is None:  # a catalogue without an OCaml component (tests): any version
        return r"OCaml \d+\.\d+\S*.*\r*\n"
    release = tuple(int(p) for p in ocaml.split(".")[:2])
    feature = next((pattern for since, pattern in sorted(FEATURES.items(), reverse=True) if release >= since), "")
    return rf"OCaml {re.escape(ocaml)}{feature}\r*\n"  # consoles end lines with LF, CR LF or CR CR LF


def expected_output(rust: bool, ocaml: str | None) -> list[str]:
    lines = [compiler_line(ocaml) if line == "<compiler>" else line for line in EXPECTED]
    if not rust:
        return lines
    at = lines.index(r"slept 100 ms: (\d+\.\d) ms by the monotonic clock")
    return lines[:at] + EXPECTED_RUST + lines[at:]
SLEEP_RANGE = (100.0, 1000.0)  # ms: a sleep shorter than asked, or 10 times longer, is a fault
EXIT_STATUS = 7  # hello.ml ends with `exit 7`: the tender must pass it through
KVM_SSE_FAILURE = "KVM: internal error"
BOOT_TIMEOUT = 120


@dataclass(frozen=True)
class Outcome:
    target: str
    status: str  # "booted" | "linked" (verified, not booted) | "failed"
    detail: str


def build(project: Path, targets: list[Target], env: dict[str, str], rust: bool = False) -> None:
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(HELLO, project)
    if rust:
        shutil.copytree(HELLO_RUST, project, dirs_exist_ok=True)
    workspace.write(project / "dune-workspace", targets)
    # --cache=disabled: a proof builds for real, not from dune's shared cache.
    result = subprocess.run(["dune", "build", "--root", str(project), "--cache=disabled"], cwd=project, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-30:]
        # A CMake build that ignored the toolchain file shows up as a cryptic link error: say why.
        tail += [f"{t.name}: {p}" for t in targets if (p := library_problem(project, t))]
        raise CheckFailedError("dune build of the hello unikernel failed:\n  " + "\n  ".join(tail),
                               f"the project is kept in {project}")


def library_problem(project: Path, target: Target) -> str | None:
    """What ``verify-objects`` says of the CMake-built library, if it was built and is not fit."""
    library = project / "_build" / target.name / "ukcalc" / "libukcalc.a"
    if not library.is_file():
        return None
    try:
        objcheck.require_fit(objcheck.examine([library], target))
    except UkError as exc:
        return str(exc)
    return None


def image_of(project: Path, target: Target) -> Path:
    return project / "_build" / target.name / "hello.exe"


def boot_launch(image: Path, target: Target, tool_path: str = "") -> tuple[Launch | None, str]:
    """How ``image`` boots here (its platform's runner), or None and why not."""
    platform = platform_of(target)
    try:
        return platform.launch(image, [], NO_DEVICES, tool_path, image.parent), ""
    except CannotRunHere as exc:
        return None, str(exc)


def boot(launch: Launch, env: dict[str, str], expected: list[str]) -> tuple[bool, str]:
    """Run a unikernel under pexpect; (passed, what to report)."""
    import pexpect

    command = launch.command
    child = pexpect.spawn(command[0], command[1:], env=env, encoding="utf-8", timeout=BOOT_TIMEOUT,
                          codec_errors="replace")
    transcript = []
    sleeps: list[float] = []
    try:
        for pattern in expected:
            index = child.expect([pattern, KVM_SSE_FAILURE, pexpect.EOF])
            transcript.append(child.before + (child.after if isinstance(child.after, str) else ""))
            if index == 0 and "slept" in pattern:
                measured = float(child.match.group(1))
                if not SLEEP_RANGE[0] <= measured < SLEEP_RANGE[1]:
                    child.terminate(force=True)
                    return False, _console("".join(transcript), None, None) + (
                        f" (a 100 ms sleep measured {measured} ms)")
                sleeps.append(measured)
            if index != 0:
                child.expect(pexpect.EOF)
                transcript.append(child.before)
                child.close()
                output = "".join(transcript)
                if index == 1 or KVM_SSE_FAILURE in output:
                    return False, "KVM"
                return False, _console(output, child.exitstatus, child.signalstatus)
        child.expect(pexpect.EOF)
        transcript.append(child.before)
    except pexpect.TIMEOUT:
        child.terminate(force=True)
        return False, _console("".join(transcript) + (child.before or ""), None, None) + f" (no output for {BOOT_TIMEOUT} s)"
    child.close()
    output = "".join(transcript)
    # Tenders and semihosting pass the guest's status on; QEMU x86 ends with its own (0 on guest
    # exit with -no-reboot), and the virtio binding prints the guest's on the console instead.
    if launch.status == PROCESS:
        if child.exitstatus != EXIT_STATUS:
            return False, _console(output, child.exitstatus, child.signalstatus)
        status = f"exit status {child.exitstatus}"
    else:
        if f"solo5_exit({EXIT_STATUS}) called" not in output:
            return False, _console(output, child.exitstatus, child.signalstatus) + f" (no solo5_exit({EXIT_STATUS}))"
        status = f"solo5_exit({EXIT_STATUS}) on the console"
    rust = ", Rust" if any(p.startswith("Rust") for p in expected) else ""
    return True, (f"booted: greeting, compiler, C stub, CMake library{rust} results, 100 ms sleep ({sleeps[0]} ms), "
                  f"GC run seen; {status}")


def _console(output: str, status, signal) -> str:
    lines = output.strip().splitlines()[-20:]
    ended = (f"exit status {status}" if status is not None else f"signal {signal}" if signal is not None
             else "stopped by check")
    return "unikernel misbehaved (" + ended + "); console:\n    " + "\n    ".join(lines)


def check(targets: list[Target], values: dict[str, str], project: Path, ocaml: str | None,
          rust: bool = False) -> list[Outcome]:
    env = environment.resolve(values, os.environ)
    build(project, targets, env, rust)
    outcomes = []
    for target in targets:
        image = image_of(project, target)
        problem = library_problem(project, target) or (
            f"{image} was not built" if not image.is_file() else platform_of(target).verify(image))
        if problem:
            outcomes.append(Outcome(target.name, "failed", problem))
            continue
        launch, reason = boot_launch(image, target, env.get("PATH", ""))
        if launch is None:
            outcomes.append(Outcome(target.name, "linked", f"linked and ABI verified, not booted: {reason}"))
            continue
        passed, detail = boot(launch, env, expected_output(rust, ocaml))
        if passed:
            outcomes.append(Outcome(target.name, "booted", detail))
        elif detail == "KVM":
            outcomes.append(Outcome(target.name, "linked",
                                    "linked and verified, not booted: KVM cannot run SSE guests on this host"))
        else:
            outcomes.append(Outcome(target.name, "failed", detail))
    return outcomes
