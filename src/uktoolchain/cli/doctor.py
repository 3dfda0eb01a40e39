"""uktoolchain doctor [CHECK|TARGET...] — host prerequisites, and the command that installs each
missing one; for a target, the checks its platform needs (build, use, boot, media)."""
from __future__ import annotations

from uktoolchain import doctor
from uktoolchain.console import out


def register(sub) -> None:
    parser = sub.add_parser("doctor", help="check host prerequisites")
    parser.add_argument("checks", nargs="*", metavar="CHECK|TARGET",
                        help=f"only these checks ({', '.join(doctor.CHECK_KEYS)}), or those a target needs")
    parser.add_argument("--platform", choices=doctor.PLATFORMS, help="show install commands for this platform")
    parser.set_defaults(run=run)


def run(args) -> int:
    keys = _keys(args.checks) if args.checks else None
    checks = doctor.run_checks(keys)
    out(doctor.render_plain(checks, args.platform or doctor.host_platform()), end="")
    missing = [c for c in checks if not c.ok]
    out(f"\n{len(checks) - len(missing)} ok, {len(missing)} missing")
    return 0


def _keys(names: list[str]) -> list[str]:
    """Check keys as given; target names become the checks of their platforms."""
    targets = [n for n in names if n not in doctor.CHECK_KEYS]
    if not targets:
        return names
    from uktoolchain.platforms import platform_of
    from uktoolchain.resources import RecipeIndex
    from uktoolchain.targets import Catalogue

    catalogue = Catalogue.load(RecipeIndex.discover().catalogue_file)
    unknown = [n for n in targets if n not in catalogue.targets]
    if unknown:
        doctor.run_checks(unknown)  # the usage error naming the checks
    keys = [n for n in names if n in doctor.CHECK_KEYS]
    for target in catalogue.resolve(targets):
        keys += platform_of(target).doctor_checks()
    return keys
