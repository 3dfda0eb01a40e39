"""A cold install: its wall time against the CPU bound, both from the same run.

Runs `uktoolchain install TARGET... --no-remote` into an empty home and measures
  wall  the elapsed time of the install;
  CPU   the user + system seconds of the install and everything it ran (every process it
        started was waited for, so getrusage(RUSAGE_CHILDREN) holds them all);
  bound CPU / cores: the wall time a perfect use of every core would take.
Their ratio is how far the install is from using every core all the time (issue 12's goal: within
1.05). The machine's CPU time used by other processes in the same interval and its idle time (from
/proc/stat) are printed too: on a shared machine the install cannot have every core, and what
counts is whether the cores ever idled while it ran, and whether the install had a runnable
process for every core (sampled from /proc; independent of the other processes). The timeline shows when each
package started and ended (from --plain's lines).

    . /work/devenv.sh
    nice -n 10 .venv/bin/python bench/cold_install.py hvt aarch64-rpi4 --ocaml 5.3 \\
        --source ocaml=$OCAML53_SOURCE --source solo5=$TESTSRC/solo5-v0.12.1.tar.gz \\
        --source ocaml-solo5=$TESTSRC/ocaml-solo5-1.2.0.tar.gz --source rpi4-firmware=$RPI4_FIRMWARE

Takes as long as the builds (~6-10 min on 2 cores); --home DIR keeps the home (else a temporary one).
With --seed HOME --rebuild COMPONENT..., the home starts as a copy of HOME without the packages of
those components (e.g. the cross-compilers: --rebuild solo5 ocaml-solo5 solo5-rpi4 rpi4-firmware
keeps the host OCaml, dune and ocamlfind of HOME, built from the same recipes and sources).
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def machine_cpu_seconds() -> tuple[float, float, float]:
    """(busy, total, stolen) CPU seconds of the whole machine since boot, from /proc/stat. Stolen:
    time a virtual machine's cores wanted to run but the hypervisor ran something else (counted
    as busy, though no process of this machine ran)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]  # guest time is in user
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    stolen = fields[7] if len(fields) > 7 else 0
    return (sum(fields) - idle) / ticks, sum(fields) / ticks, stolen / ticks


class RunnableSampler:
    """How many processes of the install's tree are runnable (state R: running, or waiting for a
    core), sampled every INTERVAL seconds from /proc. Unlike the wall time, this does not depend
    on what else the machine runs: with at least one runnable process per core, the install had
    work for every core."""

    INTERVAL = 0.5

    def __init__(self, root_pid: int):
        self.root_pid = root_pid
        self.samples: list[int] = []
        self.times: list[float] = []  # when each sample was taken (time.monotonic())
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # A process's parent never changes while it runs (orphans aside), so each process's stat is
        # read once to place it in or out of the install's tree; only the tree's processes are read
        # again, for their state. This keeps the sampler's own CPU time (which competes with the
        # install) to the install's processes, not the whole machine's.
        parents: dict[int, int] = {}
        while not self.stop.wait(self.INTERVAL):
            alive = {int(name) for name in os.listdir("/proc") if name.isdigit()}
            for pid in list(parents):
                if pid not in alive:
                    del parents[pid]
            states: dict[int, str] = {}
            for pid in sorted(alive):  # parents before children, mostly: pids grow
                if pid in parents and not self._in_tree(pid, parents):
                    continue
                fields = self._stat(pid)
                if fields is None:
                    continue
                parents[pid] = int(fields[1])
                if self._in_tree(pid, parents):
                    states[pid] = fields[0]
            self.samples.append(sum(1 for state in states.values() if state == "R"))
            self.times.append(time.monotonic())

    def _in_tree(self, pid: int, parents: dict[int, int]) -> bool:
        while pid != self.root_pid:
            if pid not in parents:
                return False
            pid = parents[pid]
        return True

    @staticmethod
    def _stat(pid: int) -> list[str] | None:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        return text[text.rindex(")") + 2:].split()  # after "pid (comm) "

    def __enter__(self) -> "RunnableSampler":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def build_spans(events: list[tuple[float, str]]) -> dict[str, list[float]]:
    """When each package built: [start, end] seconds after the start, from --plain's lines."""
    spans: dict[str, list[float]] = {}
    for moment, line in events:
        match = re.match(r"^(\S+): (building|done in \S+|FAILED)", line)
        if match:
            spans.setdefault(match.group(1), [moment, float("inf")])
            if match.group(2) != "building":
                spans[match.group(1)][1] = moment
    return spans


def building_at(spans: dict[str, list[float]], moment: float) -> str:
    return " + ".join(sorted(n for n, (begin, end) in spans.items() if begin <= moment < end)) or "nothing"


def short_of_cores(sampler: RunnableSampler, spans: dict[str, list[float]], started: float,
                   cores: int) -> list[tuple[str, float]]:
    """Where the install left cores without work: the samples with fewer runnable processes than
    cores, grouped by the packages building at that moment, most first."""
    totals: dict[str, float] = {}
    for runnable, when in zip(sampler.samples, sampler.times):
        if runnable >= cores:
            continue
        building = building_at(spans, when - started)
        totals[building] = totals.get(building, 0.0) + RunnableSampler.INTERVAL
    return sorted(totals.items(), key=lambda item: -item[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="+")
    parser.add_argument("--source", action="append", default=[], help="as given to install")
    parser.add_argument("--home", type=Path, help="build into this (new or empty) directory and keep it")
    parser.add_argument("--jobs", type=int, help="install --jobs (default: install's)")
    parser.add_argument("--ocaml", help="the toolchain set to install (default: uktoolchain's choice)")
    parser.add_argument("--seed", type=Path, help="start from a copy of this home ...")
    parser.add_argument("--rebuild", nargs="+", default=[], metavar="COMPONENT", help="... without these packages")
    parser.add_argument("--samples", type=Path, help="write each sample here: seconds, runnable, what was building")
    args = parser.parse_args()

    scratch = None
    if args.home is None:
        scratch = Path(tempfile.mkdtemp(prefix="uk-cold-"))
        args.home = scratch / "home"
    elif args.home.exists() and any(args.home.iterdir()):
        sys.exit(f"{args.home} is not empty: a cold install needs an empty home")
    script = Path(sys.executable).parent / "uktoolchain"
    command = [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "uktoolchain"]
    command += ["install", *args.targets, "--plain", "--no-remote", *[f"--source={s}" for s in args.source]]
    if args.jobs:
        command += ["--jobs", str(args.jobs)]
    if args.ocaml:
        command += ["--ocaml", args.ocaml]
    env = {**os.environ, "UKTOOLCHAIN_HOME": str(args.home)}
    if args.seed is not None:
        shutil.copytree(args.seed, args.home, symlinks=True, dirs_exist_ok=True)
        shutil.rmtree(args.home / "state" / "installed", ignore_errors=True)
        for component in args.rebuild:
            subprocess.run([sys.executable, "-m", "conans.conan", "remove", f"{component}/*:*", "-c"], check=True,
                           env={**env, "CONAN_HOME": str(args.home / "conan")}, capture_output=True)

    cores = os.cpu_count() or 1
    load_before = os.getloadavg()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before, total_before, stolen_before = machine_cpu_seconds()
    started = time.monotonic()
    events: list[tuple[float, str]] = []
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True) as process, \
            RunnableSampler(process.pid) as sampler:
        for line in process.stderr:
            events.append((time.monotonic() - started, line.rstrip()))
    wall = time.monotonic() - started
    busy_after, total_after, stolen_after = machine_cpu_seconds()
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_after = os.getloadavg()
    if process.returncode != 0:
        print("\n".join(line for _, line in events[-40:]))
        sys.exit(f"install failed (exit {process.returncode})")

    cpu = (usage_after.ru_utime - usage_before.ru_utime) + (usage_after.ru_stime - usage_before.ru_stime)
    machine_busy = busy_after - busy_before
    machine_idle = (total_after - total_before) - machine_busy
    stolen = stolen_after - stolen_before
    others = max(0.0, machine_busy - stolen - cpu)
    bound = cpu / cores
    start = f"a copy of {args.seed} without {', '.join(args.rebuild)}" if args.seed else "an empty home"
    print(f"cold install of {' '.join(args.targets)} into {start}, {cores} cores")
    for moment, line in events:
        match = re.match(r"^(\S+): (building|fetching|done in \S+|FAILED)", line)
        if match:
            print(f"  {moment:7.1f}s  {match.group(1)}: {match.group(2)}")
        elif line.startswith("installed:"):
            print(f"  {moment:7.1f}s  {line[:100]}")
    print(f"wall {wall:.1f} s; CPU (user+sys) {cpu:.1f} s; CPU / cores {bound:.1f} s; "
          f"wall / (CPU / cores) = {wall / bound:.3f} (goal <= 1.05)")
    print(f"machine: load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; other processes used "
          f"{others:.1f} CPU s in that time ({others / (wall * cores) * 100:.0f}% of the machine), the hypervisor "
          f"stole {stolen:.1f} s; the cores were "
          f"idle {machine_idle:.1f} s of {wall * cores:.1f} ({machine_idle / (wall * cores) * 100:.1f}%)")
    print(f"with the others' CPU time and the stolen time: wall / ((CPU + others + stolen) / cores) = "
          f"{wall / ((cpu + others + stolen) / cores):.3f}")
    counts = sampler.samples or [0]
    spread = ", ".join(f"{label} {sum(1 for c in counts if test(c)) / len(counts) * 100:.1f}%" for label, test in (
        (f">= {cores}", lambda c: c >= cores), *((f"{k}", lambda c, k=k: c == k) for k in range(cores - 1, -1, -1))))
    print(f"runnable processes of the install, {len(counts)} samples every {RunnableSampler.INTERVAL} s: {spread}")
    spans = build_spans(events)
    short = short_of_cores(sampler, spans, started, cores)
    if short:
        print(f"fewer than {cores} runnable, by what was building then (seconds of samples):")
        for building, seconds in short[:6]:
            print(f"  {seconds:6.1f} s  {building}")
    if args.samples:
        with args.samples.open("w") as stream:
            for runnable, when in zip(sampler.samples, sampler.times):
                stream.write(f"{when - started:7.1f} {runnable} {building_at(spans, when - started)}\n")
        print(f"samples: {args.samples}")
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        print(f"home kept: {args.home}")


if __name__ == "__main__":
    main()
