"""The parsed-TOML copy used by the fast paths: same data, kept only while the file is unchanged."""
from __future__ import annotations

import json
import os
import time

import pytest

from uktoolchain import tomlcache
from uktoolchain.errors import ConfigError
from uktoolchain.targets import Catalogue


def _settled(path, seconds_ago: float = 60) -> None:
    moment = time.time() - seconds_ago
    os.utime(path, (moment, moment))


def test_copy_is_used_while_the_file_is_unchanged(tmp_path):
    source = tmp_path / "targets.toml"
    source.write_text('[components]\nocaml = "5.3.0"\n')
    _settled(source)
    cache = tmp_path / "parsed"
    assert tomlcache.load(source, cache) == {"components": {"ocaml": "5.3.0"}}
    [copy] = cache.iterdir()
    kept = json.loads(copy.read_text())
    kept["data"] = {"components": {"ocaml": "from the copy"}}
    copy.write_text(json.dumps(kept))
    assert tomlcache.load(source, cache)["components"]["ocaml"] == "from the copy"  # not parsed again

    source.write_text('[components]\nocaml = "5.4.1"\n')  # new mtime and size: parsed again
    _settled(source, 30)
    assert tomlcache.load(source, cache)["components"]["ocaml"] == "5.4.1"


def test_no_copy_of_a_file_just_written(tmp_path):
    source = tmp_path / "targets.toml"
    source.write_text("a = 1\n")
    cache = tmp_path / "parsed"
    assert tomlcache.load(source, cache) == {"a": 1}
    assert not cache.exists()  # a rewrite within the same mtime tick would go unnoticed


def test_invalid_catalogue_is_a_configuration_error_with_or_without_a_copy(tmp_path):
    source = tmp_path / "targets.toml"
    source.write_text("[components\n")
    _settled(source)
    for cache in (None, tmp_path / "parsed"):
        with pytest.raises(ConfigError, match="cannot read the target catalogue"):
            Catalogue.load(source, cache)
