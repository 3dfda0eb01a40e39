"""uktoolchain doctor — host prerequisites, and the command that installs each missing one."""
from __future__ import annotations

from uktoolchain import doctor


def register(sub) -> None:
    parser = sub.add_parser("doctor", help="check host prerequisites")
    parser.add_argument("checks", nargs="*", metavar="CHECK", help=f"only these: {', '.join(doctor.CHECK_KEYS)}")
    parser.add_argument("--platform", choices=doctor.PLATFORMS, help="show install commands for this platform")
    parser.set_defaults(run=run)


def run(args) -> int:
    checks = doctor.run_checks(args.checks or None)
    print(doctor.render_plain(checks, args.platform or doctor.host_platform()), end="")
    missing = [c for c in checks if not c.ok]
    print(f"\n{len(checks) - len(missing)} ok, {len(missing)} missing")
    return 0
