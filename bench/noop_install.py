"""The fast paths side by side: no-op `install`, `env` and `cache-key` of installed targets against
`python -c pass` (the floor: an interpreter that does nothing) and `conan install` of the same graph.

All commands run against the same home, round-robin (one of each per round, so load changes hit
them alike), N rounds; prints medians and minimums. Python bytecode is cached as after any pip
install (in a scratch PYTHONPYCACHEPREFIX, warmed up first); --no-bytecode measures without it, as
under PYTHONDONTWRITEBYTECODE=1 with an editable install. Without --home, builds the synthetic test
index into a temporary home first (seconds):

    .venv/bin/python bench/noop_install.py                      # synthetic target "tiny"
    .venv/bin/python bench/noop_install.py --home HOME --target spt aarch64-rpi4 \\
        --source ocaml=$OCAML53_SOURCE ...                      # the sources it was installed with

A given home is only read (and its rendered/ files by env); when the targets are not up to date
there, the bench stops (install --build=never fails) rather than build.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from records import installed_record

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

TARGET_SECONDS = 0.080  # issue 12: no-op install and env within 80 ms


def timed(command: list[str], env: dict) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run. On a loaded machine the wall time
    includes waiting for a core; the CPU time is what the command itself costs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def uktoolchain_command() -> list[str]:
    """The console script users run (no runpy), else ``python -m uktoolchain``."""
    script = Path(sys.executable).parent / "uktoolchain"
    return [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "uktoolchain"]


def conan_commands(home: Path, targets: list[str]) -> list[list[str]]:
    """`conan install` of what the targets' stamps list: one graph per architecture (options as
    uktoolchain gives them), with the Rust toolchain the home recorded, everything from the cache."""
    graphs: dict[str, dict[str, None]] = {}
    for target in targets:
        for package in installed_record(home, target)["packages"]:
            arch = package["label"].partition("[")[2].rstrip("]")
            graphs.setdefault(arch, {})[package["ref"]] = None
    conf = ["-c", f"user.uktoolchain:source_dirs=['{home / 'sources'}']"]
    if any(ref.startswith("rust-sysroot/") for refs in graphs.values() for ref in refs):
        from uktoolchain.rust_toolchain import select  # as uktoolchain tells the recipe, which ids the sysroot by it

        conf += [arg for item in select().conan_conf() for arg in ("-c", item)]
    commands = []
    for arch, refs in graphs.items():
        command = [sys.executable, "-m", "conans.conan", "install", "-pr:h", "default", "-pr:b", "build",
                   "--no-remote", "--build=never", f"--output-folder={home / 'state' / 'generated'}", *conf]
        command += [f"--requires={ref}" for ref in refs]
        if arch:
            names = {ref.split("/")[0] for ref in refs}
            command += [arg for name in sorted(names) for arg in ("-o", f"{name}/*:target_arch={arch}")]
        commands.append(command)
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help="an existing uktoolchain home with the targets installed")
    parser.add_argument("--target", nargs="+", default=["tiny"], help="installed targets (default: tiny)")
    parser.add_argument("--source", action="append", default=[], help="as given to install")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-bytecode", action="store_true", help="measure without cached bytecode")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        env = dict(os.environ)
        if args.no_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
        server = None
        if args.home is None:
            import synthetic

            (scratch / "www").mkdir()
            server = synthetic.FileServer(scratch / "www").__enter__()
            env["UKTOOLCHAIN_RECIPES"] = str(synthetic.write_index(scratch / "index", server))
            args.home = scratch / "home"
        env["UKTOOLCHAIN_HOME"] = str(args.home)
        uk = uktoolchain_command()
        sources = [f"--source={s}" for s in args.source]
        install = uk + ["install", *args.target, *sources]
        if server is not None:  # build the synthetic home
            subprocess.run(install + ["--plain"], env=env, capture_output=True, check=True)
        # Never build in a given home: if this is not a no-op, it fails (exit 7) instead.
        result = subprocess.run(install + ["--plain", "--no-remote", "--build=never"], env=env, capture_output=True,
                                text=True)
        if result.returncode != 0 or "up to date" not in result.stderr:
            sys.exit(f"{' '.join(install)} is not a no-op here:\n{result.stderr[-2000:]}")
        commands = {
            "python -c pass (floor)": [[sys.executable, "-c", "pass"]],
            "uktoolchain install (no-op)": [install],
            "uktoolchain env": [uk + ["env", *args.target]],
            "uktoolchain cache-key": [uk + ["cache-key", *args.target, *sources]],
            "conan install (same graph)": conan_commands(args.home, args.target),
        }
        conan_env = {**env, "CONAN_HOME": str(args.home / "conan")}
        for name, steps in commands.items():  # warm-up: bytecode, page cache
            for step in steps:
                timed(step, conan_env if name.startswith("conan") else env)
        load_before = os.getloadavg()
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, steps in commands.items():
                runs = [timed(step, conan_env if name.startswith("conan") else env) for step in steps]
                times[name].append(sum(wall for wall, _ in runs))
                cpu[name].append(sum(used for _, used in runs))
        load_after = os.getloadavg()
        if server is not None:
            server.__exit__(None, None, None)
        shutil.rmtree(scratch / "pycache", ignore_errors=True)

    floor = statistics.median(times["python -c pass (floor)"])
    print(f"targets {' '.join(args.target)} in {args.home}; {args.runs} rounds, each command once per round; "
          f"bytecode {'not cached' if args.no_bytecode else 'cached'}; {os.cpu_count()} cores, "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"  {'command':30} {'wall median':>11} {'wall min':>9} {'minus floor':>12} {'CPU median':>11}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:30} {median * 1000:9.1f}ms {min(values) * 1000:7.1f}ms {(median - floor) * 1000:10.1f}ms "
              f"{statistics.median(cpu[name]) * 1000:9.1f}ms")
    for name in ("uktoolchain install (no-op)", "uktoolchain env"):
        median = statistics.median(times[name])
        verdict = "within" if median <= TARGET_SECONDS else "OVER"
        print(f"  {name}: {verdict} the {TARGET_SECONDS * 1000:.0f} ms target; "
              f"conan install takes {statistics.median(times['conan install (same graph)']) / median:.1f}x as long")


if __name__ == "__main__":
    main()
