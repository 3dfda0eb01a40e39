"""Every recipe that downloads sources says in its conandata what a local source must be (its
layout, and how to read its version), and sources.check_local_source holds local sources to it.

Trees are made here with the few files the rules read, as a directory and as a tarball with a
top directory (how releases come). With UKTOOLCHAIN_TEST_SOURCES / UKTOOLCHAIN_TEST_OCAML_SOURCE,
the real upstream archives are probed too.
"""
from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest
import yaml

from uktoolchain.errors import SourceOverrideError
from uktoolchain.sources import SourceOverride, SourceTree, check_local_source, probe_version
from uktoolchain.targets import Catalogue

REPO = Path(__file__).resolve().parents[2]
# The default toolchain set's versions (the checks are the same for every set's).
VERSIONS = Catalogue.load(REPO / "recipes" / "targets.toml").versions


def conandata(component: str) -> dict:
    return yaml.safe_load((REPO / "recipes" / component / "conandata.yml").read_text())


def components_with_sources() -> list[str]:
    return sorted(p.parent.name for p in (REPO / "recipes").glob("*/conandata.yml") if conandata(p.parent.name).get("sources"))


# What each component's version file says, for a given version (the files' real shapes).
VERSION_FILES = {
    "ocaml": lambda v: {"VERSION": f"{v}\n\n# Starting with OCaml 4.14, although the version string ...\n"},
    "ocamlfind": lambda v: {"opam": f'opam-version: "2.0"\nname: "ocamlfind"\nversion: "{v}.git"\n'},
    "dune": lambda v: {"dune-project": f"(lang dune 3.12)\n; comment\n(name dune)\n(version {v})\n"},
    "solo5": lambda v: {"include/version.h.distrib": f'#ifndef __VERSION_H__\n#define SOLO5_VERSION "v{v}"\n#endif\n'},
    "ocaml-solo5": lambda v: {"CHANGES.md": f"## v{v} (2025-11-25)\n\n* Support OCaml 5.4.0\n\n## v1.1.0\n"},
}
NO_VERSION = {"rpi4-firmware": "firmware blobs carry no version string we can read; `image` compares checksums"}


def make_tree(root: Path, component: str, version: str, omit: str | None = None) -> Path:
    rules = conandata(component)["local_source"]
    files = {name: "x\n" for name in rules["required"]}
    files.update(VERSION_FILES.get(component, lambda v: {})(version))
    for name, content in files.items():
        if name != omit:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(content)
    return root


def as_tarball(tree: Path, top: str) -> Path:
    tarball = tree.parent / f"{top}.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tree, arcname=top)
    return tarball


def check(component: str, path: Path) -> None:
    check_local_source(SourceOverride(component, path), conandata(component)["local_source"], VERSIONS[component])


def test_every_recipe_with_sources_has_local_source_rules():
    components = components_with_sources()
    assert {"ocaml", "ocamlfind", "dune", "solo5", "ocaml-solo5", "rpi4-firmware"} <= set(components)
    for component in components:
        rules = conandata(component).get("local_source")
        assert rules and rules.get("required"), f"{component}: no local_source.required in its conandata"
        assert rules.get("version") or component in NO_VERSION, f"{component}: no local_source.version probe"


@pytest.mark.parametrize("component", sorted(VERSION_FILES))
def test_the_pinned_version_passes_as_directory_and_tarball(component, tmp_path):
    version = VERSIONS[component]
    tree = make_tree(tmp_path / "src", component, version)
    check(component, tree)
    check(component, as_tarball(tree, f"{component}-{version}"))


@pytest.mark.parametrize("component", sorted(VERSION_FILES))
def test_another_version_is_refused_naming_both(component, tmp_path):
    tree = make_tree(tmp_path / "src", component, "9.8.7")
    for path in (tree, as_tarball(tree, f"{component}-9.8.7")):
        with pytest.raises(SourceOverrideError) as refused:
            check(component, path)
        assert refused.value.message == (f"local source for {component} ({path}) is version 9.8.7, "
                                         f"but uktoolchain builds {component} {VERSIONS[component]}")
        assert f"give the {component} {VERSIONS[component]} source" in refused.value.hint
        # The example names the version being built, whatever the set (conandata writes {version}).
        assert "{version}" not in refused.value.hint and "{version}" in conandata(component)["local_source"]["example"]
        assert VERSIONS[component] in refused.value.hint.split("e.g.", 1)[1]


@pytest.mark.parametrize("component", sorted(VERSION_FILES))
def test_a_tree_without_the_layout_is_refused_naming_what_is_missing(component, tmp_path):
    required = conandata(component)["local_source"]["required"]
    tree = make_tree(tmp_path / "src", component, VERSIONS[component], omit=required[0])
    with pytest.raises(SourceOverrideError) as refused:
        check(component, tree)
    assert refused.value.message == f"local source for {component} ({tree}) lacks {required[0]} (looked in its top)"


def test_an_empty_directory_is_refused(tmp_path):
    with pytest.raises(SourceOverrideError) as refused:
        check("ocaml", tmp_path)
    assert refused.value.message == f"local source for ocaml ({tmp_path}) lacks configure, VERSION, Makefile (looked in its top)"


def test_fallback_probes(tmp_path):
    # dune from a git archive of a tag: no (version) in dune-project, CHANGES.md's first heading.
    tree = make_tree(tmp_path / "dune", "dune", "0")
    (tree / "dune-project").write_text("(lang dune 3.12)\n(name dune)\n")
    (tree / "CHANGES.md").write_text(f"<!-- generated -->\n\n{VERSIONS['dune']} (2025-01-23)\n-------------------\n\n"
                                     "- fix\n\n3.17.1 (2024-12-01)\n-------------------\n")
    check("dune", tree)
    (tree / "CHANGES.md").write_text(f"Unreleased\n----------\n\n{VERSIONS['dune']} (2025-01-23)\n----------\n")
    with pytest.raises(SourceOverrideError, match="is version Unreleased"):
        check("dune", tree)


def test_solo5_without_its_version_header_is_refused_before_the_build(tmp_path):
    """A git archive of a Solo5 tag has no include/version.h.distrib, and a local directory is
    staged without .git: Solo5's build then stops ("include/version.h.distrib: Not found, and we
    are not in a Git tree"). Refused before anything is built, even when the top directory is
    named like a release."""
    solo5 = make_tree(tmp_path / f"solo5-v{VERSIONS['solo5']}", "solo5", VERSIONS["solo5"])
    (solo5 / "include" / "version.h.distrib").unlink()
    for source in (solo5, as_tarball(solo5, f"solo5-v{VERSIONS['solo5']}")):
        with pytest.raises(SourceOverrideError) as refused:
            check("solo5", source)
        assert refused.value.message == (f"local source for solo5 ({source}) lacks include/version.h.distrib "
                                         "(looked in its top)")
        assert "solo5-v" in refused.value.hint and "release tarball" in refused.value.hint


def test_tree_view_reads_tarballs_as_the_recipe_sees_them(tmp_path):
    tree = make_tree(tmp_path / "src", "ocaml", "5.3.0")
    tarball = as_tarball(tree, "package")  # npm's ocaml@5.3.0 has its tree under package/
    view = SourceTree(tarball, wanted=["VERSION"])
    assert view.top_dir == "package" and {"configure", "VERSION", "Makefile"} <= view.files
    assert probe_version(view, conandata("ocaml")["local_source"]["version"]) == "5.3.0"
    assert SourceTree(tarball).read_text("VERSION").startswith("5.3.0")  # not read in the first pass


def test_a_tarball_is_read_once_for_its_files_and_its_version(tmp_path, monkeypatch):
    """A compressed tarball cannot be read at a member's offset: each lookup after the member
    list would be a pass over the whole archive."""
    tree = make_tree(tmp_path / "src", "ocaml", VERSIONS["ocaml"])
    tarball = as_tarball(tree, f"ocaml-{VERSIONS['ocaml']}")
    opened = []
    real_open = tarfile.open
    monkeypatch.setattr(tarfile, "open", lambda *args, **kwargs: opened.append(args) or real_open(*args, **kwargs))
    check("ocaml", tarball)
    assert len(opened) == 1, opened


SOURCES = Path(os.environ.get("UKTOOLCHAIN_TEST_SOURCES", "/nonexistent"))
REAL = {"solo5": SOURCES / "solo5-v0.12.1.tar.gz", "ocaml-solo5": SOURCES / "ocaml-solo5-1.2.0.tar.gz",
        "ocaml": Path(os.environ.get("UKTOOLCHAIN_TEST_OCAML_SOURCE", "/nonexistent"))}
# The archives above are the 5.3 set's (CI's OCaml source is npm's 5.3.0), so they are held to its pins.
REAL_SET = Catalogue.load(REPO / "recipes" / "targets.toml").for_set("5.3").versions


@pytest.mark.parametrize("component", sorted(REAL))
def test_real_upstream_sources_pass(component):
    if not REAL[component].is_file():
        pytest.skip(f"upstream {component} source not given (UKTOOLCHAIN_TEST_SOURCES, UKTOOLCHAIN_TEST_OCAML_SOURCE)")
    check_local_source(SourceOverride(component, REAL[component]), conandata(component)["local_source"],
                       REAL_SET[component])


def test_a_truncated_tarball_is_refused_not_a_crash(tmp_path):
    tree = make_tree(tmp_path / "src", "ocaml", VERSIONS["ocaml"])
    (tree / "big").write_bytes(os.urandom(256 * 1024))  # so that the cut falls inside the data
    whole = as_tarball(tree, "ocaml-5.3.0").read_bytes()
    truncated = tmp_path / "cut.tar.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SourceOverrideError) as refused:
        check("ocaml", truncated)
    assert refused.value.message.startswith(f"local source for ocaml cannot be read: {truncated}: ")


def test_a_duniverse_source_must_have_every_part(tmp_path):
    """ocaml-lsp-server's source is many archives, each unpacked into its own folder: a local
    source lacking one is refused before any build, naming the folder."""
    from uktoolchain.sources import source_parts

    version = VERSIONS["ocaml-lsp-server"]
    data = conandata("ocaml-lsp-server")
    parts = source_parts(data["sources"][version])
    assert "duniverse/dune-3.24.2" in parts and "." not in parts and len(parts) >= 10
    tree = tmp_path / "lsp"
    for name in data["local_source"]["required"]:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("x\n")
    (tree / "CHANGES.md").write_text(f"# {version}\n\n## Features\n")
    for part in parts:
        (tree / part).mkdir(parents=True)
        (tree / part / "dune-project").write_text("(lang dune 3.0)\n")
    check_local_source(SourceOverride("ocaml-lsp-server", tree), data["local_source"], version, parts)
    for part in parts[:1] + parts[-1:]:
        for path in sorted((tree / part).rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    with pytest.raises(SourceOverrideError, match=f"lacks {parts[0]}/, {parts[-1]}/") as raised:
        check_local_source(SourceOverride("ocaml-lsp-server", tree), data["local_source"], version, parts)
    assert "ci/assemble-duniverse.py" in raised.value.hint
    (tree / "CHANGES.md").write_text("# 1.19.0\n")
    with pytest.raises(SourceOverrideError, match="is version 1.19.0"):
        check_local_source(SourceOverride("ocaml-lsp-server", tree), data["local_source"], version)
