"""mirage.py: recognising a MirageOS project by the files `mirage configure` writes (the layout of
mirage 4.11; the files below are written here, in that layout, not copied from mirage)."""
from __future__ import annotations

from mirage_layout import CONFIG_ML, configured
from uktoolchain import mirage


def test_a_configured_project_and_its_binding(tmp_path):
    project = mirage.detect(configured(tmp_path / "hello", "hvt"))
    assert project == mirage.MirageProject(tmp_path / "hello", configured=True, binding="hvt")


def test_a_project_before_mirage_configure(tmp_path):
    (tmp_path / "config.ml").write_text(CONFIG_ML)
    assert mirage.detect(tmp_path) == mirage.MirageProject(tmp_path, configured=False, binding=None)


def test_other_projects_are_not_mirage(tmp_path):
    (tmp_path / "dune-project").write_text("(lang dune 3.0)\n")
    (tmp_path / "config.ml").write_text("let verbose = true\n")  # a module that happens to be called config
    assert mirage.detect(tmp_path) is None
    assert mirage.detect(tmp_path / "missing") is None


def test_the_refusal_says_what_to_run_for_each_target(tmp_path, targets):
    project = mirage.detect(configured(tmp_path / "p", "spt"))
    same = mirage.refuse_workspace(project, targets("spt"))
    assert same.exit_code == 3 and "configured for spt" in same.message
    assert same.hint == 'instead run: eval "$(uktoolchain env spt)" && make build'
    other = mirage.refuse_workspace(project, targets("virtio"))
    assert other.hint == 'instead run: mirage configure -t virtio; eval "$(uktoolchain env virtio)" && make build'
    arm = mirage.refuse_workspace(project, targets("aarch64-spt"))  # same binding, another arch: env decides
    assert arm.hint == 'instead run: eval "$(uktoolchain env aarch64-spt)" && make build'
    rpi4 = mirage.refuse_workspace(project, targets("aarch64-rpi4")).hint
    assert rpi4.startswith("instead run: mirage configure -t hvt; in dune.build change -z solo5-abi=hvt to -z solo5-abi=rpi4")
    assert "\n" not in rpi4 + same.message
