"""The editor extra in the catalogue, what `doctor editor` reads from installed stamps, and the
(merlin) context of `uktoolchain workspace`."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from uktoolchain import doctor, editor
from uktoolchain.engine import state
from uktoolchain.engine.model import InstalledPackage
from uktoolchain.errors import ConfigError, UsageError
from uktoolchain.exporters import workspace
from uktoolchain.home import Home
from uktoolchain.resources import RecipeIndex
from uktoolchain.targets import Catalogue

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def catalogue():
    return Catalogue.load(RecipeIndex.discover().catalogue_file)


def test_editor_extra_is_host_tools_for_any_target(catalogue):
    for name in ("unix", "spt", "aarch64-spt"):
        target = catalogue.with_extras(catalogue.targets[name], ["editor"])
        assert target.extras == ("editor",) and target.components[-1] == "merlin"
        labels = catalogue.labels_of(target)
        # One build per host, shared by every target: no architecture in the label.
        assert {"merlin", "menhir", "yojson", "csexp", "cppo"} <= set(labels)
    # merlin's suffix names the compiler of its set: -503 for OCaml 5.3, -504 for OCaml 5.4.
    for toolset in catalogue.sets.values():
        major, minor = toolset.versions["ocaml"].split(".")[:2]
        assert toolset.versions["merlin"].endswith(f"-{major}{int(minor):02d}"), toolset.name
    with pytest.raises(UsageError, match="rust extra is for unikernel targets"):
        catalogue.with_extras(catalogue.targets["unix"], ["rust", "editor"])


def test_lsp_extra_is_the_editor_extra_plus_ocamllsp(catalogue):
    assert tuple(catalogue.extras["lsp"]) == tuple(catalogue.extras["editor"]) + ("ocaml-lsp-server",)
    target = catalogue.with_extras(catalogue.targets["spt"], ["lsp"])
    assert target.components[-1] == "ocaml-lsp-server" and "ocaml-lsp-server" in catalogue.labels_of(target)


def test_editor_recipes_pin_what_they_build(catalogue):
    import yaml

    for toolset in catalogue.sets.values():
        for component in catalogue.extras["lsp"]:
            version = toolset.versions[component]
            data = yaml.safe_load((REPO / "recipes" / component / "conandata.yml").read_text())
            entry = data["sources"][version]
            # One archive, or (ocaml-lsp-server's duniverse) several, each with its folder and the
            # repository tag it is cut from (ci/assemble-duniverse.py).
            parts = entry["files"].values() if "files" in entry else [entry]
            for part in parts:
                assert part["url"] and (part.get("sha256") or part.get("sha512")), component
                if "files" in entry:
                    assert part["into"] and len(part["git"].split()) == 2, (component, part)
            assert data["requires"][version], component  # what it builds with, as version ranges
            recipe = (REPO / "recipes" / component / "conanfile.py").read_text()
            assert "target_arch" not in recipe, component  # host tools, one build per host


def _install(home: Home, target: str, extras: tuple[str, ...], packages: dict[str, tuple[str, list[str]]],
             toolset: str = "5.3"):
    """A record as install writes it, with package folders holding the given bin/ programs."""
    installed = []
    for name, (version, programs) in packages.items():
        folder = f"p/{name}{abs(hash((toolset, target, name))) % 10**6}/p"
        bindir = home.conan / folder / "bin"
        bindir.mkdir(parents=True, exist_ok=True)
        for program in programs:
            (bindir / program).write_text("#!/bin/sh\n")
            (bindir / program).chmod(0o755)
        installed.append(InstalledPackage(label=name, name=name, ref=f"{name}/{version}#abc", package_id="0",
                                          folder=folder))
    state.write(home, state.InstalledTarget(toolset, target, "fp", tuple(installed), extras))


def test_survey_finds_merlin_of_targets_installed_with_editor(tmp_path, catalogue):
    home = Home(tmp_path / "home")
    _install(home, "spt", ("editor",), {"ocaml": ("5.3.0", ["ocamlc"]), "merlin": ("5.4.1-503", ["ocamlmerlin"])})
    _install(home, "hvt", (), {"ocaml": ("5.3.0", ["ocamlc"])})
    tools = editor.survey(home, catalogue)
    assert [(t.toolset, t.target, t.program, t.version) for t in tools] == [("5.3", "spt", "ocamlmerlin", "5.4.1-503")]
    assert tools[0].path.is_file()

    missing = editor.report(editor.survey(Home(tmp_path / "empty"), catalogue), {})
    assert not missing.ok and "no target is installed with the editor extra" in missing.detail


def test_report_says_what_path_finds_and_how_to_set_up_editors(tmp_path, catalogue, monkeypatch):
    home = Home(tmp_path / "home")
    _install(home, "spt", ("editor",), {"merlin": ("5.4.1-503", ["ocamlmerlin"])})
    tools = editor.survey(home, catalogue)
    merlin = str(tools[0].path)

    absent = editor.report(tools, {"ocamlmerlin": None}, default_set="5.4")
    assert absent.ok and f"ocamlmerlin 5.4.1-503 (OCaml 5.3 set) for spt: {merlin}" in absent.detail
    assert "not on PATH" in absent.detail
    assert (editor.report(tools, {"ocamlmerlin": merlin}, "5.4").detail
            == f"ocamlmerlin 5.4.1-503 (OCaml 5.3 set) for spt: {merlin}")
    other = editor.report(tools, {"ocamlmerlin": "/opam/default/bin/ocamlmerlin"}, "5.4")
    assert "PATH finds another ocamlmerlin first (/opam/default/bin/ocamlmerlin)" in other.detail

    emacs, dune_workspace, vscode = absent.advice
    # 5.3 is not the default set: the environment is asked for by name.
    assert 'eval "$(uktoolchain env spt --ocaml 5.3)"' in emacs and "uktoolchain workspace spt" in dune_workspace
    assert "needs ocaml-lsp-server" in vscode and "env spt --ocaml 5.3)" in vscode  # none installed yet
    assert "uktoolchain install spt --with lsp --ocaml 5.3 builds it" in vscode
    assert 'eval "$(uktoolchain env spt)"' in editor.report(tools, {}, default_set="5.3").advice[0]
    _install(home, "hvt", ("lsp",), {"merlin": ("5.4.1-503", ["ocamlmerlin"]),
                                     "ocaml-lsp-server": ("1.22.0", ["ocamllsp"])})
    with_lsp = editor.report(editor.survey(home, catalogue), {"ocamlmerlin": merlin}, "5.4")
    lsp = next(t for t in editor.survey(home, catalogue) if t.program == "ocamllsp")
    assert lsp.target == "hvt" and f"ocamlmerlin 5.4.1-503 (OCaml 5.3 set) for " in with_lsp.detail
    assert with_lsp.advice[2].startswith(f"VS Code (OCaml Platform) runs ocamllsp: {lsp.path} (1.22.0)")
    monkeypatch.setenv("UKTOOLCHAIN_HOME", "/my home")
    setting = json.loads("{" + editor.vscode_sandbox("spt") + "}")["ocaml.sandbox"]
    assert setting["kind"] == "custom"
    assert setting["template"].startswith("eval \"$(UKTOOLCHAIN_HOME='/my home' ")
    assert setting["template"].endswith(' env spt)" && $prog $args')


def test_doctor_editor_reads_the_home(tmp_path, monkeypatch):
    home = Home(Path(os.environ["UKTOOLCHAIN_HOME"]))
    assert not doctor.run_checks(["editor"])[0].ok
    _install(home, "unix", ("editor",), {"merlin": ("5.4.1-503", ["ocamlmerlin"])})
    check = doctor.run_checks(["editor"])[0]
    assert check.ok and "for unix" in check.detail
    lines = doctor.render_plain([check], "debian").splitlines()
    assert lines[0].startswith("ok      editor support (ocamlmerlin): ocamlmerlin 5.4.1-503 (OCaml 5.3 set) for unix")
    assert len(lines) == 4 and '"kind": "custom"' in lines[3]


@pytest.fixture
def targets(catalogue):
    return lambda *names: catalogue.resolve(list(names))


def _merlin_contexts(text: str) -> list[str]:
    return [f[1][1][1] for f in workspace.read_sexps(text)
            if f[0] == "context" and isinstance(f[1], list) and ["merlin"] in f[1]]


def test_workspace_merlin_context_is_chosen_once(targets):
    assert _merlin_contexts(workspace.render(targets("unix", "hvt", "spt"), None)) == ["hvt"]
    assert _merlin_contexts(workspace.render(targets("hvt", "spt"), None, merlin="spt")) == ["spt"]
    # A comment that mentions (merlin) is not a context that has it.
    text = workspace.render(targets("spt"), "(lang dune 3.0)\n; no (merlin) here\n")
    assert _merlin_contexts(text) == ["spt"]
    # Rerunning with another choice moves it; the user's own (merlin) context wins by default.
    assert _merlin_contexts(workspace.render(targets("hvt", "spt"), text, merlin="hvt")) == ["hvt"]
    user = "(lang dune 3.0)\n(context (default (name mine) (merlin)))\n"
    assert workspace.merlin_context(targets("spt"), user) == "mine"
    assert "(merlin)" not in workspace.render(targets("spt"), user).split(workspace.BEGIN)[1]


def test_workspace_merlin_refusals(targets):
    with pytest.raises(ConfigError, match="--merlin virtio is not one of the unikernel contexts written"):
        workspace.render(targets("spt"), None, merlin="virtio")
    with pytest.raises(ConfigError, match="own context mine has \\(merlin\\)"):
        workspace.render(targets("spt"), "(lang dune 3.0)\n(context (default (name mine) (merlin)))\n", merlin="spt")


def _rules(component: str) -> dict:
    import yaml

    return yaml.safe_load((REPO / "recipes" / component / "conandata.yml").read_text())["local_source"]


def test_merlin_tag_tree_is_known_by_its_top_directory(tmp_path):
    from uktoolchain.errors import SourceOverrideError
    from uktoolchain.sources import SourceOverride, check_local_source

    tree = tmp_path / "merlin-5.4.1-503"
    for name in _rules("merlin")["required"] + ["merlin.opam"]:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text('opam-version: "2.0"\n')
    check_local_source(SourceOverride("merlin", tree), _rules("merlin"), "5.4.1-503")
    with pytest.raises(SourceOverrideError, match="is version 5.4.1-503, but uktoolchain builds merlin 5.7.1-504"):
        check_local_source(SourceOverride("merlin", tree), _rules("merlin"), "5.7.1-504")
    (tree / "merlin.opam").write_text('opam-version: "2.0"\nversion: "5.7.1-504"\n')  # a release's says it
    check_local_source(SourceOverride("merlin", tree), _rules("merlin"), "5.7.1-504")


EDITOR_SOURCES = Path(os.environ.get("UKTOOLCHAIN_TEST_EDITOR_SOURCES", "/nonexistent"))
DEBIAN = {"merlin": ("ocaml-merlin_5.4.1-503+ds.orig.tar.xz", "5.4.1-503"),
          "menhir": ("menhir_20240715+ds.orig.tar.xz", "20240715"), "yojson": ("yojson_2.0.2.orig.tar.gz", "2.0.2")}


@pytest.mark.parametrize("component", sorted(DEBIAN))
def test_debian_sources_pass_the_local_source_rules(component):
    from uktoolchain.sources import SourceOverride, check_local_source

    name, version = DEBIAN[component]
    if not (EDITOR_SOURCES / name).is_file():
        pytest.skip("UKTOOLCHAIN_TEST_EDITOR_SOURCES (ci/fetch-editor-sources.sh) not given")
    check_local_source(SourceOverride(component, EDITOR_SOURCES / name), _rules(component), version)
