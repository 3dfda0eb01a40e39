"""Running cargo for a unikernel target: its environment, the static libraries it produced, and,
when a build fails for a reason of the target (the crate needs std, or a panic handler or
allocator is missing), what to write instead."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from uktoolchain.errors import CargoFailedError, home_error_for_path

# cargo/rustc messages -> what the target needs instead (checked in this order).
_HINTS = (
    (re.compile(r"can't find crate for `std`|crate `std` required"),
     "{target} is a #![no_std] target: its sysroot has core, alloc, compiler_builtins, uk_alloc and "
     "uk_panic, not std. Write #![no_std] (extern crate alloc for Vec/String), and take dependencies "
     "without their std feature (default-features = false)"),
    (re.compile(r"`#\[panic_handler\]` function required"),
     "add `extern crate uk_panic;` (a panic aborts the unikernel) or define your own #[panic_handler]"),
    (re.compile(r"no global memory allocator found|`#\[alloc_error_handler\]` function required"),
     "add `extern crate uk_alloc;` (Rust then allocates with the unikernel's malloc)"),
)


def run_cargo(target: str, env: dict[str, str], cargo_args: list[str], out: Path | None,
              say: Callable[[str], None]) -> None:
    """cargo ``cargo_args`` in ``env`` (the target's resolved environment, with CARGO and
    CARGO_BUILD_TARGET); with ``out``, the static libraries built are copied there."""
    # With out, read cargo's JSON messages for the files it produced (the rendered human
    # diagnostics still go to stderr).
    collect = out is not None and not any(a.startswith("--message-format") for a in cargo_args)
    command = [env["CARGO"], cargo_args[0]] + (["--message-format=json-render-diagnostics"] if collect else []) \
        + cargo_args[1:]
    status, stderr_text, produced = _run(command, env, collect)
    rust_target = Path(env["CARGO_BUILD_TARGET"]).stem
    if status != 0:
        hint = next((h.format(target=rust_target) for pattern, h in _HINTS if pattern.search(stderr_text)), None)
        raise CargoFailedError(f"cargo {cargo_args[0]} for {target} ({rust_target}) failed (exit status {status})",
                               hint)
    if out is None:
        return
    archives = [p for p in produced if p.suffix == ".a"]
    if not archives:
        raise CargoFailedError("cargo produced no static library to copy",
                               'give the crate [lib] crate-type = ["staticlib"] and run `build`')
    try:
        out.mkdir(parents=True, exist_ok=True)
        for archive in archives:
            shutil.copy2(archive, out / archive.name)
            say(f"uktoolchain: {archive.name} -> {out}")
    except OSError as exc:
        raise home_error_for_path(out, exc) from exc


def _run(command: list[str], env: dict[str, str], collect: bool) -> tuple[int, str, list[Path]]:
    """Run cargo passing its output through; (status, its stderr, files of compiler artifacts)."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE if collect else None,
                               stderr=subprocess.PIPE, text=True, errors="replace")
    seen: list[str] = []

    def tee() -> None:
        for line in process.stderr:  # type: ignore[union-attr]
            sys.stderr.write(line)
            seen.append(line)

    reader = threading.Thread(target=tee, daemon=True)
    reader.start()
    produced: list[Path] = []
    if collect:
        for line in process.stdout:  # type: ignore[union-attr]
            try:
                message = json.loads(line)
            except ValueError:
                sys.stdout.write(line)
                continue
            if message.get("reason") == "compiler-artifact":
                produced += [Path(f) for f in message.get("filenames", ())]
    status = process.wait()
    reader.join()
    return status, "".join(seen), produced
