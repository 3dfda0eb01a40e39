"""Host prerequisite checks for ``uktoolchain doctor``.

Pure logic: each check looks at the real host (PATH, files, short ``--version`` style probes)
and returns a :class:`Check` saying what was found and, when something is missing, the exact
command that installs it on Debian/Ubuntu (``debian``), Fedora (``fedora``) and macOS with
Homebrew (``macos``). The CLI renders the result; :func:`render_plain` gives the plain-text form.

Every probe runs with a short timeout and nothing raised by a probe escapes :func:`run_checks`:
a tool that hangs or crashes is reported as not ok, with the error in ``detail``.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from uktoolchain.errors import UsageError

__all__ = [
    "PLATFORMS",
    "CHECK_KEYS",
    "Check",
    "host_platform",
    "find_program",
    "run_checks",
    "render_plain",
]

PLATFORMS = ("debian", "fedora", "macos")
OS_RELEASE = "/etc/os-release"
TIMEOUT = 5.0  # seconds, per probe
SBIN_DIRS = ("/sbin", "/usr/sbin", "/usr/local/sbin")

_BOOKWORM_QEMU = (
    "sudo apt-get install -y -t bookworm-backports qemu-system-arm qemu-system-x86"
)
_BOOKWORM_NOTE = (
    "first enable bookworm-backports in your apt sources and run 'sudo apt-get update'; "
    "take both QEMU packages from backports: mixing them with bookworm's does not resolve"
)


@dataclass(frozen=True)
class Check:
    """The outcome of one host prerequisite check.

    ``install`` maps a platform (``debian``, ``fedora``, ``macos``) to the shell command that
    installs what is missing; a platform is absent when no command applies there, and
    ``notes[platform]`` then says why. ``notes`` may also carry an extra step for a platform
    that has a command (e.g. enabling a repository first).
    """

    key: str
    name: str
    needed_for: str
    ok: bool
    detail: str
    install: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    advice: tuple[str, ...] = ()  # further lines shown under the result (e.g. editor settings)

    def hint(self, platform: str) -> str:
        """One line telling the user on ``platform`` what to run (or why nothing applies)."""
        if platform not in PLATFORMS:
            commands = {self.install[p] for p in PLATFORMS if p in self.install}
            if len(commands) == 1 and len(self.install) == len(PLATFORMS):
                return commands.pop()
            parts = [f"{p}: {self.install[p]}" for p in PLATFORMS if p in self.install]
            return "; ".join(parts) if parts else "no install command known"
        command = self.install.get(platform)
        note = self.notes.get(platform)
        if command and note:
            return f"{command} ({note})"
        if command:
            return command
        return note or f"no install command known for {platform}"


# --------------------------------------------------------------------------- host facts


def _read_os_release(path: str | os.PathLike[str] = OS_RELEASE) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def host_platform(os_release: str | os.PathLike[str] = OS_RELEASE) -> str:
    """``"debian"``, ``"fedora"``, ``"macos"`` or ``"unknown"``.

    macOS comes from ``sys.platform``; Linux distributions from ``ID`` then ``ID_LIKE`` in
    os-release (Ubuntu and Raspberry Pi OS are ``debian``; RHEL, CentOS, Rocky are ``fedora``).
    """
    if sys.platform == "darwin":
        return "macos"
    info = _read_os_release(os_release)
    ids = [info.get("ID", "").lower(), *info.get("ID_LIKE", "").lower().split()]
    for ident in ids:
        if ident in ("debian", "ubuntu", "raspbian"):
            return "debian"
        if ident in ("fedora", "rhel", "centos"):
            return "fedora"
    return "unknown"


def _is_debian_12(os_release: str | os.PathLike[str] = OS_RELEASE) -> bool:
    info = _read_os_release(os_release)
    if info.get("ID") not in ("debian", "raspbian"):
        return False
    return info.get("VERSION_ID") == "12" or info.get("VERSION_CODENAME") == "bookworm"


# --------------------------------------------------------------------------- probes


def find_program(name: str, extra_dirs: Iterable[str] = ()) -> str | None:
    """Path of executable ``name`` on PATH, else in ``extra_dirs``; None when absent."""
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass(frozen=True)
class _Run:
    ok: bool      # started, finished within the timeout, exit status 0
    output: str   # stdout + stderr
    error: str    # one line describing why ok is False ("" when ok)


def _run(argv: list[str], timeout: float = TIMEOUT) -> _Run:
    env = {**os.environ, "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _Run(False, "", f"'{' '.join(argv)}' did not finish within {timeout:g} s")
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return _Run(False, "", f"'{' '.join(argv)}' could not run: {exc}")
    output = (proc.stdout or "") + (proc.stderr or "")
    if proc.returncode != 0:
        first = _first_line(output)
        why = f"exit status {proc.returncode}" if proc.returncode > 0 else f"signal {-proc.returncode}"
        return _Run(False, output, f"'{' '.join(argv)}' failed ({why})" + (f": {first}" if first else ""))
    return _Run(True, output, "")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


# --------------------------------------------------------------------------- the checks

# key -> (name, needed_for), in the order doctor reports them
_SPECS: dict[str, tuple[str, str]] = {
    "cc": ("C compiler", "all targets"),
    "make": ("make", "all targets"),
    "patch": ("patch", "all targets"),
    "cmake": ("cmake", "C libraries built by CMake; check"),
    "pkg-config": ("pkg-config", "all targets (Solo5 configure)"),
    "libseccomp": ("libseccomp (Solo5 spt)", "spt"),
    "aarch64-gcc": ("aarch64 cross gcc", "aarch64-*"),
    "qemu-x86": ("qemu-system-x86_64", "virtio check"),
    "qemu-raspi4b": ("qemu-system-aarch64 with raspi4b", "aarch64-rpi4 check/image"),
    "kvm": ("/dev/kvm", "hvt check"),
    "mtools": ("mtools (mcopy)", "aarch64-rpi4 SD image"),
    "mkfs.vfat": ("mkfs.vfat (dosfstools)", "aarch64-rpi4 SD image"),
    "rust": ("Rust (rustc, cargo, rust-src)", "install --with rust"),
    "editor": ("editor support (ocamlmerlin)", "editors: completion and types"),
}
CHECK_KEYS: tuple[str, ...] = tuple(_SPECS)


def _mk(
    key: str,
    ok: bool,
    detail: str,
    install: Mapping[str, str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> Check:
    name, needed_for = _SPECS[key]
    return Check(key, name, needed_for, ok, detail, dict(install or {}), dict(notes or {}))


def _tool_check(
    key: str,
    programs: Iterable[str],
    install: Mapping[str, str],
    notes: Mapping[str, str] | None = None,
    *,
    extra_dirs: Iterable[str] = (),
    strict: bool = True,
) -> Check:
    """The first of ``programs`` found; its ``--version`` must succeed when ``strict``
    (otherwise a failing probe only loses the version in ``detail``)."""
    programs = list(programs)
    extra_dirs = list(extra_dirs)
    for program in programs:
        path = find_program(program, extra_dirs)
        if path is None:
            continue
        probe = _run([path, "--version"])
        if probe.ok:
            return _mk(key, True, f"{path}: {_first_line(probe.output) or 'found'}", install, notes)
        if strict:
            return _mk(key, False, f"{path} is broken: {probe.error}", install, notes)
        return _mk(key, True, f"{path} (version unknown)", install, notes)
    where = "PATH" + (", " + ", ".join(extra_dirs) if extra_dirs else "")
    return _mk(key, False, f"{' / '.join(programs)} not found on {where}", install, notes)


def _apt(*packages: str) -> str:
    return "sudo apt-get install -y " + " ".join(packages)


def _dnf(*packages: str) -> str:
    return "sudo dnf install -y " + " ".join(packages)


_XCODE = "xcode-select --install"


def _check_cc() -> Check:
    return _tool_check("cc", ["cc", "gcc"], {"debian": _apt("gcc"), "fedora": _dnf("gcc"), "macos": _XCODE})


def _check_make() -> Check:
    return _tool_check("make", ["make"], {"debian": _apt("make"), "fedora": _dnf("make"), "macos": _XCODE})


def _check_patch() -> Check:
    return _tool_check("patch", ["patch"], {"debian": _apt("patch"), "fedora": _dnf("patch"), "macos": _XCODE})


def _check_cmake() -> Check:
    return _tool_check("cmake", ["cmake"], {"debian": _apt("cmake"), "fedora": _dnf("cmake"), "macos": "brew install cmake"})


def _check_pkg_config() -> Check:
    return _tool_check(
        "pkg-config",
        ["pkg-config", "pkgconf"],
        {"debian": _apt("pkg-config"), "fedora": _dnf("pkgconf-pkg-config"), "macos": "brew install pkgconf"},
    )


def _check_libseccomp(header: str = "/usr/include/seccomp.h") -> Check:
    key = "libseccomp"
    install = {"debian": _apt("libseccomp-dev"), "fedora": _dnf("libseccomp-devel")}
    notes = {"macos": "not applicable: spt is Linux-only"}
    if sys.platform == "darwin":
        return _mk(key, False, "spt is Linux-only: not available on macOS", install, notes)
    pkg_config = find_program("pkg-config") or find_program("pkgconf")
    if pkg_config and _run([pkg_config, "--exists", "libseccomp"]).ok:
        version = _run([pkg_config, "--modversion", "libseccomp"])
        found = _first_line(version.output) if version.ok else "(version unknown)"
        return _mk(key, True, f"libseccomp {found} (pkg-config)", install, notes)
    if os.path.isfile(header):
        return _mk(key, True, f"{header} (libseccomp header; pkg-config has no entry)", install, notes)
    how = "pkg-config does not know libseccomp" if pkg_config else "pkg-config not found"
    return _mk(key, False, f"{how} and {header} is missing", install, notes)


def _check_aarch64_gcc() -> Check:
    key = "aarch64-gcc"
    install = {"debian": _apt("gcc-aarch64-linux-gnu"), "fedora": _dnf("gcc-aarch64-linux-gnu")}
    notes = {
        "macos": "no tested macOS command: build aarch64 targets on a Linux host "
        "(Homebrew's aarch64-elf-gcc is a bare-metal compiler with other tool names, untested here)"
    }
    gcc = find_program("aarch64-linux-gnu-gcc")
    if gcc is None:
        return _mk(key, False, "aarch64-linux-gnu-gcc not found on PATH", install, notes)
    probe = _run([gcc, "--version"])
    if not probe.ok:
        return _mk(key, False, f"{gcc} is broken: {probe.error}", install, notes)
    version = _first_line(probe.output) or "found"
    # Solo5's aarch64 toolchain is configured with TARGET_LD and TARGET_OBJCOPY too (binutils).
    missing = [t for t in ("aarch64-linux-gnu-ld", "aarch64-linux-gnu-objcopy") if find_program(t) is None]
    if missing:
        return _mk(key, False, f"{gcc}: {version}; but {' and '.join(missing)} not found on PATH", install, notes)
    return _mk(key, True, f"{gcc}: {version}", install, notes)


def _qemu_install(x86: bool, os_release: str | os.PathLike[str] = OS_RELEASE) -> tuple[dict[str, str], dict[str, str]]:
    """Install commands for a QEMU system emulator. On Debian 12 both emulators come from
    bookworm-backports (raspi4b needs QEMU >= 9, and mixing suites does not resolve)."""
    notes: dict[str, str] = {}
    if _is_debian_12(os_release):
        debian = _BOOKWORM_QEMU
        notes["debian"] = _BOOKWORM_NOTE
    elif x86:
        debian = _apt("qemu-system-x86")
    else:
        debian = _apt("qemu-system-arm")
        notes["debian"] = (
            "raspi4b needs QEMU >= 9: Debian 13+ or Ubuntu 24.10+; on Debian 12 enable "
            "bookworm-backports in apt sources and run: " + _BOOKWORM_QEMU
        )
    if not x86:
        notes["fedora"] = "raspi4b needs QEMU >= 9: Fedora 41+"
    install = {
        "debian": debian,
        "fedora": _dnf("qemu-system-x86" if x86 else "qemu-system-aarch64"),
        "macos": "brew install qemu",
    }
    return install, notes


def _check_qemu_x86() -> Check:
    install, notes = _qemu_install(x86=True)
    return _tool_check("qemu-x86", ["qemu-system-x86_64"], install, notes)


_QEMU_VERSION = re.compile(r"version\s+(\d+(?:\.\d+)+)")
_RASPI4B = re.compile(r"^\s*raspi4b\b", re.MULTILINE)


def _check_qemu_raspi4b() -> Check:
    key = "qemu-raspi4b"
    install, notes = _qemu_install(x86=False)
    qemu = find_program("qemu-system-aarch64")
    if qemu is None:
        return _mk(
            key, False, "qemu-system-aarch64 not found on PATH (QEMU >= 9 with the raspi4b machine is needed)",
            install, notes,
        )
    match = _QEMU_VERSION.search(_run([qemu, "--version"]).output)
    version = f"QEMU {match.group(1)}" if match else "QEMU of unknown version"
    machines = _run([qemu, "-M", "help"])
    if not machines.ok:
        return _mk(key, False, f"{qemu} is broken: {machines.error}", install, notes)
    if _RASPI4B.search(machines.output):
        return _mk(key, True, f"{qemu}: {version}, machine raspi4b available", install, notes)
    return _mk(key, False, f"{qemu} is {version}, which has no raspi4b machine: QEMU >= 9 is needed", install, notes)


_NO_KVM_ON_MACOS = "not applicable: hvt needs Linux KVM; boot hvt unikernels on a Linux host"


def _check_kvm(device: str = "/dev/kvm") -> Check:
    key = "kvm"
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        modprobe = "sudo modprobe kvm_intel || sudo modprobe kvm_amd"
        firmware = "if that fails, enable VT-x/AMD-V in the firmware or in the VM settings"
        return _mk(
            key, False,
            f"{device} is missing (KVM not loaded or no hardware virtualization); "
            "hvt unikernels build but cannot boot without it",
            {"debian": modprobe, "fedora": modprobe},
            {"debian": firmware, "fedora": firmware, "macos": _NO_KVM_ON_MACOS},
        )
    except PermissionError:
        usermod = "sudo usermod -aG kvm $USER"
        relogin = "then log out and back in"
        return _mk(
            key, False,
            f"{device} exists but read-write access is denied (permission denied); hvt boots need it",
            {"debian": usermod, "fedora": usermod},
            {"debian": relogin, "fedora": relogin, "macos": _NO_KVM_ON_MACOS},
        )
    except OSError as exc:
        return _mk(
            key, False, f"{device} cannot be opened read-write: {exc.strerror or exc}; hvt boots need it",
            notes={"macos": _NO_KVM_ON_MACOS},
        )
    os.close(fd)
    return _mk(key, True, f"{device} opens read-write (hvt boots need it)", notes={"macos": _NO_KVM_ON_MACOS})


def _check_mtools() -> Check:
    return _tool_check(
        "mtools", ["mcopy"], {"debian": _apt("mtools"), "fedora": _dnf("mtools"), "macos": "brew install mtools"}
    )


def _check_mkfs_vfat() -> Check:
    # Not strict: dosfstools only learnt --version in 4.2; an older mkfs.vfat is still usable.
    return _tool_check(
        "mkfs.vfat",
        ["mkfs.vfat"],
        {"debian": _apt("dosfstools"), "fedora": _dnf("dosfstools"), "macos": "brew install dosfstools"},
        extra_dirs=SBIN_DIRS,
        strict=False,
    )


def _check_rust() -> Check:
    # What `install --with rust` will use, by uktoolchain.rust_toolchain's rule: UKTOOLCHAIN_RUSTC,
    # else the first rustc on PATH with rust-src and compiler_builtins sources, else /usr/bin/rustc.
    from uktoolchain import rust_toolchain

    key = "rust"
    install = {
        "debian": rust_toolchain.APT_INSTALL,
        "fedora": _dnf("rust", "cargo", "rust-src"),
        "macos": "brew install rustup && rustup-init -y --component rust-src",
    }
    notes = {"macos": "then put ~/.cargo/bin on PATH; rust-src has compiler_builtins only on recent toolchains"}
    found = rust_toolchain.survey()
    others = [c for c in found.looked_at if c is not found.chosen]

    def lacks(candidates, prefix: str) -> str:
        return "".join(f"; {prefix} {c.real_rustc or c.rustc} ({c.release}): {', '.join(c.problems)}"
                       for c in candidates)

    if found.chosen is not None:
        how = "UKTOOLCHAIN_RUSTC" if found.explicit else "the rule"
        return _mk(key, True, f"will use (by {how}) {rust_toolchain.describe(found.chosen)}"
                   f"{lacks(others, 'passed over')}",
                   install, notes)
    if not found.looked_at:
        return _mk(key, False, "no rustc on PATH or in /usr/bin", install, notes)
    first = found.looked_at[0]
    if first.rustup and first.sysroot is not None:
        # rustup manages that toolchain: it adds rust-src itself.
        install = {p: first.install_hint() for p in PLATFORMS}
        notes = {"debian": f"or use Debian's toolchain: {rust_toolchain.APT_INSTALL}"}
    detail = f"{first.real_rustc or first.rustc} ({first.release}): {', '.join(first.problems)}"
    return _mk(key, False, detail + lacks(others[1:], "also"), install, notes)


def _check_editor() -> Check:
    # Not a host program: what the installed targets have (install --with editor).
    from uktoolchain import editor
    from uktoolchain.home import Home
    from uktoolchain.resources import RecipeIndex
    from uktoolchain.targets import Catalogue

    found = editor.check(Home.discover(), Catalogue.load(RecipeIndex.discover().catalogue_file))
    command = "uktoolchain install TARGET --with editor  (e.g. spt, or unix)"
    return replace(_mk("editor", found.ok, found.detail, {p: command for p in PLATFORMS}), advice=found.advice)


_CHECKS: dict[str, Callable[[], Check]] = {
    "cc": _check_cc,
    "make": _check_make,
    "patch": _check_patch,
    "cmake": _check_cmake,
    "pkg-config": _check_pkg_config,
    "libseccomp": _check_libseccomp,
    "aarch64-gcc": _check_aarch64_gcc,
    "qemu-x86": _check_qemu_x86,
    "qemu-raspi4b": _check_qemu_raspi4b,
    "kvm": _check_kvm,
    "mtools": _check_mtools,
    "mkfs.vfat": _check_mkfs_vfat,
    "rust": _check_rust,
    "editor": _check_editor,
}


def run_checks(which: Iterable[str] | None = None) -> list[Check]:
    """Run the checks whose keys are in ``which`` (see :data:`CHECK_KEYS`), or all of them.

    Results come in :data:`CHECK_KEYS` order whatever the order of ``which``. Raises
    :class:`~uktoolchain.errors.UsageError` for an unknown key; never raises because of what it
    finds on the host.
    """
    if which is None:
        keys = list(CHECK_KEYS)
    else:
        wanted = set(which)
        unknown = sorted(wanted - set(CHECK_KEYS))
        if unknown:
            raise UsageError(f"unknown doctor check: {', '.join(unknown)}", f"known checks: {', '.join(CHECK_KEYS)}")
        keys = [k for k in CHECK_KEYS if k in wanted]
    results: list[Check] = []
    for key in keys:
        try:
            results.append(_CHECKS[key]())
        except Exception as exc:  # noqa: BLE001 - one broken check must not take doctor down
            results.append(_mk(key, False, f"check crashed: {type(exc).__name__}: {exc}"))
    return results


def render_plain(checks: Iterable[Check], platform: str) -> str:
    """The lines the CLI prints, one per check::

        ok      make: /usr/bin/make: GNU Make 4.3
        MISSING aarch64 cross gcc (needed for aarch64-*): sudo apt-get install -y gcc-aarch64-linux-gnu -- <detail>
    """
    lines = []
    for check in checks:
        detail = " ".join(check.detail.split())
        if check.ok:
            lines.append(f"ok      {check.name}: {detail}")
        else:
            hint = " ".join(check.hint(platform).split())
            lines.append(f"MISSING {check.name} (needed for {check.needed_for}): {hint} -- {detail}")
        lines += [f"        {line}" for line in check.advice]
    return "\n".join(lines)
