"""uktoolchain paths [--cache] — where uktoolchain keeps things; --cache: the one directory a CI
cache saves and restores (the whole home: packages, sources and the install stamps that make a
restored install a no-op)."""
from __future__ import annotations

from uktoolchain.console import out
from uktoolchain.home import Home


def register(sub) -> None:
    parser = sub.add_parser("paths", help="show where the home, packages, sources and logs are")
    parser.add_argument("--cache", action="store_true", help="print only the directory for a CI cache to save/restore")
    parser.set_defaults(run=run)


def run(args) -> int:
    home = Home.discover()
    if args.cache:
        out(str(home.root))
        return 0
    for name, path in (("home", home.root), ("conan", home.conan), ("sources", home.sources), ("logs", home.logs),
                       ("state", home.state), ("config", home.config_file), ("cache", home.root)):
        out(f"{name:8} {path}")
    return 0
