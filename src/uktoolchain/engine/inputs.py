"""The inputs that shape targets' binaries, listed once and hashed two ways: by stamps.fingerprint
(is an install a no-op in this home?) and by cachekey.cache_key (the same key on every machine
with the same inputs, for CI caches). Read without Conan."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

from uktoolchain import __version__
from uktoolchain.engine.conan_home import GLOBAL_CONF, profile_text, settings_user_text
from uktoolchain.resources import BASE_RECIPE, RecipeIndex
from uktoolchain.targets import Catalogue, Target, host_arch, host_os

# global.conf without tools.build:jobs (this machine's core count): the number of compile jobs
# changes how long a build takes, not what it makes, so a home or cache moved to a machine with
# more cores stays valid.
PORTABLE_CONF = "".join(line + "\n" for line in GLOBAL_CONF.splitlines() if not line.startswith("tools.build:jobs"))


def build_inputs(index: RecipeIndex, catalogue: Catalogue, targets: list[Target], overrides: dict[str, Path],
                 local_source: Callable[[str, Path], str]) -> Iterator[tuple[object, ...]]:
    """The parts, in a stable order: uktoolchain's version, the set, the host profile and the
    Conan settings uktoolchain writes, each target's catalogue entry (what `list`, `run` and
    doctor read at use time, e.g. its description or platform, is left out), and for the recipe
    base and every component its pinned version, recipe files and patches (conandata.yml pins
    the sources' URLs and checksums). A component built from ``overrides`` (a --source) adds
    ``local_source(component, path)``: the two hashes identify a local source differently."""
    yield "uktoolchain", __version__, "set", catalogue.toolset
    yield "profile", profile_text(host_os(), host_arch()), settings_user_text(catalogue), PORTABLE_CONF
    components: set[str] = {BASE_RECIPE}
    for target in sorted(targets, key=lambda t: t.name):
        yield "target", target.name, target.arch, target.binding, target.board, target.components, target.host_components
        components.update(target.components, target.host_components)
    for component in sorted(components):
        yield "component", component, catalogue.versions.get(component, ""), component in catalogue.per_arch
        for path in index.inputs_of(component):
            yield path.relative_to(index.root).as_posix(), hashlib.sha256(path.read_bytes()).hexdigest()
        if component in overrides:
            yield "local source", component, local_source(component, overrides[component])


def digest_of(parts: Iterator[tuple[object, ...]]) -> "hashlib._Hash":
    """A sha256 of the parts (each a line of NUL-separated fields), open for more."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(("\0".join(str(p) for p in part) + "\n").encode())
    return digest
