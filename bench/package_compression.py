"""Conan's package archive formats on real toolchain packages: size, compression (push) and
extraction (install from a remote) time, side by side in one run.

For each package of the targets installed in HOME, each format compresses the package folder as
`conan upload` does (Conan's own compress_files: tar, PAX, sorted) and extracts it as a download
does (Conan's uncompress_file). Formats are interleaved package by package, so load changes hit
them alike. gzip levels 1 (uktoolchain's core.gzip:compresslevel) and 9 (Conan's default) and
xz (core.upload:compression_format=xz, experimental in Conan) are what Conan 2.34 can write here;
its zst format needs Python >= 3.14 on both sides, so zstd is measured with the zstd command
line (tar | zstd -3 -T1), for reference only:

    .venv/bin/python bench/package_compression.py --home /work/devhome53 spt aarch64-rpi4
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from records import installed_record

from conan.internal.api.uploader import compress_files
from conan.internal.rest.remote_manager import uncompress_file
from conan.internal.util.files import gather_files

FORMATS = ["gz-1", "gz-9", "xz", "zstd-3 (CLI)"]


def package_folders(home: Path, targets: list[str]) -> dict[str, Path]:
    folders = {}
    for target in targets:
        stamp = installed_record(home, target)
        for package in stamp["packages"]:
            folders[package["label"]] = home / "conan" / package["folder"]
    return folders


def compress(fmt: str, folder: Path, out_dir: Path) -> Path:
    if fmt.startswith("zstd"):
        target = out_dir / "conan_package.tzst"
        subprocess.run(f"tar -C '{folder}' -cf - . | zstd -q -3 -T1 -o '{target}'", shell=True, check=True)
        return target
    files, symlinked = gather_files(str(folder))
    files.update(symlinked)
    if fmt == "xz":
        return Path(compress_files(files, "conan_package.txz", str(out_dir)))
    return Path(compress_files(files, "conan_package.tgz", str(out_dir), compresslevel=int(fmt.split("-")[1])))


def extract(fmt: str, archive: Path, destination: Path) -> None:
    destination.mkdir()
    if fmt.startswith("zstd"):
        subprocess.run(f"zstd -q -dc '{archive}' | tar -C '{destination}' -xf -", shell=True, check=True)
    else:
        uncompress_file(str(archive), str(destination))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args()

    folders = package_folders(args.home, args.targets)
    totals = {fmt: {"size": 0, "compress": 0.0, "extract": 0.0} for fmt in FORMATS}
    raw = 0
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        for label, folder in folders.items():
            raw += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
            for fmt in FORMATS:
                work = scratch / "work"
                work.mkdir()
                started = time.perf_counter()
                archive = compress(fmt, folder, work)
                totals[fmt]["compress"] += time.perf_counter() - started
                totals[fmt]["size"] += archive.stat().st_size
                started = time.perf_counter()
                extract(fmt, archive, work / "out")
                totals[fmt]["extract"] += time.perf_counter() - started
                shutil.rmtree(work)
    load_after = os.getloadavg()
    print(f"{len(folders)} packages of {' '.join(args.targets)} ({raw / 1e6:.0f} MB of files); "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"  {'format':14} {'size':>9} {'compress (push)':>16} {'extract (install)':>18}")
    for fmt, total in totals.items():
        print(f"  {fmt:14} {total['size'] / 1e6:7.0f}MB {total['compress']:14.1f} s {total['extract']:16.1f} s")


if __name__ == "__main__":
    main()
