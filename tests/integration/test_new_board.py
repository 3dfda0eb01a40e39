"""A new board is data plus one module: an entry in a copy of targets.toml and a platform module
in a directory of its own on PYTHONPATH (uktoolchain/platforms/fakeboard.py, found beside the
package's own), and no other change. ``list`` shows it, ``doctor`` asks its checks, ``run``
boots with its runner and refuses images of other bindings, ``image`` lists it among the boards
and writes its boot files to a real card image, and ``check`` resolves it and verifies and boots
its images through the module (check's build step needs a real cross-compiler: here the
per-target part after it, unit-level). Without the module, every one of them says which module
is missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import elf_samples
import pytest

from uktoolchain import checker, platforms
from uktoolchain.platforms import platform_of
from uktoolchain.resources import RecipeIndex
from uktoolchain.targets import Catalogue

REPO = Path(__file__).resolve().parents[2]
BOARD_ENTRY = """
[targets.fakeboard]
description = "A fake board for the plug-in test (spt binding)"
arch = "x86_64"
binding = "spt"
board = "fakeboard"
components = ["ocaml", "ocamlfind", "dune", "solo5", "ocaml-solo5"]
"""
MODULE = '''\
"""A board that exists only in this test."""
import shutil
import sys

from uktoolchain.platforms.base import PROCESS, Launch, MediaPlan, Platform

BOOT_STATUS = 5


class FakeBoard(Platform):
    name = "fakeboard"
    media_tools = ("mtools", "mkfs.vfat")
    run_tools = ("cmake",)  # a check doctor knows, to see doctor ask the module

    def runs_here(self):
        return None

    def launch(self, image, args, devices, tool_path, workdir):
        script = "import sys; print('fakeboard booted', *sys.argv[1:]); sys.exit(%d)" % BOOT_STATUS
        return Launch([sys.executable, "-c", script, str(image), *args], PROCESS, "the fake board's emulator")

    def media(self, unikernel, inputs):
        return FakeMedia(unikernel)


class FakeMedia(MediaPlan):
    volume_label = "FAKEBOOT"
    kernel = "fake.img"

    def __init__(self, unikernel):
        self.unikernel = unikernel

    def boot_files(self, scratch):
        kernel = scratch / "fake.img"
        shutil.copyfile(self.unikernel, kernel)
        board = scratch / "board.txt"
        board.write_text("fakeboard\\n")
        return {"fake.img": kernel, "board.txt": board}

    def notes(self):
        return ["(boot files by the fakeboard module)"]


PLATFORM = FakeBoard
'''


@pytest.fixture
def index(tmp_path, monkeypatch, isolated_home) -> Path:
    """A copy of the recipe index with the fakeboard entry: data only."""
    root = tmp_path / "index"
    shutil.copytree(REPO / "recipes", root / "recipes")
    shutil.copytree(REPO / "patches", root / "patches")
    catalogue = root / "recipes" / "targets.toml"
    catalogue.write_text(catalogue.read_text() + BOARD_ENTRY)
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))
    return root


@pytest.fixture
def module(tmp_path, monkeypatch) -> Path:
    """The one module, in a directory of its own that the CLI finds through PYTHONPATH."""
    plugins = tmp_path / "plugins"
    (plugins / "uktoolchain" / "platforms").mkdir(parents=True)
    (plugins / "uktoolchain" / "platforms" / "fakeboard.py").write_text(MODULE)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(plugins), os.environ.get("PYTHONPATH")])))
    return plugins


@pytest.fixture
def samples(tmp_path) -> dict[str, Path]:
    return {"spt": elf_samples.build(tmp_path / "elf", "spt", arch="x86_64", abi=(elf_samples.SPT, 2)),
            "hvt": elf_samples.build(tmp_path / "elf", "hvt", arch="x86_64", abi=(elf_samples.HVT, 2))}


def test_list_and_doctor_pick_it_up(uk, index, module):
    listed = uk("list", check=True).stdout
    assert "fakeboard" in listed and "A fake board for the plug-in test" in listed
    doctor = uk("doctor", "fakeboard", check=True).stdout
    assert "cmake" in doctor and "mtools" in doctor  # the module's run and media tools


def test_run_boots_with_the_board_runner_and_refuses_other_bindings(uk, index, module, samples):
    booted = uk("run", "fakeboard", str(samples["spt"]), "--", "one", "two")
    assert booted.returncode == 5, booted.stdout + booted.stderr  # the module's runner's status
    assert booted.stdout.strip() == f"fakeboard booted {samples['spt'].absolute()} one two"
    refused = uk("run", "fakeboard", str(samples["hvt"]))
    assert refused.returncode == 3 and "Solo5 hvt ABI" in refused.stderr, refused.stderr
    assert "-z solo5-abi=spt" in refused.stderr and "fakeboard booted" not in refused.stdout


def test_image_lists_it_and_writes_its_boot_files(uk, index, module, samples, tmp_path):
    not_a_board = uk("image", "spt", str(samples["spt"]), "-o", str(tmp_path / "x.img"))
    assert not_a_board.returncode == 2 and "aarch64-rpi4 or fakeboard" in not_a_board.stderr, not_a_board.stderr
    card = tmp_path / "card.img"
    made = uk("image", "fakeboard", str(samples["spt"]), "-o", str(card))
    assert made.returncode == 0, made.stderr
    assert "(boot files by the fakeboard module)" in made.stderr
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    listing = subprocess.run(["mdir", "-b", "-i", f"{card}@@1M", "::/"], capture_output=True, text=True,
                             env=env, check=True).stdout
    assert {line.rsplit("/", 1)[-1].lower() for line in listing.split()} == {"fake.img", "board.txt"}
    label = subprocess.run(["mlabel", "-s", "-i", f"{card}@@1M", "::"], capture_output=True, text=True,
                           env=env, check=True).stdout
    assert "FAKEBOOT" in label
    copied = tmp_path / "copied.img"
    subprocess.run(["mcopy", "-n", "-i", f"{card}@@1M", "::/fake.img", str(copied)], env=env, check=True)
    assert copied.read_bytes() == samples["spt"].read_bytes()


def test_check_verifies_and_boots_its_images_through_the_module(index, module, samples, monkeypatch):
    # check's per-target step after its dune build: verify the image, ask how it boots, boot it.
    monkeypatch.syspath_prepend(str(module))
    monkeypatch.setattr(platforms, "_LOADED", {})
    monkeypatch.setattr(platforms, "_EXTENDED", False)
    monkeypatch.setattr(platforms, "__path__", list(platforms.__path__))
    try:
        catalogue = Catalogue.load(RecipeIndex.discover().catalogue_file)
        [target] = catalogue.resolve(["fakeboard"])
        assert type(platform_of(target)).__name__ == "FakeBoard"
        assert platform_of(target).verify(samples["spt"]) is None
        assert "Solo5 hvt ABI" in platform_of(target).verify(samples["hvt"])
        launch, reason = checker.boot_launch(samples["spt"], target)
        assert reason == "" and launch.runner == "the fake board's emulator"
        assert subprocess.run(launch.command, capture_output=True).returncode == 5
    finally:
        sys.modules.pop("uktoolchain.platforms.fakeboard", None)


@pytest.mark.parametrize("command", [["run", "fakeboard", "{spt}"], ["image", "fakeboard", "{spt}", "-o", "{out}"],
                                     ["check", "fakeboard"], ["doctor", "fakeboard"]])
def test_without_the_module_each_command_names_it(uk, index, samples, tmp_path, command):
    args = [a.format(spt=samples["spt"], out=tmp_path / "card.img") for a in command]
    result = uk(*args)
    assert result.returncode == 3, result.stderr
    assert "no platform module 'fakeboard' (uktoolchain/platforms/fakeboard.py)" in result.stderr
