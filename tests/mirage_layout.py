"""A MirageOS project as `mirage configure` (mirage 4.11) lays it out, written here in that layout
(not copied from mirage): what uktoolchain must recognise."""
from __future__ import annotations

from pathlib import Path

CONFIG_ML = 'open Mirage\nlet main = main "Unikernel" job\nlet () = register "hello" [ main ]\n'


def configured(root: Path, binding: str = "spt") -> Path:
    """A project after `mirage configure -t <binding>`: dune.build enabled only in context solo5."""
    (root / "mirage").mkdir(parents=True)
    (root / "config.ml").write_text(CONFIG_ML)
    (root / "mirage" / "dune-workspace.config").write_text("(lang dune 2.9)\n(context default)\n")
    (root / "dune").write_text("(include dune.build)\n")
    (root / "dune.build").write_text(
        '(executable\n (enabled_if (= %{context_name} "solo5"))\n (name main)\n'
        f' (link_flags :standard -w -70 -cclib "-z solo5-abi={binding}"))\n')
    (root / "dune-workspace").write_text(
        "(lang dune 2.9)\n(context (default))\n(context (default (name solo5) (host default) (toolchain solo5)))\n")
    return root
