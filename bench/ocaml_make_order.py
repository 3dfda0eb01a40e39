"""The host OCaml's `make` with and without one of our build-order patches, side by side.

Builds the same OCaml source twice in the same folder (so the two installs can be compared byte for
byte), much as recipes/ocaml does (configure with the relocatable prefix, `make -jN` with the build
folder mapped out of the C debug info, `make install DESTDIR=...`; the recipe also leaves out the
stdlib man pages, which this build keeps: they are part of what is compared): once with every patch of
patches/ocaml/<version>-*.patch but PATCH, once with all of them. For each it prints the wall time,
the CPU time (user + sys of make and everything it ran), and the core-seconds make left idle
(cores x wall - CPU); then whether the two installs are identical, file by file.

    .venv/bin/python bench/ocaml_make_order.py --source ocaml-5.4.1.tar.xz \\
        --patch patches/ocaml/5.4.1-0003-opt-opt-overlap-independent-steps.patch

About 9 minutes on 2 cores. The VM's speed drifts between runs by a few percent: compare the idle
core-seconds and the ratio wall / (CPU / cores) more than the wall times.
"""
from __future__ import annotations

import argparse
import filecmp
import importlib.util
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def recipe_base():
    """recipes/ukbase/conanfile.py, the recipes' shared code: unpack and name the prefix as they do."""
    spec = importlib.util.spec_from_file_location("ukbase", REPO / "recipes" / "ukbase" / "conanfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


UKBASE = recipe_base()


def unpack(source: Path, tree: Path) -> None:
    """The OCaml source (a tarball, or a directory) at ``tree``, without its top folder."""
    if source.is_dir():
        shutil.copytree(source, tree, symlinks=True)
    else:
        UKBASE.extract_tarball(str(source), str(tree), strip_root=True)


def run_quietly(command: str, cwd: Path, log: Path) -> None:
    with log.open("a") as stream:
        subprocess.run(command, shell=True, cwd=cwd, check=True, stdout=stream, stderr=subprocess.STDOUT)


def build(source: Path, patches: list[Path], work: Path, jobs: int, name: str) -> tuple[float, float, Path]:
    """Wall and CPU seconds of `make` (configure and install not counted), and the install."""
    tree, staged, log = work / "build", work / f"install-{name}", work / f"{name}.log"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.rmtree(staged, ignore_errors=True)
    unpack(source, tree)
    for patch in patches:
        run_quietly(f"patch -p1 -s -i {shlex.quote(str(patch))}", tree, log)
    run_quietly(f"./configure --prefix={UKBASE.UkPackage.uk_fake_prefix_of('ocaml')}", tree, log)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    run_quietly(f"make -j{jobs} {shlex.quote(f'CPPFLAGS=-ffile-prefix-map={tree}=/build')}", tree, log)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run_quietly(f"make install {shlex.quote(f'DESTDIR={staged}')}", tree, log)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), staged


def differences(left: Path, right: Path) -> list[str]:
    """Files present in one install only, or with different bytes."""
    found: list[str] = []

    def walk(comparison: filecmp.dircmp, prefix: str) -> None:
        found.extend(prefix + name for name in comparison.left_only + comparison.right_only + comparison.funny_files)
        _, mismatch, errors = filecmp.cmpfiles(comparison.left, comparison.right, comparison.common_files, shallow=False)
        found.extend(prefix + name for name in mismatch + errors)
        for name, sub in comparison.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right), "")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="OCaml's source: tarball or directory")
    parser.add_argument("--patch", type=Path, required=True, help="the patch under test (patches/ocaml/...)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, help="build here and keep it (else a temporary folder)")
    args = parser.parse_args()

    patch = args.patch.resolve()
    version = patch.name.split("-", 1)[0]
    others = sorted(path for path in (REPO / "patches" / "ocaml").glob(f"{version}-*.patch") if path != patch)
    work = args.work or Path(tempfile.mkdtemp(prefix="uk-ocaml-order-"))
    work.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    results = {}
    for name, patches in (("without", others), ("with", sorted([*others, patch]))):
        wall, cpu, staged = build(args.source.resolve(), patches, work, args.jobs, name)
        results[name] = staged
        idle = cores * wall - cpu
        print(f"{name:>7} {patch.name}: make -j{args.jobs} wall {wall:6.1f} s, CPU {cpu:6.1f} s, "
              f"idle {idle:5.1f} core-s, wall / (CPU / cores) = {wall / (cpu / cores):.3f}", flush=True)
    changed = differences(results["without"], results["with"])
    if changed:
        print(f"installs differ in {len(changed)} files, e.g. {', '.join(changed[:5])}")
    else:
        count = sum(1 for path in results["with"].rglob("*") if path.is_file())
        print(f"installs identical: {count} files, byte for byte")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()
