"""Fillers run only while the other builds leave a core idle: stopped while they keep all busy.

Idle priority (SCHED_IDLE) alone does not do that for a make of short compiler jobs, such as the
host OCaml compiler's build. On the 2-core VM of issue 12, a `make -j2` of 120 small gcc compiles
took 3.8-4.0 s beside a SCHED_IDLE CPU burner, 2.1 s alone, and 2.0-2.4 s beside the same burner
held by this gate. It seems that Linux places a new process by the CPUs' load and does not count
a CPU that runs only an idle-policy task as free: the build's short jobs queued on one CPU while
the filler kept the other.

So a thread looks every TICK seconds at how many processes are runnable outside the fillers.
When they are at least as many as the cores, every filler's process group is stopped (SIGSTOP),
again at each look, as a filler's Conan may have started a process since; once they have been
fewer for RESUME_AFTER looks in a row, the fillers go on (SIGCONT). A filler's group leader,
Conan, is continued at once: it mostly waits for its make then (its own CPU time is about a
twelfth of a filler's), and it must never be held while it uses its cache's database, which the
other builds use too. Runnable processes are counted in /proc: Linux only; elsewhere there is no
gate.
"""
from __future__ import annotations

import os
import signal
import threading

from uktoolchain.engine.processes import processes

TICK = 0.1  # seconds between looks: reading /proc costs about 1 ms of CPU per look
RESUME_AFTER = 2  # a make between two jobs has one runnable process for a moment: not a free core


class FillerGate:
    def __init__(self, cores: int, tick: float = TICK):
        self.cores = max(1, cores)
        self.tick = tick
        self._groups: set[int] = set()  # the fillers' process groups (their leaders' pids)
        self._paused = False
        self._calm = 0  # looks in a row that found a core left idle
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="filler-gate", daemon=True)

    @classmethod
    def for_cores(cls, cores: int) -> "FillerGate | None":
        """The gate, or None where /proc cannot tell how many processes are runnable."""
        return cls(cores) if os.path.exists("/proc/self/stat") else None

    def start(self) -> None:
        self._thread.start()

    def add(self, group: int) -> None:
        """Gate a filler's process group (a build started in a session of its own)."""
        with self._lock:
            self._groups.add(group)
            if self._paused:
                _stop(group)

    def release(self, group: int) -> None:
        """Stop gating a group (it ended, or it is on the critical path now): it goes on if held."""
        with self._lock:
            if group in self._groups:
                self._groups.discard(group)
                _continue(group)
            if not self._groups:
                self._paused = False

    def close(self) -> None:
        """Stop looking; every filler still held goes on (so that it can also be terminated)."""
        self._closed.set()
        with self._lock:
            for group in self._groups:
                _continue(group)
            self._groups.clear()
            self._paused = False
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _watch(self) -> None:
        while not self._closed.wait(self.tick):
            with self._lock:
                if self._groups:
                    self._look()

    def _look(self) -> None:
        try:
            others = runnable_outside(self._groups)
        except (OSError, ValueError, IndexError):  # /proc unreadable: let the fillers run
            others = 0
        if others >= self.cores:
            self._calm = 0
            self._paused = True
        elif self._paused:
            self._calm += 1
            if self._calm >= RESUME_AFTER:
                self._paused = False
                for group in self._groups:
                    _continue(group)
        if self._paused:
            for group in self._groups:  # again: what a filler started since the last look runs
                _stop(group)


def runnable_outside(groups: set[int]) -> int:
    """How many processes other than this one are runnable, not counting members of ``groups``."""
    own = os.getpid()
    return sum(1 for process in processes()
               if process.state == "R" and process.group not in groups and process.pid != own)


def _stop(group: int) -> None:
    try:
        os.killpg(group, signal.SIGSTOP)
        os.kill(group, signal.SIGCONT)  # the leader (Conan) may hold its database: never keep it
    except ProcessLookupError:
        pass


def _continue(group: int) -> None:
    try:
        os.killpg(group, signal.SIGCONT)
    except ProcessLookupError:
        pass
