"""What every command needs: the home, the recipe index, the catalogue, the configuration."""
from __future__ import annotations

from dataclasses import dataclass

from uktoolchain.config import Config
from uktoolchain.home import Home
from uktoolchain.resources import RecipeIndex
from uktoolchain.sources import SourceOverride, make_override, parse_overrides
from uktoolchain.targets import Catalogue


@dataclass(frozen=True)
class Context:
    home: Home
    index: RecipeIndex
    catalogue: Catalogue
    config: Config

    @classmethod
    def load(cls) -> "Context":
        home = Home.discover()
        index = RecipeIndex.discover()
        return cls(home, index, Catalogue.load(index.catalogue_file, home.state / "parsed"), Config.load(home.config_file))

    def overrides(self, cli_specs: list[str]) -> list[SourceOverride]:
        """Config-file overrides, replaced per component by those given on the command line."""
        known = list(self.catalogue.versions)
        chosen = {name: make_override(name, path, known) for name, path in self.config.sources.items()}
        for override in parse_overrides(cli_specs, known):
            chosen[override.component] = override
        return list(chosen.values())
