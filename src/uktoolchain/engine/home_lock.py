"""One writer per home: a second ``install`` waits (saying so) or, with --no-wait, refuses."""
from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from uktoolchain.errors import HomeLockedError


@contextlib.contextmanager
def home_lock(path: Path, wait: bool, on_wait: Callable[[str], None]) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            if not wait:
                raise HomeLockedError(
                    f"another uktoolchain process (pid {holder}) is using {path.parent}",
                    "wait for it to finish, or rerun without --no-wait to queue behind it",
                ) from None
            on_wait(f"waiting for another uktoolchain process (pid {holder}) using {path.parent} ...")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
