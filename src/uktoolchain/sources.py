"""Source archives: the checksum-named store, mirror directories, downloads, local overrides.

Every archive lands in the store (``<home>/sources/<hexdigest>``) before a build starts; recipes
then find it there by checksum (conf ``user.uktoolchain:source_dirs``). Downloads are verified,
resumable and written atomically, so an interrupted or corrupt download never poisons the store.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from uktoolchain import atomic
from uktoolchain.errors import (
    ChecksumMismatchError,
    MirrorsUnreachableError,
    SourceOverrideError,
    UnknownComponentError,
)

ProgressCallback = Callable[[int, "int | None"], None]
CHUNK = 1 << 16


class Checksum(NamedTuple):
    algorithm: str  # sha256 | sha512
    digest: str

    @classmethod
    def of_entry(cls, entry: dict) -> "Checksum":
        for algorithm in ("sha256", "sha512"):
            if entry.get(algorithm):
                return cls(algorithm, str(entry[algorithm]).lower())
        raise SourceOverrideError("a conandata source entry has no sha256 or sha512")

    def __str__(self) -> str:
        return f"{self.algorithm} {self.digest}"


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- local overrides --------------------------------------------------------------------------


class SourceOverride(NamedTuple):
    component: str
    path: Path


def parse_overrides(specs: list[str], known_components: list[str]) -> list[SourceOverride]:
    """``--source name=PATH`` values; the name must be a known component, the path readable."""
    overrides = []
    for spec in specs:
        name, sep, raw_path = spec.partition("=")
        if not sep or not name or not raw_path:
            raise SourceOverrideError(
                f"--source expects COMPONENT=PATH, got '{spec}'", "for example --source ocaml=./ocaml-5.3.0.tar.gz"
            )
        overrides.append(make_override(name, raw_path, known_components))
    return overrides


def make_override(name: str, raw_path: str, known_components: list[str]) -> SourceOverride:
    if name not in known_components:
        raise UnknownComponentError(
            f"unknown component '{name}' in a source override; known components: {', '.join(sorted(known_components))}"
        )
    path = Path(raw_path).expanduser().absolute()
    if not path.exists():
        raise SourceOverrideError(f"local source for {name} does not exist: {path}", "fix the path given to --source")
    if not os.access(path, os.R_OK) or (path.is_dir() and not os.access(path, os.X_OK)):
        raise SourceOverrideError(f"local source for {name} is not readable: {path}", "check its permissions")
    if path.is_file() and not is_tar_archive(path):
        raise SourceOverrideError(
            f"local source for {name} is not a tar archive: {path}", "give a .tar.gz/.tgz/.tar.bz2/.tar.xz or a directory"
        )
    return SourceOverride(name, path)


def local_source_example(rules: dict, version: str | None) -> str | None:
    """The recipe's example of a ``--source`` argument, for the version being built ("{version}"
    in conandata stands for it, so that no version is written twice)."""
    example = rules.get("example")
    return example.replace("{version}", version) if example and version else example


def is_tar_archive(path: Path) -> bool:
    """tarfile.is_tarfile, without importing tarfile (~5 ms of a no-op install given --source)
    for the usual case: a plain or gzipped tar whose first header's checksum is right. Anything
    else (bzip2, xz, a header that does not check) is left to tarfile itself."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(1 << 16)
    except OSError:
        return False
    block = head
    if head[:2] == b"\x1f\x8b":
        import zlib

        try:
            block = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 512)
        except zlib.error:
            return False
    if len(block) >= 512 and _tar_checksum_ok(block[:512]):
        return True
    import tarfile

    return tarfile.is_tarfile(path)


def _tar_checksum_ok(header: bytes) -> bool:
    """The checksum field of a tar header (octal), against the header's bytes summed with that
    field as spaces (unsigned, or signed as some old tars did)."""
    field = header[148:156].replace(b"\0", b" ").strip()
    try:
        stored = int(field, 8)
    except ValueError:
        return False
    rest = header[:148] + b" " * 8 + header[156:]
    return stored in (sum(rest), sum(b - 256 if b > 127 else b for b in rest))


def check_local_source(override: SourceOverride, rules: dict, version: str | None = None,
                       parts: list[str] = ()) -> None:
    """Refuse, before anything is built, a local source that is not the component's at ``version``.

    ``rules`` is the recipe's conandata ``local_source``: ``required`` file names, found at the
    source's top or in one of ``subdirs``; ``version``, probes tried in order, each a ``pattern``
    whose first group is the version, searched in a ``file`` of the tree or matched against the
    name of its ``top_dir`` (a tarball's single top directory, or the directory itself); and an
    ``example`` for the messages. ``parts``: the folders a source made of several archives
    unpacks them into (source_parts), each of which the tree must have.
    """
    required = list(rules.get("required") or [])
    probes = list(rules.get("version") or [])
    if not required and not parts and not (probes and version):
        return
    tree = SourceTree.of(override, wanted=[probe["file"] for probe in probes if probe.get("file")])
    example = local_source_example(rules, version)
    absent = [part for part in parts if not any(name.startswith(f"{part}/") for name in tree.files)]
    if absent:
        raise SourceOverrideError(
            f"local source for {override.component} ({override.path}) lacks {', '.join(f'{p}/' for p in absent)}",
            f"give the tree with every part of {override.component} {version} in its own folder" +
            (f", e.g. {example}" if example else ""))
    if required:
        subdirs = list(rules.get("subdirs") or ["."])
        if not any(all(_in(subdir, name) in tree.files for name in required) for subdir in subdirs):
            missing = [name for name in required if name not in tree.files]
            where = " or ".join("its top" if d in (".", "") else f"{d.strip('/')}/" for d in subdirs)
            raise SourceOverrideError(
                f"local source for {override.component} ({override.path}) lacks {', '.join(missing or required)} "
                f"(looked in {where})",
                f"give a directory or tarball that holds {', '.join(required)}" + (f", e.g. {example}" if example else ""),
            )
    if not probes or version is None:
        return
    found = probe_version(tree, probes)
    fix = f"give the {override.component} {version} source" + (f", e.g. {example}" if example else "")
    if found is None:
        looked = "; ".join(_describe(probe) for probe in probes)
        raise SourceOverrideError(
            f"cannot tell which version of {override.component} the local source {override.path} is "
            f"(looked for {looked})", fix)
    if found != version:
        raise SourceOverrideError(
            f"local source for {override.component} ({override.path}) is version {found}, "
            f"but uktoolchain builds {override.component} {version}", fix)


def probe_version(tree: "SourceTree", probes: list[dict]) -> str | None:
    """The version the first matching probe reads from the tree, or None."""
    for probe in probes:
        pattern = re.compile(probe["pattern"], re.MULTILINE)
        if probe.get("top_dir"):
            match = pattern.fullmatch(tree.top_dir)
        else:
            text = tree.read_text(probe["file"])
            match = pattern.search(text) if text is not None else None
        if match:
            return match.group(1).strip()
    return None


def _describe(probe: dict) -> str:
    if probe.get("top_dir"):
        return f"a top directory named like /{probe['pattern']}/"
    return f"/{probe['pattern']}/ in {probe['file']}"


def _in(subdir: str, name: str) -> str:
    return name if subdir in (".", "") else f"{subdir.strip('/')}/{name}"


class SourceTree:
    """The files of a local source as the recipe will see them: a directory, or a tarball
    without its single top directory (extract_tarball's strip_root).

    A tarball is read once, front to back: its member list, and the start of the files named in
    ``wanted`` (what the version probes read). A compressed tarball cannot be read at a member's
    offset without decompressing everything before it, so each further lookup would be another
    pass over the whole archive (dune's: 9641 members, about 0.4 s each)."""

    READ_LIMIT = 1 << 20  # of a file's start: enough for any version probe

    @classmethod
    def of(cls, override: SourceOverride, wanted: Iterable[str] = ()) -> "SourceTree":
        import lzma
        import tarfile
        import zlib

        try:
            return cls(override.path, wanted)
        except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
            raise SourceOverrideError(f"local source for {override.component} cannot be read: {override.path}: {exc}",
                                      "give a complete tarball or a directory") from exc

    def __init__(self, path: Path, wanted: Iterable[str] = ()):
        self.path = path
        self._starts: dict[str, bytes] = {}  # name in the tree -> the start of that file (wanted ones)
        if path.is_dir():
            self.top_dir = path.name
            self.files = {str(p.relative_to(path)) for p in _walk(path) if p.is_file()}
            return
        import tarfile  # here, not at the top: a fast path given --source reads no tarball

        wanted = set(wanted)
        names, starts = [], {}  # every member's name; member name -> start of a wanted file
        with tarfile.open(path, "r|*") as tar:
            for member in tar:
                name = member.name[2:] if member.name.startswith("./") else member.name
                names.append((name, member.isfile()))
                # Whether the tarball has a single top directory is known only at its end: keep
                # a wanted file under either reading of its name.
                if member.isfile() and (name in wanted or name.split("/", 1)[-1] in wanted):
                    stream = tar.extractfile(member)
                    starts[name] = stream.read(self.READ_LIMIT) if stream else b""
        roots = {name.split("/", 1)[0] for name, _ in names if name not in ("", ".")}
        self.top_dir = next(iter(roots)) if len(roots) == 1 else ""
        self.files = set()
        for name, is_file in names:
            if not is_file:
                continue
            relative = name
            if self.top_dir:
                if "/" not in name:
                    continue
                relative = name.split("/", 1)[1]
            self.files.add(relative)
            if name in starts and relative in wanted:
                self._starts[relative] = starts[name]

    def read_text(self, relative: str) -> str | None:
        """The start of a file of the tree as text, or None when it has no such file."""
        if relative not in self.files:
            return None
        if self.path.is_dir():
            with open(self.path / relative, "rb") as stream:
                data = stream.read(self.READ_LIMIT)
        elif relative in self._starts:
            data = self._starts[relative]
        else:  # not named in ``wanted``: another pass
            data = SourceTree(self.path, [relative])._starts.get(relative, b"")
        return data.decode("utf-8", errors="replace")


def source_parts(entry: dict | None) -> list[str]:
    """The folders of the tree that the archives of a several-archive source (a duniverse) unpack
    into, besides its top: the layout a local source of it must have."""
    files = (entry or {}).get("files") or {}
    return [part["into"] for part in files.values() if part.get("into", ".") not in (".", "")]


def source_entries(entry: dict) -> list[tuple[str | None, dict]]:
    """The downloadable parts of a conandata source: one archive (named None), or, under
    ``files``, one entry per file name, each with its own URLs and checksum."""
    return list(entry["files"].items()) if "files" in entry else [(None, entry)]


def override_signature(path: Path) -> str:
    """Cheap change detector for the no-op check: sizes and mtimes, not contents."""
    if path.is_file():
        st = path.stat()
        return f"file:{st.st_size}:{st.st_mtime_ns}"
    digest = hashlib.sha256()
    for relative, st in _tree_stats(path):
        digest.update(f"{relative}:{st.st_size}:{st.st_mtime_ns}:{st.st_mode}\n".encode())
    return f"tree:{digest.hexdigest()}"


def changed_since(component: str, path: Path, sha256: str, signature: str) -> str | None:
    """None if the local source at ``path`` still is what was staged with that sha256 (checked
    by size/mtime first, by content only when those moved), else what changed, in words."""
    if not path.exists():
        return f"{path} is gone"
    if override_signature(path) == signature:
        return None
    if path.is_file():
        now = file_digest(path)
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:  # a tree hashes as the tarball it is staged as
            staged = Path(scratch) / "tree.tar.gz"
            write_deterministic_tarball(path, staged, top=staged_top(component))
            now = file_digest(staged)
    return None if now == sha256 else f"{path} changed (sha256 was {sha256[:16]}…, is {now[:16]}…)"


class DigestMemo:
    """Digests of local sources (a file's sha256, a tree's content digest) kept in a JSON file and
    computed again only when the source's stat results (inode, size, mtime; of every entry of a
    tree) changed: a fast path need not read a 30 MB tarball to learn it is the same.

    A digest is kept only for a source that was last modified more than SETTLED seconds before it
    was read: a file rewritten within one tick of the file system's clock keeps its mtime, and must
    not be taken for unchanged."""

    SETTLED = 2.0

    def __init__(self, path: Path):
        self.path = path

    def digest(self, source: Path, kind: str, compute: Callable[[Path], str]) -> str:
        import time

        key, newest = _stat_signature(source)
        memo = _read_json(self.path)
        entry = memo.get(f"{kind} {source}")
        if entry and entry.get("signature") == key:
            return entry["digest"]
        value = compute(source)
        if time.time() - newest > self.SETTLED:
            memo[f"{kind} {source}"] = {"signature": key, "digest": value}
            try:
                _write_json(self.path, memo)
            except OSError:  # a read-only home still gets its answer
                pass
        return value


def _stat_signature(path: Path) -> tuple[str, float]:
    """(signature of the stat results of a file or of every entry of a tree, newest mtime)."""
    if path.is_file():
        st = path.stat()
        return f"file:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}", st.st_mtime
    digest, newest = hashlib.sha256(), 0.0
    for relative, st in _tree_stats(path):
        digest.update(f"{relative}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_mode}\n".encode())
        newest = max(newest, st.st_mtime)
    return f"tree:{digest.hexdigest()}", newest


def _tree_stats(root: Path) -> list[tuple[str, os.stat_result]]:
    """(path relative to ``root``, lstat) of every entry _walk finds, in the order of sorted Paths
    (component by component). On strings, not Path objects: a ~14,000-file tree costs ~8x less."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        prefix = os.path.relpath(dirpath, root)
        for name in dirnames + filenames:
            found.append((name if prefix == "." else f"{prefix}/{name}", os.lstat(os.path.join(dirpath, name))))
    found.sort(key=lambda item: item[0].split("/"))
    return found


def _walk(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in dirnames + filenames:
            yield Path(dirpath) / name


def staged_top(component: str) -> str:
    """The top directory of the tarball a local source tree is staged as."""
    return f"{component}-local"


class SourceStore:
    """``<home>/sources``: archives named by hex digest, plus a memo of staged overrides."""

    def __init__(self, root: Path):
        self.root = root

    def path_for(self, digest: str) -> Path:
        return self.root / digest

    def has(self, digest: str) -> bool:
        return self.path_for(digest).is_file()

    # -- overrides --
    def stage_override(self, override: SourceOverride) -> str:
        """Put a local tarball or directory into the store; return its sha256.

        A directory becomes a deterministic tar.gz, so the same tree always has the same hash, and
        that hash (not the path) is what enters the binary identity.
        """
        memo_file = self.root / "overrides.json"
        memo = _read_json(memo_file)
        key = str(override.path)
        signature = override_signature(override.path)
        known = memo.get(key)
        if known and known["signature"] == signature and self.has(known["sha256"]):
            return known["sha256"]
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.root / f".staging-{os.getpid()}"
        try:
            if override.path.is_file():
                import shutil

                shutil.copyfile(override.path, temporary)
            else:
                write_deterministic_tarball(override.path, temporary, top=staged_top(override.component))
            digest = file_digest(temporary)
            os.replace(temporary, self.path_for(digest))
        finally:
            temporary.unlink(missing_ok=True)
        memo[key] = {"signature": signature, "sha256": digest}
        _write_json(memo_file, memo)
        return digest

    # -- pinned sources --
    def ensure(
        self,
        component: str,
        entry: dict,
        mirror_dirs: list[Path],
        progress: ProgressCallback | None = None,
        what: str | None = None,
        backup_urls: list[str] = (),
    ) -> Path:
        """The archive of a conandata entry, from the store, a mirror dir, its URLs in order, or
        a sources-backup server (``<backup>/<checksum>``) when the origin is gone. ``what`` names
        the file for messages when a source has several.

        Builds running side by side may need the same archive (two cross-compilers built from
        one host compiler's source whose binary came from a remote): one fetches, the other waits.
        """
        with _lock_for(Checksum.of_entry(entry).digest):
            return self._ensure(component, entry, mirror_dirs, progress, what, backup_urls)

    def _ensure(self, component, entry, mirror_dirs, progress, what, backup_urls) -> Path:
        checksum = Checksum.of_entry(entry)
        target = self.path_for(checksum.digest)
        if target.is_file():
            return target
        self.root.mkdir(parents=True, exist_ok=True)
        for mirror in mirror_dirs:
            candidate = mirror / checksum.digest
            if candidate.is_file() and file_digest(candidate, checksum.algorithm) == checksum.digest:
                import shutil

                shutil.copyfile(candidate, target.with_suffix(".part"))
                os.replace(target.with_suffix(".part"), target)
                return target
        urls = entry.get("url") or []
        urls = [urls] if isinstance(urls, str) else list(urls)
        urls += [f"{backup.rstrip('/')}/{checksum.digest}" for backup in backup_urls]
        failures: list[str] = []
        mismatch: ChecksumMismatchError | None = None
        for url in urls:
            try:
                download(url, target, checksum, progress)
                return target
            except ChecksumMismatchError as exc:
                mismatch = exc
                failures.append(f"{url}: checksum mismatch")
            except DownloadFailed as exc:
                failures.append(f"{url}: {exc}")
        if mismatch is not None:
            raise mismatch
        mirrors = ", ".join(str(m) for m in mirror_dirs) or "none configured"
        raise MirrorsUnreachableError(
            f"could not fetch {what or 'the source'} of {component} ({checksum}); tried: " + "; ".join(failures or ["no URL"]),
            f"put the file, named {checksum.digest}, in a mirror directory (UKTOOLCHAIN_SOURCE_MIRROR; now: {mirrors}) "
            f"or use --source {component}=PATH",
        )


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(digest: str) -> threading.Lock:
    """One lock per archive in this process (other processes are kept out by the home lock)."""
    with _locks_guard:
        return _locks.setdefault(digest, threading.Lock())


class DownloadFailed(Exception):
    pass


def download(url: str, target: Path, checksum: Checksum, progress: ProgressCallback | None = None) -> None:
    """Fetch ``url`` to ``target`` via ``target.part``: resumes a partial file, verifies, renames.

    Connection faults and 5xx are retried twice with backoff; 4xx are final.
    """
    import requests  # deferred: costs ~0.1 s, and the no-op path never downloads

    partial = target.with_name(target.name + ".part")
    attempts = 3
    for attempt in range(attempts):
        offset = partial.stat().st_size if partial.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            with requests.get(url, stream=True, timeout=(10, 60), headers=headers) as response:
                if response.status_code == 416:  # the partial file is already complete
                    break
                if 400 <= response.status_code < 500:
                    raise DownloadFailed(f"HTTP {response.status_code}")
                response.raise_for_status()
                resumed = response.status_code == 206
                total = response.headers.get("Content-Length")
                total = int(total) + (offset if resumed else 0) if total else None
                done = offset if resumed else 0
                with open(partial, "ab" if resumed else "wb") as stream:
                    for chunk in response.iter_content(CHUNK):
                        stream.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
            break
        except requests.RequestException as exc:  # local write errors (disk full) propagate as OSError
            if attempt == attempts - 1:
                raise DownloadFailed(_reason(exc)) from exc
            import time

            time.sleep(0.5 * (attempt + 1))
    actual = file_digest(partial, checksum.algorithm)
    if actual != checksum.digest:
        partial.unlink(missing_ok=True)
        raise ChecksumMismatchError(
            f"checksum mismatch for {url}: expected {checksum.algorithm} {checksum.digest}, got {actual}; nothing was cached",
            "the upstream file changed or the download was tampered with: check the URL, or update conandata.yml",
        )
    os.replace(partial, target)


def _reason(exc: Exception) -> str:
    import requests

    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    return str(exc).splitlines()[0][:120]


def write_deterministic_tarball(source_dir: Path, target: Path, top: str) -> None:
    """tar.gz of a tree with fixed order, owners and mtimes, so equal trees hash equal."""
    import gzip
    import tarfile

    # filename="": otherwise gzip records the target's name (a per-process temporary) in its header.
    with open(target, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(_walk(source_dir), key=lambda p: str(p.relative_to(source_dir))):
                info = tar.gettarinfo(str(path), arcname=f"{top}/{path.relative_to(source_dir)}")
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0
                info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
                if info.isreg():
                    with open(path, "rb") as stream:
                        tar.addfile(info, stream)
                else:
                    tar.addfile(info)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict) -> None:
    atomic.write_text(path, json.dumps(data, indent=1, sort_keys=True))


def mirror_dirs_from(env_value: str | None, configured: list[str]) -> list[Path]:
    raw = [p for p in (env_value or "").split(os.pathsep) if p] + list(configured)
    return [Path(p).expanduser().absolute() for p in raw]

