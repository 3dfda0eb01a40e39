"""What every command needs: the home, the recipe index, the catalogue, the configuration, and
the toolchain set the command works on (and why that one)."""
from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import NamedTuple

from uktoolchain import project
from uktoolchain.config import Config
from uktoolchain.console import say
from uktoolchain.engine import state
from uktoolchain.home import Home
from uktoolchain.resources import RecipeIndex
from uktoolchain.setchoice import SET_VARIABLE, SetChoice, choose_set, pinned_targets, project_pin
from uktoolchain.sources import SourceOverride, changed_since, make_override, parse_overrides
from uktoolchain.targets import Catalogue


_WARNED: set[str] = set()


class Context(NamedTuple):
    home: Home  # scoped to the chosen set
    index: RecipeIndex
    catalogue: Catalogue  # versions of the chosen set
    config: Config
    choice: SetChoice
    pin: project.ProjectPin | None = None

    @classmethod
    def load(cls, ocaml: str | None = None) -> "Context":
        """``ocaml``: the --ocaml flag; else the project pin's set, else the default set."""
        return cls._load(ocaml, None)

    @classmethod
    def for_installed(cls, ocaml: str | None, given: list[str], command: str) -> tuple["Context", list[str]]:
        """For a command on installed targets (env, check...): the targets given, or the project
        pin's, and a context whose set, without a flag or pin, is one they are installed for
        (the default if they are installed there). Says so when that is not the default."""
        ctx = cls._load(ocaml, given or None)
        if not given:
            names = pinned_targets(ctx.pin, command)
            if not ctx.choice.explicit:
                ctx = cls._load(ocaml, names)
        else:
            names = given
        if not ctx.choice.explicit and ctx.choice.name != ctx.catalogue.default_set:
            say(f"uktoolchain: using {ctx.choice.describe()}")
        return ctx, names

    @classmethod
    def _load(cls, ocaml: str | None, installed: list[str] | None) -> "Context":
        home = Home.discover()
        index = RecipeIndex.discover()
        catalogue = Catalogue.load(index.catalogue_file, home.state / "parsed")
        pin = project_pin(catalogue)
        choice = choose_set(home, catalogue, ocaml, pin, installed)
        config = Config.load(home.config_file)
        for warning in config.warnings:
            if warning not in _WARNED:  # a command may load contexts of several sets
                _WARNED.add(warning)
                say(f"uktoolchain: warning: {warning}")
        return cls(home.for_set(choice.name), index, catalogue.for_set(choice.name), config, choice, pin)

    def pinned_targets(self, given: list[str], command: str) -> list[str]:
        """Targets given on the command line, else those of the project pin, else a usage error."""
        return given or pinned_targets(self.pin, command)

    def overrides(self, cli_specs: list[str]) -> list[SourceOverride]:
        """Config-file overrides, replaced per component by those given on the command line."""
        known = list(self.catalogue.versions)
        chosen = {name: make_override(name, path, known) for name, path in self.config.sources.items()}
        for override in parse_overrides(cli_specs, known):
            chosen[override.component] = override
        return list(chosen.values())

    def installed_overrides(self, cli_specs: list[str], pinned: list[str] = (),
                            components: Collection[str] | None = None) -> tuple[list[SourceOverride], list[str]]:
        """``overrides`` plus, for components given no other source and not asked to be built
        from their ``pinned`` sources, the local sources this set's installed targets were built
        from, while they are unchanged; and notes saying which are used, and which changed or
        went away (those are not used). ``components``: only those of the targets at hand, when
        given (checking a recorded source tree stats every file of it: a duniverse has ~14,000)."""
        overrides = self.overrides(cli_specs)
        given = {o.component for o in overrides} | set(pinned)
        notes = []
        for component, source in sorted(state.local_sources_of_set(self.home).items()):
            if component in given or (components is not None and component not in components):
                continue
            problem = changed_since(component, Path(source.path), source.sha256, source.signature)
            if problem is None:
                overrides.append(SourceOverride(component, Path(source.path)))
                notes.append(f"{component}: local source {source.path} (as installed)")
            else:
                notes.append(f"{component}: not using the local source installed targets were built from: {problem}; "
                             f"give --source {component}=PATH to build from a local source again")
        return overrides, notes


def add_set_option(parser) -> None:
    parser.add_argument("--ocaml", metavar="SET",
                        help=f"the toolchain set (default: ${SET_VARIABLE}, else the project's uktoolchain.toml, "
                        "else the newest; see `uktoolchain list`)")
