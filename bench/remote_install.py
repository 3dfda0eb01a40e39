"""Install from a remote vs plain download + unpack of the same package bytes, side by side.

A real conan_server on 127.0.0.1 (tests/conan_server.py; run ci/setup.sh first) holds the
packages. Each round, alternating:
  uktoolchain  `uktoolchain install TARGET --build=never` into a fresh home at a new path
               (plan, download, verify, unpack, render the environment)
  plain        HTTP GET of each package's conan_package.tgz from the same server, then `tar -xzf`
               of it, one package after the other
Prints the medians and their ratio. Without --home, packages come from the synthetic test index
with a payload of random (incompressible) bytes; with --home, the targets installed there (e.g. a
real toolchain) are pushed first. --home is changed (a remote is added, then removed): use a copy.

    .venv/bin/python bench/remote_install.py                      # synthetic, 200 MB payload
    .venv/bin/python bench/remote_install.py --home COPY_OF_HOME --target spt aarch64-rpi4 --with rust \\
        --source ocaml=$OCAML53_SOURCE ...                        # the sources it was installed with
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from records import installed_record

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from conan_server import ConanServer  # noqa: E402


def run(command: list[str], env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return result


def plain_download_and_unpack(server: ConanServer, packages: list[dict], destination: Path) -> int:
    """What any HTTP client and tar do with the same bytes: GET each tgz, extract it. Returns bytes."""
    total = 0
    for package in packages:
        name_version, rrev = package["ref"].split("#")
        base = f"{server.url}/v2/conans/{name_version}/_/_/revisions/{rrev}/packages/{package['package_id']}"
        with urllib.request.urlopen(f"{base}/latest") as response:
            prev = json.load(response)["revision"]
        folder = destination / package["label"]  # labels are unique; package ids need not be
        archive = destination / f"{package['label']}.tgz"
        with urllib.request.urlopen(f"{base}/revisions/{prev}/files/conan_package.tgz") as response, \
                open(archive, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
        total += archive.stat().st_size
        folder.mkdir()
        subprocess.run(["tar", "-xzf", str(archive), "-C", str(folder)], check=True)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help="an existing uktoolchain home with TARGET installed")
    parser.add_argument("--target", nargs="+", default=["solo"])
    parser.add_argument("--with", dest="extras", action="append", default=[], help="as given to install")
    parser.add_argument("--source", action="append", default=[], help="as given to install (same recipe revisions)")
    parser.add_argument("--payload-mb", type=int, default=200, help="synthetic package size (default 200)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="also measure another uktoolchain (the src/ of another checkout)")
    args = parser.parse_args()
    sources = [f"--source={s}" for s in args.source] + [f"--with={e}" for e in args.extras]

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
        uk = [sys.executable, "-m", "uktoolchain"]
        file_server = None
        if args.home is None:
            import synthetic

            (scratch / "www").mkdir()
            file_server = synthetic.FileServer(scratch / "www").__enter__()
            env["UKTOOLCHAIN_RECIPES"] = str(synthetic.write_index(scratch / "index", file_server,
                                                                   padding=args.payload_mb * 1_000_000))
            args.home = scratch / "builder"
            print(f"building the synthetic target {' '.join(args.target)} ({args.payload_mb} MB payload) ...", flush=True)
        home_env = {**env, "UKTOOLCHAIN_HOME": str(args.home)}
        run(uk + ["install", *args.target, "--plain", "--no-remote", *sources], home_env)
        packages = list({(p["ref"], p["package_id"]): p for target in args.target for p in installed_record(args.home, target)["packages"]}.values())

        with ConanServer(scratch / "server") as server:
            # The benchmark's own remote name: the home's other remotes stay as they are.
            run(uk + ["remote", "add", "uk-bench", server.url, "--force"], home_env)
            pushed_at = time.perf_counter()
            run(uk + ["push", "uk-bench", *args.target], {**home_env, "CONAN_LOGIN_USERNAME_UK_BENCH": server.user,
                                                        "CONAN_PASSWORD_UK_BENCH": server.password})
            push_seconds = time.perf_counter() - pushed_at
            run(uk + ["remote", "remove", "uk-bench"], home_env)

            contenders = {"uktoolchain install from the remote": (uk, env)}
            if args.baseline:  # another uktoolchain (its src/), with this checkout's recipes: same packages
                baseline_env = {**env, "PYTHONPATH": str(args.baseline),
                                "UKTOOLCHAIN_RECIPES": env.get("UKTOOLCHAIN_RECIPES", str(REPO))}
                contenders[f"... with {args.baseline}"] = ([sys.executable, "-m", "uktoolchain"], baseline_env)
            times: dict[str, list[float]] = {name: [] for name in [*contenders, "plain download + unpack"]}
            size = 0
            for round_number in range(args.runs):
                for number, (name, (command, contender_env)) in enumerate(contenders.items()):
                    machine = scratch / f"machine-{round_number}-{number}"
                    fresh = {**contender_env, "UKTOOLCHAIN_HOME": str(machine / "home")}
                    run(command + ["remote", "add", "uk-bench", server.url], fresh)
                    started = time.perf_counter()
                    result = run(command + ["install", *args.target, "--plain", "--build=never", *sources], fresh)
                    times[name].append(time.perf_counter() - started)
                    assert "nothing to build" in result.stderr, result.stderr
                    shutil.rmtree(machine)

                target = scratch / f"plain-{round_number}"
                target.mkdir()
                started = time.perf_counter()
                size = plain_download_and_unpack(server, packages, target)
                times["plain download + unpack"].append(time.perf_counter() - started)
                shutil.rmtree(target)
        if file_server is not None:
            file_server.__exit__(None, None, None)

    plain_median = statistics.median(times["plain download + unpack"])
    print(f"packages: {len(packages)}, {size / 1e6:.1f} MB compressed; push took {push_seconds:.1f} s; "
          f"{args.runs} rounds; load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:40} median {median:6.2f} s  ({', '.join(f'{t:.2f}' for t in values)})  "
              f"{median / plain_median:.2f}x plain")


if __name__ == "__main__":
    main()
