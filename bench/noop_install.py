"""No-op install: `uktoolchain install TARGET` vs `conan install` of the same graph, side by side.

Both run against the same home with everything already installed, alternating, N times each;
prints medians and their ratio. Without --home, builds the synthetic test index into a temporary
home first (seconds), so the benchmark runs on any machine:

    .venv/bin/python bench/noop_install.py                # synthetic target "tiny"
    .venv/bin/python bench/noop_install.py --home ~/.local/share/uktoolchain --target unix
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help="an existing uktoolchain home with TARGET installed")
    parser.add_argument("--target", default="tiny")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ)
        server = None
        if args.home is None:
            import synthetic

            server = synthetic.FileServer(Path(scratch) / "www")
            (Path(scratch) / "www").mkdir()
            server.__enter__()
            env["UKTOOLCHAIN_RECIPES"] = str(synthetic.write_index(Path(scratch) / "index", server))
            args.home = Path(scratch) / "home"
        env["UKTOOLCHAIN_HOME"] = str(args.home)
        uk = [sys.executable, "-m", "uktoolchain", "install", args.target, "--plain"]
        subprocess.run(uk, env=env, check=True, stderr=subprocess.DEVNULL)  # make sure it is installed
        stamp = json.loads((args.home / "state" / "installed" / f"{args.target}.json").read_text())
        conan = [sys.executable, "-m", "conans.conan", "install", "-pr:h", "default", "-pr:b", "build"]
        conan += [f"--requires={p['ref']}" for p in stamp["packages"]]
        conan_env = {**env, "CONAN_HOME": str(args.home / "conan")}

        ours, theirs = [], []
        for _ in range(args.runs):
            ours.append(timed(uk, env))
            theirs.append(timed(conan, conan_env))
        if server is not None:
            server.__exit__(None, None, None)

    mine, base = statistics.median(ours), statistics.median(theirs)
    print(f"no-op install of '{args.target}', {args.runs} alternating runs each, median wall time:")
    print(f"  uktoolchain install : {mine * 1000:7.1f} ms  (min {min(ours) * 1000:.1f})")
    print(f"  conan install       : {base * 1000:7.1f} ms  (min {min(theirs) * 1000:.1f})")
    print(f"  ratio               : {base / mine:7.1f}x faster (target: <= 150 ms)")


if __name__ == "__main__":
    main()
