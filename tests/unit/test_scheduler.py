"""The scheduler on its own: real subprocesses, no Conan."""
from __future__ import annotations

import io
import os
import shlex
import sys

import pytest

from uktoolchain.console import PlainView
from uktoolchain.engine.model import BUILD, Plan, PlannedPackage
from uktoolchain.engine.scheduler import Job, Scheduler, Timings


def package(label: str, ref: str, *deps: str) -> PlannedPackage:
    return PlannedPackage(label=label, name=label.split("[")[0], version="1", ref=ref, package_id="p",
                          action=BUILD, deps=deps, options=(), lockfile="x.lock")


def interval_job(pkg: PlannedPackage, tmp_path) -> Job:
    """A job that records when it ran, and runs long enough for overlaps to show."""
    record = tmp_path / f"{pkg.label}.times"
    code = ("import time,sys; a=time.time(); time.sleep(0.6); "
            f"open({str(record)!r},'w').write(f'{{a}} {{time.time()}}')")
    return Job(package=pkg, command=[sys.executable, "-c", code], log_path=tmp_path / f"{pkg.label}.log", fetch=None)


def run(plan: Plan, tmp_path, parallel: int) -> dict[str, tuple[float, float]]:
    jobs = {label: interval_job(p, tmp_path) for label, p in plan.packages.items()}
    view = PlainView(io.StringIO())
    Scheduler(plan, jobs, {}, view, Timings(tmp_path / "timings.json"), parallel).run()
    return {label: tuple(map(float, (tmp_path / f"{label}.times").read_text().split())) for label in plan.packages}


def overlap(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_independent_packages_run_side_by_side_but_never_two_of_one_recipe_revision(tmp_path):
    plan = Plan({p.label: p for p in (
        package("solo5[x86_64]", "solo5/1#r1"), package("solo5[aarch64]", "solo5/1#r1"), package("ocaml", "ocaml/1#r2"),
    )})
    times = run(plan, tmp_path, parallel=2)
    assert not overlap(times["solo5[x86_64]"], times["solo5[aarch64]"])  # they share Conan's source folder
    assert overlap(times["ocaml"], times["solo5[x86_64]"]) or overlap(times["ocaml"], times["solo5[aarch64]"])


def test_dependants_start_after_their_dependencies(tmp_path):
    plan = Plan({p.label: p for p in (
        package("ocaml", "ocaml/1#a"), package("dune", "dune/1#b", "ocaml"), package("findlib", "findlib/1#c", "ocaml"),
    )})
    times = run(plan, tmp_path, parallel=2)
    assert times["dune"][0] >= times["ocaml"][1] and times["findlib"][0] >= times["ocaml"][1]
    assert overlap(times["dune"], times["findlib"])


def test_builds_of_one_recipe_revision_run_side_by_side_once_its_source_folder_is_complete(tmp_path):
    """The first build fills the shared source folder (here: writes a file at once); the second
    starts when it is complete, not when the first build ends."""
    plan = Plan({p.label: p for p in (package("solo5[x86_64]", "solo5/1#r1"), package("solo5[aarch64]", "solo5/1#r1"))})
    source = tmp_path / "source-complete"
    jobs = {}
    for label, pkg in plan.packages.items():
        record = tmp_path / f"{label}.times"
        code = (f"import time; open({str(source)!r}, 'w').close(); a=time.time(); time.sleep(0.6); "
                f"open({str(record)!r},'w').write(f'{{a}} {{time.time()}}')")
        jobs[label] = Job(package=pkg, command=[sys.executable, "-c", code], log_path=tmp_path / f"{label}.log",
                          fetch=None, source_ready=source.exists)
    Scheduler(plan, jobs, {}, PlainView(io.StringIO()), Timings(tmp_path / "timings.json"), 2).run()
    times = {label: tuple(map(float, (tmp_path / f"{label}.times").read_text().split())) for label in plan.packages}
    assert overlap(times["solo5[x86_64]"], times["solo5[aarch64]"])


def test_the_jobserver_pool_holds_a_token_per_core_but_one(tmp_path):
    """Each build's make runs its first job without a token (engine/jobserver.py)."""
    from uktoolchain.engine.jobserver import JobServer

    with JobServer.for_cores(3) as pool:
        fd = os.open(pool.path, os.O_RDONLY | os.O_NONBLOCK)
        assert os.read(fd, 10) == b"++"
        os.close(fd)
    assert not pool.path.exists()
    with JobServer.for_cores(1) as alone:  # one core: every make runs one job at a time
        fd = os.open(alone.path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            assert os.read(fd, 10) == b""
        except BlockingIOError:
            pass
        os.close(fd)


def test_a_batch_of_downloads_starts_at_once_and_its_dependants_wait_for_it(tmp_path):
    """Downloads need no dependency present: ocaml and dune (which requires ocaml) come in one
    process; findlib, built here, starts once that batch has ended; each download is verified."""
    from uktoolchain.engine.model import DOWNLOAD
    from uktoolchain.engine.scheduler import Batch

    def downloaded(label, ref, *deps):
        return PlannedPackage(label=label, name=label, version="1", ref=ref, package_id="p", action=DOWNLOAD,
                              deps=deps, options=(), lockfile="x.lock", remote="ci")

    plan = Plan({p.label: p for p in (downloaded("ocaml", "ocaml/1#a"), downloaded("dune", "dune/1#b", "ocaml"),
                                      package("findlib", "findlib/1#c", "dune"))})
    verified = []
    jobs = {label: Job(package=p, command=["false"], log_path=tmp_path / f"{label}.log", fetch=None,
                       verify=lambda label=label: verified.append(label))
            for label, p in plan.packages.items() if p.action == DOWNLOAD}
    jobs["findlib"] = interval_job(plan.packages["findlib"], tmp_path)
    record = tmp_path / "batch.times"
    code = (f"import time; a=time.time(); time.sleep(0.6); open({str(record)!r},'w').write(f'{{a}} {{time.time()}}')")
    batch = Batch(["ocaml", "dune"], [sys.executable, "-c", code], tmp_path / "download-ci.log", "ci")
    out = io.StringIO()
    Scheduler(plan, jobs, {}, PlainView(out), Timings(tmp_path / "timings.json"), 2, batches=[batch]).run()
    assert sorted(verified) == ["dune", "ocaml"]
    batch_end = float(record.read_text().split()[1])
    assert float((tmp_path / "findlib.times").read_text().split()[0]) >= batch_end
    assert "ocaml: done" in out.getvalue() and "dune: done" in out.getvalue()


def test_a_download_that_does_not_verify_fails_the_batch_after_checking_the_others(tmp_path):
    from uktoolchain.engine.model import DOWNLOAD
    from uktoolchain.engine.scheduler import Batch
    from uktoolchain.errors import RemoteError

    plan = Plan({label: PlannedPackage(label=label, name=label, version="1", ref=f"{label}/1#r", package_id="p",
                                       action=DOWNLOAD, deps=(), options=(), lockfile="x.lock", remote="ci")
                 for label in ("good", "bad")})

    def refuse():
        raise RemoteError("refused bad")

    jobs = {"good": Job(package=plan.packages["good"], command=[], log_path=tmp_path / "g.log", fetch=None,
                        verify=lambda: None),
            "bad": Job(package=plan.packages["bad"], command=[], log_path=tmp_path / "b.log", fetch=None, verify=refuse)}
    batch = Batch(["bad", "good"], [sys.executable, "-c", "pass"], tmp_path / "download-ci.log", "ci")
    out = io.StringIO()
    with pytest.raises(RemoteError, match="refused bad"):
        Scheduler(plan, jobs, {}, PlainView(out), Timings(tmp_path / "timings.json"), 2, batches=[batch]).run()
    assert "good: done" in out.getvalue() and "bad: FAILED" in out.getvalue()


def policy_job(pkg: PlannedPackage, tmp_path, seconds: float = 0.6) -> Job:
    """A job that records when it ran, which of its commands ran (the filler one says so), the
    scheduling policy and nice value its process started with, and its policy at the end (a
    filler that comes on the critical path meanwhile is raised)."""
    def code(kind: str) -> str:
        record = tmp_path / f"{pkg.label}.run"
        return ("import os,time; a=time.time(); "
                "get=(lambda: os.sched_getscheduler(0)) if hasattr(os,'sched_getscheduler') else (lambda: -1); "
                "policy=get(); nice=os.getpriority(os.PRIO_PROCESS, 0); time.sleep(%r); "
                "open(%r,'w').write(f'{a} {time.time()} %s {policy} {nice} {get()}')"
                % (seconds, str(record), kind))
    return Job(package=pkg, command=[sys.executable, "-c", code("full")], log_path=tmp_path / f"{pkg.label}.log",
               fetch=None, filler_command=[sys.executable, "-c", code("filler")])


def read_run(tmp_path, label: str) -> tuple[float, float, str, int, int, int]:
    """(start, end, kind, policy at the start, nice at the start, policy at the end)."""
    start, end, kind, policy, nice, policy_at_end = (tmp_path / f"{label}.run").read_text().split()
    return float(start), float(end), kind, int(policy), int(nice), int(policy_at_end)


def test_builds_off_the_critical_path_fill_idle_cores_beside_it(tmp_path):
    """ocaml (long) and what needs it are the critical path; solo5 (short) runs beside ocaml as a
    filler although a full slot is free: its filler command (the fillers' job pool), at idle priority."""
    plan = Plan({p.label: p for p in (
        package("ocaml", "ocaml/1#a"), package("solo5", "solo5/1#b"),
        package("ocaml-solo5", "ocaml-solo5/1#c", "ocaml", "solo5"),
    )})
    jobs = {label: policy_job(p, tmp_path) for label, p in plan.packages.items()}
    costs = {"ocaml": 300.0, "solo5": 10.0, "ocaml-solo5": 200.0}
    out = io.StringIO()
    Scheduler(plan, jobs, {}, PlainView(out), Timings(tmp_path / "timings.json"), 2, known_costs=costs).run()
    assert "solo5: building  0s  on idle cores" in out.getvalue() and "ocaml: building  0s\n" in out.getvalue()
    ocaml, solo5, cross = (read_run(tmp_path, label) for label in ("ocaml", "solo5", "ocaml-solo5"))
    assert overlap(ocaml[:2], solo5[:2]), "the filler did not run beside the critical build"
    assert (ocaml[2], cross[2], solo5[2]) == ("full", "full", "filler")
    if hasattr(os, "SCHED_IDLE"):
        assert solo5[3] == os.SCHED_IDLE and ocaml[3] == cross[3] == os.SCHED_OTHER
    else:
        assert solo5[4] == 19 and ocaml[4] == 0
    assert cross[0] >= max(ocaml[1], solo5[1])
    # A filler's duration (it may have been held) is no estimate for its next build; its CPU time is.
    recorded = Timings(tmp_path / "timings.json")
    assert recorded.estimate("solo5") is None and recorded.cost("solo5") is not None
    assert recorded.estimate("ocaml") >= 0.6 and recorded.estimate("ocaml-solo5") >= 0.6


def test_the_critical_path_weighs_cpu_seconds_measured_here_over_the_catalogue(tmp_path):
    """The catalogue calls solo5 short; its last build here used more CPU than ocaml's: now
    ocaml is the filler. CPU seconds are recorded per build (the job's processes included)."""
    plan = Plan({p.label: p for p in (package("ocaml", "ocaml/1#a"), package("solo5", "solo5/1#b"))})
    timings = tmp_path / "timings.json"
    timings.write_text('{"ocaml": 12.0}')  # the format before CPU seconds: durations only
    assert Timings(timings).estimate("ocaml") == 12.0 and Timings(timings).cost("ocaml") is None
    burn = "import time; t=time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    jobs = {"ocaml": policy_job(plan.packages["ocaml"], tmp_path),
            "solo5": Job(package=plan.packages["solo5"], command=[sys.executable, "-c", burn],
                         log_path=tmp_path / "solo5.log", fetch=None)}
    Scheduler(plan, jobs, {}, PlainView(io.StringIO()), Timings(timings), 2,
              known_costs={"ocaml": 300.0, "solo5": 10.0}).run()
    recorded = Timings(timings)
    assert recorded.cost("solo5") >= 0.25, "the child's CPU time was not counted"
    assert recorded.estimate("solo5") >= 0.3 and recorded.estimate("ocaml") >= 0.6
    jobs = {label: policy_job(p, tmp_path) for label, p in plan.packages.items()}
    recorded.cpu["solo5"] = 500.0
    recorded.cpu["ocaml"] = 100.0
    Scheduler(plan, jobs, {}, PlainView(io.StringIO()), recorded, 2, known_costs={"ocaml": 300.0, "solo5": 10.0}).run()
    assert read_run(tmp_path, "solo5")[2] == "full" and read_run(tmp_path, "ocaml")[2] == "filler"


def test_a_critical_build_that_finds_no_full_slot_runs_beside_the_others_as_their_equal(tmp_path):
    """Three cross-compilers, two full slots: the third takes one of the --jobs - 1 extra slots at
    normal priority (not at idle priority: it is as long as the others, and would end last,
    alone). With one job at a time (--jobs 1) there are no extra slots: one build after the other."""
    plan = Plan({p.label: p for p in (package(f"ocaml-solo5[{arch}]", f"ocaml-solo5/1#{arch}")
                                      for arch in ("x86_64", "aarch64", "riscv64"))})
    jobs = {label: policy_job(p, tmp_path) for label, p in plan.packages.items()}
    Scheduler(plan, jobs, {}, PlainView(io.StringIO()), Timings(tmp_path / "timings.json"), 2,
              known_costs={"ocaml-solo5": 180.0}).run()
    runs = [read_run(tmp_path, label) for label in plan.packages]
    assert all(overlap(a[:2], b[:2]) for a in runs for b in runs if a is not b)
    assert [run[2] for run in runs] == ["full"] * 3
    if hasattr(os, "SCHED_IDLE"):
        assert {run[3] for run in runs} == {os.SCHED_OTHER}
    Scheduler(plan, jobs, {}, PlainView(io.StringIO()), Timings(tmp_path / "timings.json"), 1,
              known_costs={"ocaml-solo5": 180.0}).run()
    runs = [read_run(tmp_path, label) for label in plan.packages]
    assert not any(overlap(a[:2], b[:2]) for a in runs for b in runs if a is not b)
    assert {run[2] for run in runs} == {"full"}


def test_a_short_build_leaves_the_last_slot_to_a_critical_build_waiting_for_its_source_folder(tmp_path):
    """After the host compiler: two cross-compilers of one recipe revision (the second waits until
    the first has filled Conan's source folder), dune, and ocamlfind (short). ocamlfind must not
    take the slot the second cross-compiler is about to need (it would then start late, or at
    idle priority, and end last and alone): it runs once a slot is free again."""
    plan = Plan({p.label: p for p in (
        package("ocaml-solo5[x86_64]", "ocaml-solo5/1#r"), package("ocaml-solo5[aarch64]", "ocaml-solo5/1#r"),
        package("dune", "dune/1#d"), package("ocamlfind", "ocamlfind/1#f"),
    )})
    source = tmp_path / "source-complete"
    jobs = {label: policy_job(p, tmp_path, seconds=2.0 if label == "dune" else 1.0) for label, p in plan.packages.items()}
    delayed = "import time; time.sleep(0.5); open(%r, 'w').close(); " % str(source)  # source() takes a while
    for label in ("ocaml-solo5[x86_64]", "ocaml-solo5[aarch64]"):
        job = jobs[label]
        jobs[label] = Job(package=job.package, command=[job.command[0], "-c", delayed + job.command[2]],
                          log_path=job.log_path, fetch=None, filler_command=job.filler_command,
                          source_ready=source.exists)
    Scheduler(plan, jobs, {}, PlainView(io.StringIO()), Timings(tmp_path / "timings.json"), 2,
              known_costs={"ocaml-solo5": 180.0, "dune": 115.0, "ocamlfind": 4.0}).run()
    x86, aarch64, dune, ocamlfind = (read_run(tmp_path, label) for label in plan.packages)
    assert (x86[2], aarch64[2], dune[2]) == ("full", "full", "full")
    assert overlap(x86[:2], aarch64[:2]) and overlap(aarch64[:2], dune[:2])
    assert ocamlfind[0] >= min(x86[1], aarch64[1], dune[1]), "ocamlfind took the slot kept for aarch64"


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="idle priority is SCHED_IDLE on Linux only")
def test_a_filler_that_comes_on_the_critical_path_goes_on_at_normal_priority(tmp_path):
    """ocaml-cross-tree starts as a filler beside the host compiler. Once the host compiler is
    done, the cross-compiler waits for the tree alone: the tree's processes (here a shell and the
    Python it runs, as Conan runs make and the compilers) are raised to normal priority."""
    plan = Plan({p.label: p for p in (
        package("ocaml", "ocaml/1#a"), package("ocaml-cross-tree", "ocaml-cross-tree/1#t"),
        package("ocaml-solo5", "ocaml-solo5/1#c", "ocaml", "ocaml-cross-tree"),
    )})
    jobs = {label: policy_job(p, tmp_path) for label, p in plan.packages.items()}
    tree = policy_job(plan.packages["ocaml-cross-tree"], tmp_path, seconds=2.0)
    # The shell's child reports (the shell does not exec it: a command follows).
    in_shell = [["/bin/sh", "-c", shlex.join(command) + "; exit $?"] for command in (tree.command, tree.filler_command)]
    jobs["ocaml-cross-tree"] = Job(package=tree.package, command=in_shell[0], log_path=tree.log_path, fetch=None,
                                   filler_command=in_shell[1])
    scheduler = Scheduler(plan, jobs, {}, PlainView(io.StringIO()), Timings(tmp_path / "timings.json"), 2,
                          known_costs={"ocaml": 300.0, "ocaml-cross-tree": 35.0, "ocaml-solo5": 150.0})
    if scheduler.gate is not None:  # a gate that never holds: a busy machine would hold the tree's
        scheduler.gate.cores = 10_000  # Python until the promotion, and it would not run beside ocaml
    scheduler.run()
    ocaml, tree, cross = (read_run(tmp_path, label) for label in plan.packages)
    assert tree[2] == "filler" and overlap(ocaml[:2], tree[:2]), "the tree did not start as a filler"
    assert tree[1] > ocaml[1] + 1.0
    assert tree[5] == os.SCHED_OTHER, "the tree stayed at idle priority once the host compiler was done"
    assert cross[0] >= tree[1]
