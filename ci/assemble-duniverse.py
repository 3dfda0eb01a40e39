#!/usr/bin/env python3
"""Assemble a several-archive source (a duniverse, e.g. ocaml-lsp-server's) from git clones, as a
local source for `uktoolchain install ... --source COMPONENT=OUT`.

Each part of the pinned source (recipes/COMPONENT/conandata.yml: sources.VERSION.files) names the
repository and tag its archive is cut from (`git: "owner/name tag"`) and the folder it unpacks into
(`into`). This writes `git archive` of each tag into that folder of OUT. Clones are looked up in
CLONES as `name`, `owner+name/repo` or `owner+name`; `--use FOLDER=PATH@REF` takes a part from
another clone or ref, `--use FOLDER=ARCHIVE` from a release tarball (its top directory dropped:
e.g. Debian's ocaml-astring_0.8.5.orig.tar.bz2, which is the pinned astring-0.8.5.tbz).

    ci/assemble-duniverse.py ocaml-lsp-server 1.26.0 /tmp/lsp-1.26.0 --clones ~/src \\
        --use duniverse/astring-0.8.5=ocaml-astring_0.8.5.orig.tar.bz2
"""
from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def clone_of(clones: Path, repository: str) -> Path | None:
    owner, name = repository.split("/", 1)
    for candidate in (clones / name, clones / f"{owner}+{name}" / "repo", clones / f"{owner}+{name}"):
        if (candidate / ".git").exists() or (candidate / "HEAD").is_file():
            return candidate
    return None


def unpack(clone: Path, ref: str, into: Path) -> None:
    archive = subprocess.run(["git", "-C", str(clone), "archive", "--format=tar", ref],
                             check=True, capture_output=True).stdout
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="tar")


def unpack_release(archive: Path, into: Path) -> None:
    """A release tarball, without its single top directory (as the recipe unpacks it)."""
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            member.name = member.name.split("/", 1)[1] if "/" in member.name else ""
        tar.extractall(into, [m for m in members if m.name], filter="tar")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("component")
    parser.add_argument("version")
    parser.add_argument("out", type=Path)
    parser.add_argument("--clones", type=Path, required=True)
    parser.add_argument("--use", action="append", default=[], metavar="FOLDER=PATH@REF")
    args = parser.parse_args()
    data = yaml.safe_load((REPO / "recipes" / args.component / "conandata.yml").read_text())
    parts = data["sources"][args.version]["files"]
    overrides = {}
    for spec in args.use:
        folder, _, where = spec.partition("=")
        path, _, ref = where.rpartition("@") if not Path(where).expanduser().is_file() else (where, "", "")
        overrides[folder.strip("/")] = (Path(path).expanduser(), ref)
    if args.out.exists():
        shutil.rmtree(args.out)
    missing = []
    for name, part in parts.items():
        repository, tag = part["git"].split()
        clone, ref = overrides.get(part["into"], (clone_of(args.clones, repository), tag))
        if clone is None:
            missing.append(f"{repository} (for {name})")
            continue
        try:
            if clone.is_file():
                unpack_release(clone, args.out / part["into"])
                continue
            unpack(clone, ref, args.out / part["into"])
        except subprocess.CalledProcessError as exc:
            missing.append(f"{repository} {ref} in {clone}: {exc.stderr.decode().strip()}")
    if missing:
        print("assemble-duniverse: no clone or ref of " + "; ".join(missing), file=sys.stderr)
        return 1
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
