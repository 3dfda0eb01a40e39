"""Builds of one recipe revision that differ only by an option (one per architecture) run side by
side, and builds side by side share the cores through one jobserver."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import synthetic


@pytest.fixture
def per_arch_index(tmp_path, server, monkeypatch):
    root = synthetic.write_per_arch_index(tmp_path / "index", server)
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))
    return root


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="two builds side by side need two cores")
def test_two_architectures_of_one_recipe_build_side_by_side_within_the_cores(uk, per_arch_index, tmp_path):
    probe = tmp_path / "probe"
    probe.mkdir()
    # Each delta build waits (up to 60 s) until the other one has started: run one after the
    # other, the first fails. Then both run cores+1 make jobs at once, counting running jobs.
    result = uk("install", "dx", "da", "--plain", env={"SYNTH_PROBE": str(probe)})
    assert result.returncode == 0, result.stderr
    assert "built delta[x86_64], delta[aarch64]" in result.stderr or "built delta[aarch64], delta[x86_64]" in result.stderr
    assert sorted(p.name for p in probe.iterdir() if p.name.startswith("started-")) == ["started-aarch64", "started-x86_64"]
    counts = [int(line) for line in (probe / "counts").read_text().split()]
    jobs = os.cpu_count() + 1
    assert len(counts) == 2 * jobs
    # make -j<cores> in each build would reach 2 x cores; with the shared jobserver (cores - 1
    # tokens, each build's first job free) two builds run at most cores + 1 jobs.
    assert max(counts) <= os.cpu_count() + 1, counts


def test_a_built_package_loses_its_build_folder_before_its_dependants_build(uk, index, tmp_path):
    """Build folders go as soon as their package exists, beside the builds still running, not all
    at the end of the install."""
    seen = tmp_path / "seen"
    seen.mkdir()
    result = uk("install", "tiny", "--plain", "--jobs", "1", env={"SYNTH_LIST_BUILD_FOLDERS": str(seen)})
    assert result.returncode == 0, result.stderr
    # alpha builds first; beta and gamma (which require it) one after the other.
    folders = {name: (seen / name).read_text().split() for name in ("alpha", "beta", "gamma")}
    for name, listed in folders.items():  # one at a time (--jobs 1): each saw only its own
        assert [Path(folder).parent.name.startswith(name) for folder in listed] == [True], folders
