"""The recipe index: recipes/, patches/ and the target catalogue (recipes/targets.toml).

A source checkout uses the repository's own directories; an installed wheel carries a copy under
``uktoolchain/_data``. ``UKTOOLCHAIN_RECIPES`` points at another index (a fork, or the tests'
synthetic one) with the same layout.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from uktoolchain.errors import ConfigError

BASE_RECIPE = "ukbase"


class RecipeIndex(NamedTuple):
    root: Path

    @classmethod
    def discover(cls) -> "RecipeIndex":
        override = os.environ.get("UKTOOLCHAIN_RECIPES")
        if override:
            root = Path(override).absolute()
            if not (root / "recipes" / "targets.toml").is_file():
                raise ConfigError(
                    f"UKTOOLCHAIN_RECIPES={override} has no recipes/targets.toml",
                    "point it at a directory holding recipes/ and patches/, or unset it",
                )
            return cls(root)
        package_dir = Path(__file__).resolve().parent
        for candidate in (package_dir / "_data", package_dir.parent.parent):
            if (candidate / "recipes" / "targets.toml").is_file():
                return cls(candidate)
        raise ConfigError("the recipe index is missing from this installation", "reinstall uktoolchain")

    @property
    def recipes(self) -> Path:
        return self.root / "recipes"

    @property
    def patches(self) -> Path:
        return self.root / "patches"

    @property
    def catalogue_file(self) -> Path:
        return self.recipes / "targets.toml"

    def recipe_dir(self, component: str) -> Path:
        return self.recipes / component

    def exported_dirs(self, component: str) -> list[str]:
        """Repository directories a recipe exports besides itself (its exports.txt)."""
        listing = self.recipe_dir(component) / "exports.txt"
        if not listing.is_file():
            return []
        lines = (line.strip() for line in listing.read_text().splitlines())
        return [line for line in lines if line and not line.startswith("#")]

    def inputs_of(self, component: str) -> list[Path]:
        """Every file that shapes a component's recipe revision (for the no-op fingerprint)."""
        files = sorted(_files_under(self.recipe_dir(component), skip="__pycache__"))
        for directory in self.exported_dirs(component):
            files += sorted(_files_under(self.root / directory))
        patch_dir = self.patches / component
        if patch_dir.is_dir():
            files += sorted(p for p in patch_dir.iterdir() if p.is_file())
        return files


def _files_under(root: Path, skip: str | None = None):
    """The files below ``root`` (as ``rglob("*")`` + ``is_file()``, at a third of the cost: the
    no-op install lists every recipe's files)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        if skip is not None:
            dirnames[:] = [d for d in dirnames if d != skip]
        for name in filenames:
            if os.path.isfile(os.path.join(dirpath, name)):
                yield Path(dirpath, name)
