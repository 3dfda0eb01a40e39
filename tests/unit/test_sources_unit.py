"""sources (overrides, the store, deterministic tarballs, downloads against a real HTTP server on
127.0.0.1) and stamps.fingerprint (what makes an install not a no-op)."""
from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

import pytest

import synthetic
from uktoolchain.engine import stamps
from uktoolchain.errors import (
    ChecksumMismatchError,
    MirrorsUnreachableError,
    SourceOverrideError,
    UnknownComponentError,
)
from uktoolchain.resources import RecipeIndex
from uktoolchain.sources import (
    Checksum,
    DownloadFailed,
    SourceOverride,
    SourceStore,
    download,
    file_digest,
    make_override,
    mirror_dirs_from,
    parse_overrides,
    write_deterministic_tarball,
)
from uktoolchain.targets import Catalogue

KNOWN = ["alpha", "beta", "gamma"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_tree(root: Path) -> Path:
    (root / "src" / "deep").mkdir(parents=True)
    (root / "build.sh").write_text("echo build\n")
    (root / "build.sh").chmod(0o755)
    (root / "src" / "main.ml").write_text("let () = print_endline \"hi\"\n")
    (root / "src" / "deep" / "data.bin").write_bytes(bytes(range(256)))
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return root


# -- overrides --------------------------------------------------------------------------------


def test_parse_overrides(tmp_path):
    tarball = tmp_path / "a.tar.gz"
    tarball.write_bytes(synthetic.make_tarball("alpha", "x"))
    tree = make_tree(tmp_path / "tree")
    overrides = parse_overrides([f"alpha={tarball}", f"beta={tree}"], KNOWN)
    assert overrides == [SourceOverride("alpha", tarball), SourceOverride("beta", tree)]


def test_relative_override_paths_become_absolute(tmp_path, monkeypatch):
    (tmp_path / "a.tar.gz").write_bytes(synthetic.make_tarball("alpha", "x"))
    monkeypatch.chdir(tmp_path)
    (override,) = parse_overrides(["alpha=a.tar.gz"], KNOWN)
    assert override.path == tmp_path / "a.tar.gz"


@pytest.mark.parametrize("spec", ["alpha", "alpha=", "=/x", ""])
def test_override_needs_name_and_path(spec):
    with pytest.raises(SourceOverrideError) as caught:
        parse_overrides([spec], KNOWN)
    assert "COMPONENT=PATH" in caught.value.message and caught.value.exit_code == 3


def test_override_of_unknown_component():
    with pytest.raises(UnknownComponentError) as caught:
        make_override("nope", "/x", KNOWN)
    assert "'nope'" in caught.value.message and "alpha, beta, gamma" in caught.value.message
    assert caught.value.exit_code == 2


def test_override_path_must_exist_and_be_a_tarball_or_directory(tmp_path):
    with pytest.raises(SourceOverrideError, match="does not exist: /does/not/exist"):
        make_override("alpha", "/does/not/exist", KNOWN)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    with pytest.raises(SourceOverrideError, match="not a tar archive"):
        make_override("alpha", str(text), KNOWN)


# -- deterministic tarballs -------------------------------------------------------------------


def test_same_tree_gives_the_same_bytes(tmp_path):
    first = make_tree(tmp_path / "one")
    write_deterministic_tarball(first, tmp_path / "a.tgz", top="alpha-local")
    # Another copy, other mtimes, another output name: the same archive.
    second = make_tree(tmp_path / "two")
    for path in second.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    write_deterministic_tarball(second, tmp_path / "other-name.tgz", top="alpha-local")
    assert (tmp_path / "a.tgz").read_bytes() == (tmp_path / "other-name.tgz").read_bytes()


def test_changed_file_changes_the_hash(tmp_path):
    tree = make_tree(tmp_path / "tree")
    write_deterministic_tarball(tree, tmp_path / "a.tgz", top="t")
    (tree / "src" / "main.ml").write_text("let () = print_endline \"changed\"\n")
    write_deterministic_tarball(tree, tmp_path / "b.tgz", top="t")
    assert file_digest(tmp_path / "a.tgz") != file_digest(tmp_path / "b.tgz")
    (tree / "src" / "main.ml").write_text("let () = print_endline \"hi\"\n")
    (tree / "build.sh").chmod(0o644)  # the executable bit is content too
    write_deterministic_tarball(tree, tmp_path / "c.tgz", top="t")
    assert file_digest(tmp_path / "a.tgz") != file_digest(tmp_path / "c.tgz")


def test_deterministic_tarball_members(tmp_path):
    tree = make_tree(tmp_path / "tree")
    write_deterministic_tarball(tree, tmp_path / "a.tgz", top="alpha-local")
    with tarfile.open(tmp_path / "a.tgz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == [
            "alpha-local/build.sh", "alpha-local/src", "alpha-local/src/deep",
            "alpha-local/src/deep/data.bin", "alpha-local/src/main.ml",
        ]  # no .git
        assert all(m.mtime == 0 and m.uid == 0 and m.gid == 0 and m.uname == "" for m in members.values())
        assert members["alpha-local/build.sh"].mode == 0o755
        assert members["alpha-local/src/main.ml"].mode == 0o644
        assert tar.extractfile("alpha-local/src/deep/data.bin").read() == bytes(range(256))


# -- the store --------------------------------------------------------------------------------


def test_stage_override_of_a_tarball_and_of_a_directory(tmp_path):
    store = SourceStore(tmp_path / "sources")
    tarball = tmp_path / "a.tar.gz"
    tarball.write_bytes(synthetic.make_tarball("alpha", "x"))
    digest = store.stage_override(SourceOverride("alpha", tarball))
    assert digest == sha256(tarball.read_bytes())
    assert store.path_for(digest).read_bytes() == tarball.read_bytes()

    tree = make_tree(tmp_path / "tree")
    tree_digest = store.stage_override(SourceOverride("alpha", tree))
    assert file_digest(store.path_for(tree_digest)) == tree_digest
    again = make_tree(tmp_path / "copy")
    assert store.stage_override(SourceOverride("alpha", again)) == tree_digest
    (again / "build.sh").write_text("echo other\n")
    assert store.stage_override(SourceOverride("alpha", again)) != tree_digest
    assert not [p for p in store.root.iterdir() if p.name.startswith(".staging")]


def test_stage_override_notices_a_changed_file(tmp_path):
    store = SourceStore(tmp_path / "sources")
    tarball = tmp_path / "a.tar.gz"
    tarball.write_bytes(synthetic.make_tarball("alpha", "one"))
    first = store.stage_override(SourceOverride("alpha", tarball))
    tarball.write_bytes(synthetic.make_tarball("alpha", "two, longer"))
    second = store.stage_override(SourceOverride("alpha", tarball))
    assert first != second and second == sha256(tarball.read_bytes())


def test_ensure_prefers_the_store_then_mirrors(tmp_path):
    data = synthetic.make_tarball("alpha", "x")
    digest = sha256(data)
    entry = {"url": ["http://127.0.0.1:9/never-asked"], "sha256": digest}
    bad, good = tmp_path / "bad", tmp_path / "good"
    bad.mkdir()
    good.mkdir()
    (bad / digest).write_bytes(b"wrong content")
    (good / digest).write_bytes(data)
    store = SourceStore(tmp_path / "sources")
    path = store.ensure("alpha", entry, [bad, good])
    assert path == store.path_for(digest) and path.read_bytes() == data
    (good / digest).unlink()
    assert store.ensure("alpha", entry, [bad]) == path  # already in the store


def test_ensure_without_any_source(tmp_path):
    digest = sha256(b"nothing")
    store = SourceStore(tmp_path / "sources")
    with pytest.raises(MirrorsUnreachableError) as caught:
        store.ensure("alpha", {"url": [], "sha256": digest}, [tmp_path / "m"])
    assert f"named {digest}" in caught.value.hint and str(tmp_path / "m") in caught.value.hint
    assert caught.value.exit_code == 4
    assert not store.path_for(digest).exists()


def test_checksum_of_entry():
    assert Checksum.of_entry({"sha256": "ABC"}) == Checksum("sha256", "abc")
    assert Checksum.of_entry({"sha512": "def"}) == Checksum("sha512", "def")
    with pytest.raises(SourceOverrideError):
        Checksum.of_entry({"url": "x"})


def test_mirror_dirs_from_environment_come_first(tmp_path):
    dirs = mirror_dirs_from(f"{tmp_path}/e1{os.pathsep}{tmp_path}/e2", [f"{tmp_path}/c"])
    assert dirs == [tmp_path / "e1", tmp_path / "e2", tmp_path / "c"]
    assert mirror_dirs_from(None, []) == []


# -- downloads --------------------------------------------------------------------------------


@pytest.fixture
def served(server):
    data = synthetic.make_tarball("alpha", "x", padding=300_000)
    (server.root / "a.tgz").write_bytes(data)
    return data


def test_download_resumes_a_partial_file(tmp_path, server, served):
    target = tmp_path / sha256(served)
    Path(str(target) + ".part").write_bytes(served[:100_000])
    download(server.url("a.tgz"), target, Checksum("sha256", sha256(served)))
    assert target.read_bytes() == served
    assert server.state.ranges == ["bytes=100000-"]
    assert not Path(str(target) + ".part").exists()


def test_download_of_an_already_complete_partial_file(tmp_path, server, served):
    target = tmp_path / sha256(served)
    Path(str(target) + ".part").write_bytes(served)
    download(server.url("a.tgz"), target, Checksum("sha256", sha256(served)))  # the server answers 416
    assert target.read_bytes() == served


def test_download_reports_progress(tmp_path, server, served):
    seen = []
    download(server.url("a.tgz"), tmp_path / "t", Checksum("sha256", sha256(served)), lambda d, t: seen.append((d, t)))
    assert seen[-1] == (len(served), len(served))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_download_with_a_wrong_checksum_keeps_nothing(tmp_path, server, served):
    store = tmp_path / "store"
    store.mkdir()
    target = store / "t"
    with pytest.raises(ChecksumMismatchError) as caught:
        download(server.url("a.tgz"), target, Checksum("sha256", "0" * 64))
    assert f"got {sha256(served)}" in caught.value.message and server.url("a.tgz") in caught.value.message
    assert list(store.iterdir()) == []


def test_download_404_is_final(tmp_path, server):
    with pytest.raises(DownloadFailed, match="HTTP 404"):
        download(server.url("missing"), tmp_path / "t", Checksum("sha256", "0" * 64))
    assert server.state.requests == ["/missing"]


# -- stamps.fingerprint -----------------------------------------------------------------------


@pytest.fixture
def fingerprinting(tmp_path, server):
    root = synthetic.write_index(tmp_path / "index", server)
    index = RecipeIndex(root)
    catalogue = Catalogue.load(index.catalogue_file)
    solo = catalogue.targets["solo"]
    return index, catalogue, solo


def test_fingerprint_is_stable(fingerprinting):
    index, catalogue, solo = fingerprinting
    assert stamps.fingerprint(index, catalogue, solo, {}) == stamps.fingerprint(index, catalogue, solo, {})
    assert stamps.fingerprint(index, catalogue, solo, {}) != stamps.fingerprint(index, catalogue, catalogue.targets["tiny"], {})


def test_fingerprint_changes_with_a_new_patch(fingerprinting):
    index, catalogue, solo = fingerprinting
    before = stamps.fingerprint(index, catalogue, solo, {})
    (index.patches / "beta").mkdir()
    (index.patches / "beta" / "1.0-0001-x.patch").write_text("--- a\n+++ b\n")
    assert stamps.fingerprint(index, catalogue, solo, {}) == before  # not a component of solo
    (index.patches / "alpha").mkdir()
    patch = index.patches / "alpha" / "1.0-0001-x.patch"
    patch.write_text("--- a\n+++ b\n")
    with_patch = stamps.fingerprint(index, catalogue, solo, {})
    assert with_patch != before
    patch.write_text("--- a\n+++ b\n@@ changed @@\n")
    assert stamps.fingerprint(index, catalogue, solo, {}) != with_patch


def test_fingerprint_changes_with_the_recipe_and_the_base(fingerprinting):
    index, catalogue, solo = fingerprinting
    before = stamps.fingerprint(index, catalogue, solo, {})
    base = index.recipe_dir("ukbase") / "conanfile.py"
    base.write_text(base.read_text() + "\n# changed\n")
    assert stamps.fingerprint(index, catalogue, solo, {}) != before


def test_fingerprint_follows_an_override(fingerprinting, tmp_path):
    index, catalogue, solo = fingerprinting
    tarball = tmp_path / "a.tar.gz"
    tarball.write_bytes(synthetic.make_tarball("alpha", "x"))
    pinned = stamps.fingerprint(index, catalogue, solo, {})
    local = stamps.fingerprint(index, catalogue, solo, {"alpha": tarball})
    assert local != pinned
    assert stamps.fingerprint(index, catalogue, solo, {"beta": tarball}) == pinned  # beta is not in solo

    st = tarball.stat()
    os.utime(tarball, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    touched = stamps.fingerprint(index, catalogue, solo, {"alpha": tarball})
    assert touched != local

    tree = make_tree(tmp_path / "tree")
    on_tree = stamps.fingerprint(index, catalogue, solo, {"alpha": tree})
    (tree / "src" / "new.ml").write_text("")
    assert stamps.fingerprint(index, catalogue, solo, {"alpha": tree}) != on_tree


def test_fingerprint_and_cache_key_hash_the_same_inputs_but_a_local_source(fingerprinting, tmp_path, monkeypatch):
    from uktoolchain.engine.cachekey import cache_key

    index, catalogue, solo = fingerprinting
    tarball = tmp_path / "a.tar.gz"
    tarball.write_bytes(synthetic.make_tarball("alpha", "x"))

    def both() -> tuple[str, str]:
        return (stamps.fingerprint(index, catalogue, solo, {"alpha": tarball}),
                cache_key(index, catalogue, [solo], {"alpha": tarball}))

    first = both()
    monkeypatch.setattr(os, "cpu_count", lambda: 97)  # a machine with more cores builds the same
    assert both() == first
    recipe = index.recipe_dir("alpha") / "conanfile.py"
    recipe.write_text(recipe.read_text() + "\n# changed\n")
    changed = both()
    assert changed[0] != first[0] and changed[1] != first[1]
    st = tarball.stat()
    os.utime(tarball, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    touched = both()  # the fingerprint looks by stat, the key by content
    assert touched[0] != changed[0] and touched[1] == changed[1]


# -- DigestMemo -------------------------------------------------------------------------------


def _settle(path, seconds_ago: float = 60) -> None:
    """Give a file (or every entry of a tree) an mtime in the past, as sources usually have."""
    import os
    import time

    moment = time.time() - seconds_ago
    for entry in [path, *(path.rglob("*") if path.is_dir() else [])]:
        os.utime(entry, (moment, moment))


def test_digest_memo_reads_a_settled_source_once(tmp_path):
    from uktoolchain.sources import DigestMemo, file_digest

    source = tmp_path / "ocaml.tgz"
    source.write_bytes(b"x" * 1000)
    _settle(source)
    computed = []

    def compute(path):
        computed.append(path)
        return file_digest(path)

    memo = DigestMemo(tmp_path / "state" / "digests.json")
    first = memo.digest(source, "sha256", compute)
    assert memo.digest(source, "sha256", compute) == first and len(computed) == 1
    assert DigestMemo(memo.path).digest(source, "sha256", compute) == first and len(computed) == 1  # kept on disk

    source.write_bytes(b"y" * 1000)  # same size, new mtime
    _settle(source, 30)
    assert memo.digest(source, "sha256", compute) != first and len(computed) == 2

    replacement = tmp_path / "other.tgz"  # same size and mtime, another file moved over it
    replacement.write_bytes(b"z" * 1000)
    import os

    os.utime(replacement, (source.stat().st_atime, source.stat().st_mtime))
    replacement.replace(source)
    assert memo.digest(source, "sha256", compute) == file_digest(source) and len(computed) == 3


def test_digest_memo_keeps_nothing_for_a_source_just_written(tmp_path):
    from uktoolchain.sources import DigestMemo, file_digest

    source = tmp_path / "fresh.tgz"
    source.write_bytes(b"fresh")
    memo = DigestMemo(tmp_path / "digests.json")
    computed = []
    for _ in range(2):
        memo.digest(source, "sha256", lambda p: computed.append(p) or file_digest(p))
    assert len(computed) == 2  # a rewrite within the same mtime tick would go unnoticed


def test_digest_memo_of_a_tree_follows_its_entries(tmp_path):
    from uktoolchain.engine.cachekey import content_digest
    from uktoolchain.sources import DigestMemo

    tree = tmp_path / "firmware"
    tree.mkdir()
    (tree / "start4.elf").write_bytes(b"elf")
    _settle(tree)
    memo = DigestMemo(tmp_path / "digests.json")
    computed = []
    first = memo.digest(tree, "content", lambda p: computed.append(p) or content_digest(p))
    memo.digest(tree, "content", lambda p: computed.append(p) or content_digest(p))
    assert len(computed) == 1
    (tree / "fixup4.dat").write_bytes(b"dat")
    _settle(tree)
    assert memo.digest(tree, "content", lambda p: computed.append(p) or content_digest(p)) != first
    assert len(computed) == 2


# -- is_tar_archive ------------------------------------------------------------------------------


def test_tar_check_agrees_with_tarfile(tmp_path):
    import gzip
    import io
    import tarfile

    from uktoolchain.sources import is_tar_archive

    tree = tmp_path / "tree"
    (tree / "ocaml-5.3.0").mkdir(parents=True)
    (tree / "ocaml-5.3.0" / "configure").write_text("#!/bin/sh\n")
    samples = {}
    for mode, suffix in (("w", "tar"), ("w:gz", "tar.gz"), ("w:bz2", "tar.bz2"), ("w:xz", "tar.xz")):
        archive = tmp_path / f"source.{suffix}"
        with tarfile.open(archive, mode) as tar:
            tar.add(tree / "ocaml-5.3.0", arcname="ocaml-5.3.0")
        samples[suffix] = archive
    samples["gzip of a non-tar"] = tmp_path / "notes.gz"
    samples["gzip of a non-tar"].write_bytes(gzip.compress(b"just text\n" * 200))
    samples["text"] = tmp_path / "README"
    samples["text"].write_text("not an archive\n" * 100)
    samples["empty"] = tmp_path / "empty"
    samples["empty"].write_bytes(b"")
    samples["broken gzip"] = tmp_path / "broken.tgz"
    samples["broken gzip"].write_bytes(b"\x1f\x8b" + b"\x00" * 100)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.add(tree / "ocaml-5.3.0" / "configure", arcname="configure")
    samples["gnu tar"] = tmp_path / "gnu.tar"
    samples["gnu tar"].write_bytes(buffer.getvalue())
    verdicts = {name: (is_tar_archive(path), tarfile.is_tarfile(path)) for name, path in samples.items()}
    assert all(ours == theirs for ours, theirs in verdicts.values()), verdicts
    assert [name for name, (ours, _) in verdicts.items() if ours] == ["tar", "tar.gz", "tar.bz2", "tar.xz", "gnu tar"]


def test_tree_signatures_walk_in_path_order(tmp_path):
    """The tree walk behind recorded signatures works on strings but yields what sorted Path
    objects did (component by component: "a" and its files before "a-b", unlike plain string
    order), so signatures recorded before it still match."""
    from uktoolchain.sources import _tree_stats, _walk

    root = tmp_path / "tree"
    for relative in ("a/z", "a-b/c/y", "a.txt", "B", ".git/objects/x", "sub/.git"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(relative)
    (root / "link").symlink_to("a")
    (root / "dangling").symlink_to("/nonexistent")
    expected = [(str(p.relative_to(root)), p.lstat()) for p in sorted(_walk(root))]
    assert _tree_stats(root) == expected
    names = [name for name, _ in expected]
    assert names.index("a/z") < names.index("a-b") and ".git/objects/x" not in names and "sub/.git" in names
