"""Platforms: what each target runs on, asked by ``check``, ``run``, ``image``, ``doctor`` and
install's preflight instead of testing target names.

A target's platform is the module ``uktoolchain.platforms.<name>`` named by its catalogue entry
(its board, else its Solo5 binding, else ``host``); the module's ``PLATFORM`` is a
:class:`~uktoolchain.platforms.base.Platform` subclass, made for the target. A new board is a
``targets.toml`` entry and one module here. Modules may also come from another directory on
``sys.path`` that has ``uktoolchain/platforms/`` (looked for when a module is not found here): a
fork or a test adds a board without touching this package.
"""
from __future__ import annotations

import os
import sys
from importlib import import_module

from uktoolchain.errors import ConfigError

_LOADED: dict[str, type] = {}
_EXTENDED = False


def platform_class(name: str) -> type:
    """The Platform class of the module ``name``; a missing module is a catalogue error."""
    global _EXTENDED
    if name not in _LOADED:
        try:
            module = import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            if not _EXTENDED:  # only now: our own modules are found without looking further
                _EXTENDED = True
                _extend_path()
                return platform_class(name)
            raise ConfigError(f"no platform module '{name}' (uktoolchain/platforms/{name}.py)",
                              "a target's platform is its board, else its binding: add that module, "
                              "or name an existing one with platform = \"...\" in targets.toml") from None
        _LOADED[name] = module.PLATFORM
    return _LOADED[name]


def _extend_path() -> None:
    """Add every ``uktoolchain/platforms`` directory on sys.path to this package's search path.
    (pkgutil.extend_path looks only in the parent package's path for a subpackage, and the
    parent is a regular package found once.)"""
    for entry in sys.path:
        directory = os.path.join(entry or os.curdir, "uktoolchain", "platforms")
        if os.path.isdir(directory) and directory not in __path__:
            __path__.append(directory)


def platform_of(target):
    """The platform of ``target`` (a targets.Target), made for it."""
    return platform_class(target.platform)(target)


def abi_names(targets) -> dict[int, str]:
    """Solo5 abi_target number -> binding name, for every platform of ``targets`` (a board of a
    fork names its own), over the reader's own table."""
    from uktoolchain import elf

    names = dict(elf.SOLO5_ABI_TARGETS)
    for target in targets:
        platform = platform_of(target)
        if platform.unikernel and platform.abi_target is not None:
            names.setdefault(platform.abi_target, target.binding or platform.name)
    return names
