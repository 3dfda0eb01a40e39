"""Platforms: what each target runs on, asked by ``check``, ``run``, ``image``, ``doctor`` and
install's preflight instead of testing target names.

A target's platform is the module ``uktoolchain.platforms.<name>`` named by its catalogue entry
(its board, else its Solo5 binding, else ``host``); the module's ``PLATFORM`` is a
:class:`~uktoolchain.platforms.base.Platform` subclass, made for the target. A new board is a
``targets.toml`` entry and one module here. Modules may also come from another directory on
``sys.path`` that has ``uktoolchain/platforms/`` (``extend_path``, in ``platform_class``): a fork or a test adds a
board without touching this package.
"""
from __future__ import annotations

from importlib import import_module

from uktoolchain.errors import ConfigError

_LOADED: dict[str, type] = {}
_EXTENDED = False


def platform_class(name: str) -> type:
    """The Platform class of the module ``name``; a missing module is a catalogue error."""
    global _EXTENDED, __path__
    if name not in _LOADED:
        try:
            module = import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            if not _EXTENDED:  # only now: pkgutil is not free, and our own modules are found without it
                from pkgutil import extend_path

                __path__ = extend_path(__path__, __name__)
                _EXTENDED = True
                return platform_class(name)
            raise ConfigError(f"no platform module '{name}' (uktoolchain/platforms/{name}.py)",
                              "a target's platform is its board, else its binding: add that module, "
                              "or name an existing one with platform = \"...\" in targets.toml") from None
        _LOADED[name] = module.PLATFORM
    return _LOADED[name]


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
