"""One pool of job slots for every build of an install: GNU make's jobserver, shared.

Builds run side by side (ocaml-solo5 for x86_64 and for aarch64); each running make with
``-j<cores>`` would oversubscribe the cores, and a fixed ``-j<cores / builds>`` leaves cores idle
once one build is done. Instead the pool holds one token per core, in a FIFO. The scheduler takes a
token for each build it starts (the build's own slot, held until it ends); the build's make joins
the pool as a jobserver client (``MAKEFLAGS=-j --jobserver-fds=R,W``, the FIFO opened on R and W;
see ukbase's ``uk_make``) and takes a token for each job beyond its first. So the builds together
run at most one job per core, and whatever a build leaves free another one takes.
"""
from __future__ import annotations

import errno
import os
import select
import shutil
import tempfile
import threading
from pathlib import Path

TOKEN = b"+"
CONF = "user.uktoolchain:jobserver"  # the FIFO's path, as builds are told


class JobServer:
    def __init__(self, slots: int):
        self.slots = max(1, slots)
        self._directory = Path(tempfile.mkdtemp(prefix="uktoolchain-jobs-"))  # 0700: ours only
        self.path = self._directory / "slots"
        os.mkfifo(self.path, 0o600)
        # Read and write ends in one descriptor: the FIFO (and its tokens) lives while we hold it.
        self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        os.write(self._fd, TOKEN * self.slots)
        self._lock = threading.Lock()

    @classmethod
    def create(cls, slots: int) -> "JobServer | None":
        """A pool, or None where FIFOs cannot be made (builds then use -j<cores> each)."""
        try:
            return cls(slots)
        except OSError:
            return None

    def acquire(self, cancelled: threading.Event) -> bool:
        """Take one slot, waiting for a build's make to give one back; False if cancelled first."""
        while not cancelled.is_set():
            readable, _, _ = select.select([self._fd], [], [], 0.2)
            if readable:
                with self._lock:  # several job threads wait on the same descriptor
                    try:
                        if os.read(self._fd, 1):
                            return True
                    except OSError as exc:
                        if exc.errno != errno.EAGAIN:
                            raise
        return False

    def release(self) -> None:
        os.write(self._fd, TOKEN)

    def close(self) -> None:
        os.close(self._fd)
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> "JobServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
