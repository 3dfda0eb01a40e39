"""The scheduler on its own: real subprocesses, no Conan."""
from __future__ import annotations

import io
import os
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
