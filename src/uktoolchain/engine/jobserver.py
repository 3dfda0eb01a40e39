"""One pool of job slots for every build of an install: GNU make's jobserver, shared.

Builds run side by side (ocaml-solo5 for x86_64 and for aarch64). Each running make with
``-j<cores>`` oversubscribes the cores (two builds: twice as many jobs as cores), and a fixed
``-j<cores / builds>`` leaves cores idle once one build is done or waits. Instead one pool, a FIFO
holding cores - 1 tokens, is shared by the makes of every build (ukbase's ``uk_make``: make, or
cargo, as a jobserver client with ``MAKEFLAGS=-j --jobserver-fds=R,W`` and the FIFO opened on R
and W). As GNU make does for its sub-makes, each build runs its first job without a token and
takes one for each further job: a build alone uses every core, and builds side by side run at
most cores - 1 jobs plus one per build (3 on 2 cores with two builds), never a core's worth of
jobs each.

Measured (bench/cold_install.py, hvt aarch64-rpi4 from a home with the host OCaml, 2 cores, a
quiet machine, on an earlier machine and graph): with this pool the cross part of the install took
1.044x its CPU time / cores; with a pool of cores tokens where each build also held one for its
whole run (no oversubscription at all), 1.147x: a build's own slot then sat unused whenever it was
copying, configuring or linking, while the other build could not take it.

Builds off the critical path (engine/critical_path.py) run at idle priority with a pool of their
own: sharing the builds' pool, a starved filler's make would hold tokens the critical build needs.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

TOKEN = b"+"
CONF = "user.uktoolchain:jobserver"  # the FIFO's path, as builds are told


class JobServer:
    def __init__(self, tokens: int):
        self.tokens = max(0, tokens)
        self._directory = Path(tempfile.mkdtemp(prefix="uktoolchain-jobs-"))  # 0700: ours only
        self.path = self._directory / "slots"
        os.mkfifo(self.path, 0o600)
        # Read and write ends in one descriptor: the FIFO (and its tokens) lives while we hold it.
        self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        if self.tokens:
            os.write(self._fd, TOKEN * self.tokens)

    @classmethod
    def for_cores(cls, cores: int) -> "JobServer | None":
        """The pool for this many cores, or None where FIFOs cannot be made (builds then use
        -j<cores> each, as without uktoolchain)."""
        try:
            return cls(cores - 1)
        except OSError:
            return None

    def close(self) -> None:
        os.close(self._fd)
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> "JobServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
