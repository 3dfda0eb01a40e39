"""The filler gate with real processes: CPU burners stand for the critical builds' compiler jobs,
a shell and the Python it runs for a filler's Conan and make."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from uktoolchain.console import PlainView
from uktoolchain.engine.filler_gate import FillerGate, runnable_outside
from uktoolchain.engine.model import BUILD, Plan, PlannedPackage
from uktoolchain.engine.scheduler import Job, Scheduler, Timings

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="the gate counts runnable processes in /proc")

BURN = [sys.executable, "-c", "while True: pass"]


def state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def child_of(parent: int) -> int | None:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stream:
                    if int(stream.read().rsplit(")", 1)[1].split()[1]) == parent:
                        return int(entry)
            except OSError:
                continue
    return None


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def filler_command(pid_file, after: float = 0) -> list[str]:
    """A filler: a leader (as Conan is) that starts, ``after`` seconds later, a worker that says
    its pid and, as make does, handles SIGTERM (a stopped process acts on a handled signal only
    once continued)."""
    worker = (f"import os,signal,sys,time; signal.signal(signal.SIGTERM, lambda *_: sys.exit(3)); "
              f"open({str(pid_file)!r},'w').write(str(os.getpid()))\nwhile True: time.sleep(0.01)")
    leader = f"import subprocess,sys,time; time.sleep({after}); sys.exit(subprocess.call([sys.executable, '-c', {worker!r}]))"
    return [sys.executable, "-c", leader]


def start_group(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def end_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
        os.killpg(process.pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
    process.wait()


def worker_of(pid_file) -> int:
    assert wait_for(lambda: pid_file.exists() and pid_file.read_text().isdigit()), "the filler's worker never started"
    return int(pid_file.read_text())


def require_a_quiet_machine() -> None:
    """The gate rightly holds a filler while anything keeps the cores busy, this test's burners or
    not: with a build running beside the tests (two runnable processes), what they expect is wrong."""
    busiest = 0
    for _ in range(10):
        busiest = max(busiest, runnable_outside(set()))
        time.sleep(0.03)
    if busiest >= 2:
        pytest.skip(f"the machine is busy ({busiest} runnable processes): the gate would hold any filler")


def test_a_filler_is_stopped_while_the_others_keep_every_core_busy_and_goes_on_after(tmp_path):
    """Also a process a filler starts while the gate holds it (Conan starting make) is stopped."""
    require_a_quiet_machine()
    filler = start_group(filler_command(tmp_path / "worker.pid"))
    late = None
    burners: list[subprocess.Popen] = []
    gate = FillerGate(cores=2, tick=0.05)
    try:
        worker = worker_of(tmp_path / "worker.pid")
        gate.add(filler.pid)
        gate.start()
        time.sleep(0.3)
        assert state(worker) != "T", "stopped although no other build wanted the cores"
        burners = [start_group(BURN) for _ in range(2)]
        assert wait_for(lambda: state(worker) == "T"), "the filler ran on while two jobs kept both cores busy"
        assert state(filler.pid) != "T", "the filler's leader (Conan) was held"
        late = start_group(filler_command(tmp_path / "late.pid", after=0.5))
        gate.add(late.pid)
        assert wait_for(lambda: child_of(late.pid) is not None), "the late filler started no worker"
        late_worker = child_of(late.pid)
        assert wait_for(lambda: state(late_worker) == "T"), "a process started while the gate held its filler ran on"
        for burner in burners:
            end_group(burner)
        assert wait_for(lambda: state(worker) not in ("T", None)), "the filler stayed stopped with the cores idle"
        assert worker_of(tmp_path / "late.pid") == late_worker
        burners = [start_group(BURN) for _ in range(2)]
        assert wait_for(lambda: state(worker) == "T")
        gate.release(filler.pid)
        assert wait_for(lambda: state(worker) not in ("T", None)), "a released filler stayed stopped"
    finally:
        gate.close()
        for process in (*burners, filler, *([late] if late else [])):
            end_group(process)


def test_an_interrupted_install_leaves_no_stopped_filler_behind(tmp_path):
    """Ctrl-C while a filler is stopped: the filler gets SIGTERM like every build, and acts on it."""
    require_a_quiet_machine()
    def package(label: str) -> PlannedPackage:
        return PlannedPackage(label=label, name=label, version="1", ref=f"{label}/1#r", package_id="p", action=BUILD,
                              deps=(), options=(), lockfile="x.lock")

    plan = Plan({p.label: p for p in (package("ocaml"), package("solo5"))})
    burn_twice = ["/bin/sh", "-c", f"{' '.join(BURN[:2])} '{BURN[2]}' & {' '.join(BURN[:2])} '{BURN[2]}' & wait"]
    pid_file = tmp_path / "worker.pid"
    jobs = {
        "ocaml": Job(package=plan.packages["ocaml"], command=burn_twice, log_path=tmp_path / "ocaml.log", fetch=None,
                     filler_command=burn_twice),
        "solo5": Job(package=plan.packages["solo5"], command=filler_command(pid_file), log_path=tmp_path / "solo5.log",
                     fetch=None, filler_command=filler_command(pid_file)),
    }
    scheduler = Scheduler(plan, jobs, {}, PlainView(io.StringIO()), Timings(tmp_path / "timings.json"), 2,
                          known_costs={"ocaml": 300.0, "solo5": 10.0})
    assert scheduler.gate is not None
    seen_stopped = threading.Event()
    workers: list[int] = []

    def worker() -> int | None:  # found as the leader's child: a held worker may not have said its pid
        with scheduler.lock:
            leader = scheduler.processes.get("solo5")
        return child_of(leader.pid) if leader is not None else None

    def interrupt_once_stopped() -> None:
        if wait_for(lambda: worker() is not None):
            workers.append(worker())
            if wait_for(lambda: state(workers[0]) == "T"):
                seen_stopped.set()
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    threading.Thread(target=interrupt_once_stopped, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        scheduler.run()
    assert seen_stopped.is_set(), "the filler was not stopped beside two busy jobs"
    assert wait_for(lambda: state(workers[0]) in (None, "Z"), seconds=5), "the stopped filler outlived the install"
