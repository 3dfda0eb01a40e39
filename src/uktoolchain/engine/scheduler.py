"""Realise a plan: fetch sources, then build each package in its own process; download the
packages of one remote in one process (a Batch).

Packages start as soon as their dependencies are done, those on the critical path first, up to
``parallel`` jobs at a time (the builds' make jobs share the cores through engine/jobserver.py).
Up to ``parallel`` - 1 more may start beside them (``parallel`` 1: one build at a time): a build on
the critical path (engine/critical_path.py) that found the others taken, at normal priority; or a
build off it as a filler: at idle priority, with a job pool of its own, and stopped while the others
keep every core busy (engine/filler_gate.py), so that it only uses cores they leave idle; a filler
that comes on the critical path while it runs (once the longer chain beside it is done) goes on at
normal priority, ungated. Each job's output goes to its own log file.
On Ctrl-C or SIGTERM every running job's process group is terminated; Conan only registers a
package once package() has finished, so nothing half-built is left behind and the next run starts
those packages again.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from uktoolchain import atomic
from uktoolchain.engine.critical_path import on_critical_path, tails
from uktoolchain.engine.filler_gate import FillerGate
from uktoolchain.engine.model import BUILD, CACHED, Plan, PlannedPackage
from uktoolchain.engine.processes import processes
from uktoolchain.errors import BuildError, DiskFullError, DownloadError, Interrupted, RemoteError, UkError

LOG_TAIL_LINES = 30
FULL, FILLER = "full", "filler"  # how a build runs: in the builds' job pool, or on idle cores
_FAILURES = (BuildError, DiskFullError, RemoteError)  # end one job: let the others finish


class Cancelled(Exception):
    pass


@dataclass
class Job:
    package: PlannedPackage
    command: list[str]
    log_path: Path
    fetch: Callable[[Callable[[int, int | None], None]], None] | None  # fetches sources first
    verify: Callable[[], None] | None = None  # checks what a download brought, raises RemoteError
    # Builds of one recipe revision (solo5 for two arches) share Conan's source folder, which the
    # first fills (source()) and each then copies into its own build folder: another may start
    # once this says that folder is complete. None: never two side by side.
    source_ready: Callable[[], bool] | None = None
    cleanup: Callable[[], None] | None = None  # after a successful build (best effort)
    # The command run when the build is a filler (its make jobs in the fillers' pool); None: the
    # job always runs as a full one (downloads).
    filler_command: list[str] | None = None


@dataclass
class Batch:
    """Downloads of several packages in one process: Conan fetches them in parallel threads, and
    there is one start-up and no graph to resolve, instead of one `conan install` per package,
    each after its dependencies. A downloaded package needs nothing else present, so a batch
    starts at once; packages that depend on its packages wait for the whole batch."""

    labels: list[str]
    command: list[str]
    log_path: Path
    remote: str


class Timings:
    """Per package label, its last build here: how long it took (the ETA shown on the next build)
    and the CPU seconds it used, its own and its processes' (what the critical path weighs: unlike
    the duration, it does not depend on what ran beside it)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or any(not isinstance(v, dict) for v in data.values()):
            data = {"seconds": data if isinstance(data, dict) else {}}  # before CPU seconds: {label: seconds}
        self.seconds: dict[str, float] = data.get("seconds", {})
        self.cpu: dict[str, float] = data.get("cpu", {})
        self.lock = threading.Lock()

    def estimate(self, name: str) -> float | None:
        return self.seconds.get(name)

    def cost(self, name: str) -> float | None:
        return self.cpu.get(name)

    def record(self, name: str, seconds: float | None, cpu: float) -> None:
        """``seconds`` None: the build's duration says nothing of the next one (a filler, held
        while the other builds kept the cores busy); the last duration stays the estimate."""
        with self.lock:  # jobs finish on several threads
            if seconds is not None:
                self.seconds[name] = round(seconds, 1)
            self.cpu[name] = round(cpu, 1)
            atomic.write_text(self.path, json.dumps({"seconds": self.seconds, "cpu": self.cpu}, indent=1,
                                                    sort_keys=True))


class Scheduler:
    def __init__(self, plan: Plan, jobs: dict[str, Job], env: dict[str, str], view, timings: Timings, parallel: int,
                 batches: list[Batch] = (), known_costs: Mapping[str, float] | None = None):
        """``known_costs``: CPU seconds of a component's build, for those never built here."""
        self.plan = plan
        self.batches = list(batches)  # their packages' jobs only verify what the batch brought
        self.jobs = jobs
        self.env = env
        self.view = view
        self.timings = timings
        self.parallel = max(1, parallel)
        self.slots = 2 * self.parallel - 1  # the full slots and the extra ones, together
        self.cancel = threading.Event()
        self.processes: dict[str, subprocess.Popen] = {}
        self.lock = threading.Lock()
        known_costs = known_costs or {}
        costs = {label: timings.cost(label) or known_costs.get(package.name) for label, package in plan.packages.items()}
        self.tails = tails(plan, {label: cost for label, cost in costs.items() if cost is not None})
        self.fillers: set[str] = set()  # labels of the fillers started (and still at idle priority)
        self.started: dict[str, float] = {}  # per label, when its process started
        # Fillers are stopped while the other builds keep every core busy (idle priority is not enough).
        self.gate = FillerGate.for_cores(self.parallel) if self.parallel > 1 else None

    def run(self) -> None:
        finished = {label for label, p in self.plan.packages.items() if p.action == CACHED}
        for name in finished:
            self.view.update(name, "cached")
        running: dict[Future, tuple[str, ...]] = {}  # a job's label, or a batch's labels
        failure: BuildError | DiskFullError | RemoteError | None = None
        waiting = list(self.batches)
        batched = {label for batch in self.batches for label in batch.labels}
        if self.gate is not None:
            self.gate.start()
        with ThreadPoolExecutor(max_workers=self.slots) as pool:
            try:
                while True:
                    self._promote_fillers_now_critical(running, finished)
                    if failure is None:
                        while waiting and len(running) < self.parallel:
                            batch = waiting.pop(0)
                            running[pool.submit(self._run_batch, batch)] = tuple(batch.labels)
                        ready = sorted(self.plan.ready(finished), key=lambda p: -self.tails[p.label])  # stable
                        reserved = 0  # critical builds waiting a moment for their source folder
                        for package in ready:
                            busy = [label for labels in running.values() for label in labels]
                            if package.label in busy or package.label in batched:
                                continue
                            if self._shares_source(package, busy):
                                reserved += self._critical(package, finished)
                                continue
                            slot = self._slot_for(package, running, finished, reserved)
                            if slot is None:
                                continue
                            if slot == FILLER:
                                self.fillers.add(package.label)
                            running[pool.submit(self._run_job, self.jobs[package.label])] = (package.label,)
                    if not running:
                        break
                    done, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        names = running.pop(future)
                        error = future.exception()
                        if error is None:
                            finished.update(names)
                        elif isinstance(error, _FAILURES) and failure is None:
                            failure = error  # let independent jobs finish; start nothing new
                        elif not isinstance(error, (*_FAILURES, Cancelled)):
                            raise error
            except BaseException:
                self._terminate_all()
                raise
            finally:
                if self.gate is not None:
                    self.gate.close()
        if failure is not None:
            raise failure
        if self.cancel.is_set():
            raise Interrupted("interrupted")

    def _slot_for(self, package: PlannedPackage, running: dict[Future, tuple[str, ...]], finished: set[str],
                  reserved: int) -> str | None:
        """FULL, FILLER, or None (not now). There are --jobs full slots and --jobs - 1 more. A
        build on the critical path runs at normal priority in either: it never idles behind
        another critical build (after the host compiler, the cross-compilers and dune are all
        critical and should share the cores as equals). Any other build fills idle cores, unless
        the last slot is kept for a critical build that waits for its source folder."""
        fillers = sum(1 for labels in running.values() if labels[0] in self.fillers)
        normal = len(running) - fillers
        if self.jobs[package.label].filler_command is None:  # a download: never at idle priority
            return FULL if normal < self.parallel else None
        if self._critical(package, finished):
            return FULL if normal < self.parallel or len(running) < self.slots else None
        if fillers < self.parallel - 1 and len(running) + reserved < self.slots:
            return FILLER
        return None

    def _promote_fillers_now_critical(self, running: dict[Future, tuple[str, ...]], finished: set[str]) -> None:
        """A filler started while a longer chain ran (ocaml-cross-tree beside the host compiler)
        is on the critical path once that chain is done: what waits for it would wait for the
        cores the critical builds leave idle. It goes on at normal priority."""
        for labels in running.values():
            label = labels[0]
            if label in self.fillers and self._critical(self.plan.packages[label], finished):
                with self.lock:
                    process = self.processes.get(label)
                if process is None:  # its process is about to start: raised on a later pass
                    continue
                self.fillers.discard(label)
                if self.gate is not None:
                    self.gate.release(process.pid)
                _normal_priority(process.pid)
                self.view.update(label, "building", started=self.started[label],
                                 estimate=self.timings.estimate(label), filler=False)

    def _critical(self, package: PlannedPackage, finished: set[str]) -> bool:
        return on_critical_path(package.label, self.tails, set(self.plan.packages) - finished)

    def _shares_source(self, package: PlannedPackage, running) -> bool:
        """Whether ``package`` must wait for a running build of its recipe revision to have filled
        Conan's source folder (downloads never touch it)."""
        if package.action != BUILD:
            return False
        others = [self.jobs[label] for label in running if self.plan.packages[label].ref == package.ref
                  and self.plan.packages[label].action == BUILD]
        return any(job.source_ready is None or not job.source_ready() for job in others)

    # -- one job -------------------------------------------------------------------------------
    def _run_job(self, job: Job) -> None:
        name = job.package.label
        if job.fetch is not None:
            self.view.update(name, "downloading", done=0, total=None)

            def progress(done: int, total: int | None) -> None:
                if self.cancel.is_set():
                    raise Cancelled()
                self.view.update(name, "downloading", done=done, total=total)

            job.fetch(progress)
        verb = "building" if job.package.action == BUILD else "fetching"
        filler = name in self.fillers
        command = job.filler_command if filler else job.command
        code, elapsed, cpu = self._process([job.package.label], verb, command, job.log_path, filler)
        self._finish(job, code, elapsed, cpu, timed=not filler)

    def _process(self, names: list[str], verb: str, command: list[str], log_path: Path,
                 filler: bool = False) -> tuple[int, float, float]:
        """Run ``command``: its exit code, seconds and CPU seconds (its processes' too)."""
        started = time.monotonic()
        for name in names:
            self.started[name] = started
            self.view.update(name, verb, started=started, estimate=self.timings.estimate(name), filler=filler)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "wb") as log:
            log.write(("$ " + " ".join(command) + "\n").encode())
            log.flush()
            with self.lock:
                if self.cancel.is_set():
                    raise Cancelled()
                process = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=self.env, start_new_session=True,  # its own group: we stop make and cc too
                )
                self.processes[names[0]] = process
                if filler:  # before it starts a build (Conan takes a second to start), and before
                    _idle_priority(process.pid)  # _promote_fillers_now_critical can see it
                    if self.gate is not None:
                        self.gate.add(process.pid)
            try:
                if filler and self.gate is not None:  # released before it is reaped: until then
                    # its pid, the group's id, cannot be another process's that the gate would stop
                    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
                    self.gate.release(process.pid)
                _, status, usage = os.wait4(process.pid, 0)
                code = process.returncode = os.waitstatus_to_exitcode(status)
                cpu = usage.ru_utime + usage.ru_stime  # make and the compilers it ran, waited for
            except ChildProcessError:  # reaped by _terminate_all
                code, cpu = process.wait(), 0.0
            with self.lock:
                self.processes.pop(names[0], None)
        return code, time.monotonic() - started, cpu

    def _run_batch(self, batch: Batch) -> None:
        code, elapsed, _ = self._process(batch.labels, "fetching", batch.command, batch.log_path)
        if self.cancel.is_set():
            for name in batch.labels:
                self.view.update(name, "failed", reason="interrupted")
            raise Cancelled()
        if code != 0:
            for name in batch.labels:
                self.view.update(name, "failed", reason=f"exit {code}")
            tail = log_tail(batch.log_path)
            if any("No space left on device" in line for line in tail):
                raise DiskFullError(f"downloading from {batch.remote} ran out of disk space; full log: {batch.log_path}",
                                    "free some space, run `uktoolchain gc`, or point UKTOOLCHAIN_HOME at a larger disk")
            raise DownloadError(", ".join(batch.labels), str(batch.log_path), tail, batch.remote)
        refused = None
        for name in batch.labels:  # each is checked against its manifest and revision
            verify = self.jobs[name].verify
            try:
                if verify is not None:
                    verify()
            except RemoteError as exc:
                self.view.update(name, "failed", reason="refused")
                refused = refused or exc
                continue
            self.view.update(name, "done", elapsed=elapsed)
        if refused is not None:
            raise refused

    def _finish(self, job: Job, code: int, elapsed: float, cpu: float, timed: bool = True) -> None:
        """``timed``: whether ``elapsed`` is worth an estimate for the next build (no filler's is)."""
        name = job.package.label
        if self.cancel.is_set():
            self.view.update(name, "failed", reason="interrupted")
            raise Cancelled()
        if code != 0:
            self.view.update(name, "failed", reason=f"exit {code}")
            tail = log_tail(job.log_path)
            if any("No space left on device" in line for line in tail):
                raise DiskFullError(
                    f"building {name} ran out of disk space; full log: {job.log_path}",
                    "free some space, run `uktoolchain gc`, or point UKTOOLCHAIN_HOME at a larger disk",
                )
            if job.package.action != BUILD:
                raise DownloadError(name, str(job.log_path), tail, job.package.remote)
            raise BuildError(name, str(job.log_path), tail)
        if job.verify is not None:
            try:
                job.verify()
            except RemoteError:
                self.view.update(name, "failed", reason="refused")
                raise
        if job.package.action == BUILD:
            self.timings.record(name, elapsed if timed else None, cpu)
            if job.cleanup is not None:
                try:
                    job.cleanup()
                except UkError:  # what is left is removed at the end of the install
                    pass
        self.view.update(name, "done", elapsed=elapsed)

    def _terminate_all(self) -> None:
        self.cancel.set()
        with self.lock:
            processes = list(self.processes.values())
        for process in processes:
            _signal_group(process, signal.SIGTERM)
        if self.gate is not None:  # a stopped filler only acts on SIGTERM once it goes on
            self.gate.close()
        deadline = time.monotonic() + 15
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()


def _idle_priority(pid: int) -> None:
    """Give a filler's process (and what it starts) only CPU time nothing else wants: SCHED_IDLE
    where Linux offers it, else the lowest nice value. Neither needs privileges."""
    try:
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux
        try:
            os.setpriority(os.PRIO_PROCESS, pid, 19)
        except OSError:  # already gone
            pass


def _normal_priority(pid: int) -> None:
    """Undo _idle_priority for a running build: for its process and every process of its group
    (make and the compilers it runs; those they start later inherit it). Repeated until a pass
    finds none left at idle priority, as make may have started one while the others were raised."""
    if not hasattr(os, "SCHED_IDLE"):
        _renice_group(pid, 0)
        return
    for _ in range(5):
        raised = 0
        for member in _group_members(pid):
            try:
                if os.sched_getscheduler(member) == os.SCHED_IDLE:
                    os.sched_setscheduler(member, os.SCHED_OTHER, os.sched_param(0))
                    raised += 1
            except OSError:  # gone meanwhile
                pass
        if not raised:
            return


def _renice_group(pid: int, value: int) -> None:
    try:
        os.setpriority(os.PRIO_PGRP, pid, value)
    except OSError:  # gone, or not allowed to lower the value: it stays a filler
        pass


def _group_members(group: int) -> list[int]:
    """The processes of a process group (a build's: its leader started it in a new session)."""
    return [process.pid for process in processes() if process.group == group]


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last ``lines`` lines of a job's log that say something: Conan writes every step's
    error (source, patch, build, package) last, but may end with blank lines; progress lines
    rewritten with carriage returns count as their final state."""
    try:
        with open(path, "rb") as stream:
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            stream.seek(max(0, size - 64 * 1024))
            text = stream.read().decode(errors="replace")
    except OSError:
        return []
    kept = [line.rstrip().rsplit("\r", 1)[-1] for line in text.split("\n")]
    while kept and not kept[-1].strip():
        kept.pop()
    return kept[-lines:]
