"""dune-workspace rendering and merging (exporters/workspace.py) against the real catalogue."""
from __future__ import annotations

import pytest

from uktoolchain.errors import ConfigError
from uktoolchain.exporters import workspace


def test_one_context_per_target_with_its_toolchain_and_binding(targets):
    text = workspace.render(targets("hvt", "spt", "aarch64-spt"), None)
    assert text.startswith("(lang dune 3.0)")
    forms = workspace.read_sexps(text)
    contexts = {f[1][1][1]: f[1] for f in forms if f[0] == "context" and isinstance(f[1], list)}
    assert list(contexts) == ["hvt", "spt", "aarch64-spt"]
    assert ["toolchain", "solo5"] in contexts["spt"] and ["toolchain", "solo5_aarch64"] in contexts["aarch64-spt"]
    assert ["host", "default"] in contexts["hvt"]
    assert ["merlin"] in contexts["hvt"] and ["merlin"] not in contexts["spt"]  # dune allows one
    assert '-z solo5-abi=spt' in text.split("(name aarch64-spt)")[1]
    assert ["context", "default"] in forms  # (host default) needs it


def test_rerun_replaces_only_our_block_and_keeps_user_contexts(targets):
    user = "(lang dune 3.4)\n; mine\n(context (default (name tsan) (merlin)))\n"
    first = workspace.render(targets("spt"), user)
    assert first.startswith(user.rstrip("\n")) and "(name spt)" in first
    assert "(merlin)" not in first.split(workspace.BEGIN)[1]  # the user's context keeps merlin
    second = workspace.render(targets("hvt", "virtio"), first)
    assert second.count(workspace.BEGIN) == 1 and "(name spt)" not in second and "(name virtio)" in second
    assert second.startswith(user.rstrip("\n"))


def test_user_default_context_is_not_duplicated(targets):
    text = workspace.render(targets("spt"), "(lang dune 3.0)\n(context (default (profile release)))\n")
    assert workspace.user_context_names(text) == {"default"}  # ours (spt) are not "user" contexts
    assert text.count("(context default)") == 0


def test_clashing_or_broken_workspaces_are_refused(targets):
    with pytest.raises(ConfigError, match="already has contexts named spt"):
        workspace.render(targets("spt"), "(lang dune 3.0)\n(context (default (name spt)))\n")
    with pytest.raises(ConfigError, match="unclosed"):
        workspace.render(targets("spt"), "(lang dune 3.0)\n(context (default (name x))\n")
    with pytest.raises(ConfigError, match=r"no \(lang dune"):
        workspace.render(targets("spt"), "(context default)\n")
    with pytest.raises(ConfigError, match="at least one unikernel target"):
        workspace.render(targets("unix"), None)


def test_write_refuses_without_touching_the_file(targets, tmp_path):
    path = tmp_path / "dune-workspace"
    path.write_text("(lang dune 3.0)\n(context (default (name hvt)))\n")
    before = path.read_text()
    with pytest.raises(ConfigError):
        workspace.write(path, targets("hvt"))
    assert path.read_text() == before


def test_each_context_gives_its_actions_the_targets_c_tools_by_bare_name(targets):
    text = workspace.render(targets("spt", "aarch64-spt"), None)
    spt = text.split("(name spt)")[1].split("(context")[0]
    arm = text.split("(name aarch64-spt)")[1]
    assert "(CC x86_64-solo5-ocaml-cc)" in spt and "(AR x86_64-solo5-ocaml-ar)" in spt
    assert '(UKTOOLCHAIN_LDFLAGS "-z solo5-abi=spt")' in spt and "(UKTOOLCHAIN_TARGET spt)" in spt
    assert "(LDFLAGS" not in text and "CFLAGS" not in text  # make would hand them to a CC that is ocamlopt
    assert "(CC aarch64-solo5-ocaml-cc)" in arm and "(RANLIB aarch64-solo5-ocaml-ranlib)" in arm
    assert "/" not in "".join(line for line in text.splitlines() if "env-vars" in line)  # no machine paths
