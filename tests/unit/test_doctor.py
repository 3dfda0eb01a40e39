"""Tests for uktoolchain.doctor: real executables on a controlled PATH, no mocked system calls."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from uktoolchain import doctor
from uktoolchain.errors import UsageError


def _script(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def _only_path(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    monkeypatch.setenv("PATH", str(directory))


def _by_key(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {c.key: c for c in checks}


def test_empty_path_basic_tools_missing_with_apt_hint(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    _only_path(monkeypatch, empty)
    checks = _by_key(doctor.run_checks(["cc", "make", "patch"]))
    assert set(checks) == {"cc", "make", "patch"}
    for check in checks.values():
        assert not check.ok
        assert "not found" in check.detail
        assert "apt-get install" in check.install["debian"]
        assert check.install["debian"].startswith("sudo apt-get install -y ")
        assert check.install["fedora"].startswith("sudo dnf install -y ")
        assert "macos" in check.install


def test_fake_aarch64_gcc_is_detected(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    gcc = _script(bindir, "aarch64-linux-gnu-gcc", 'echo "aarch64-linux-gnu-gcc (Fake) 99.1.0"\n')
    _only_path(monkeypatch, bindir)

    # gcc alone is not enough: Solo5 also needs the cross ld and objcopy.
    [check] = doctor.run_checks(["aarch64-gcc"])
    assert not check.ok
    assert "aarch64-linux-gnu-ld" in check.detail

    _script(bindir, "aarch64-linux-gnu-ld", 'echo "GNU ld (Fake) 2.40"\n')
    _script(bindir, "aarch64-linux-gnu-objcopy", 'echo "GNU objcopy (Fake) 2.40"\n')
    [check] = doctor.run_checks(["aarch64-gcc"])
    assert check.ok, check.detail
    assert str(gcc) in check.detail
    assert "99.1.0" in check.detail


def test_missing_aarch64_gcc_hints(tmp_path, monkeypatch):
    _only_path(monkeypatch, tmp_path)
    [check] = doctor.run_checks(["aarch64-gcc"])
    assert not check.ok
    assert check.install["debian"] == "sudo apt-get install -y gcc-aarch64-linux-gnu"
    assert "macos" not in check.install
    assert "Linux host" in check.hint("macos")


def test_broken_tool_is_reported_not_raised(tmp_path, monkeypatch):
    _script(tmp_path, "make", "echo 'make: exploded' >&2\nexit 3\n")
    _only_path(monkeypatch, tmp_path)
    [check] = doctor.run_checks(["make"])
    assert not check.ok
    assert "exit status 3" in check.detail
    assert "exploded" in check.detail


_MACHINES_OLD = """Supported machines are:
none                 empty machine
raspi3b              Raspberry Pi 3B (revision 1.2)
virt                 QEMU 7.2 ARM Virtual Machine (alias of virt-7.2)
"""
_MACHINES_NEW = _MACHINES_OLD + "raspi4b              Raspberry Pi 4B (revision 1.5)\n"


def _fake_qemu(directory: Path, version: str, machines: str) -> Path:
    # Shell builtins only: PATH holds nothing but the fake itself.
    listing = "\n".join(f"    echo '{line}'" for line in machines.splitlines())
    return _script(
        directory,
        "qemu-system-aarch64",
        f"""case "$1" in
  --version)
    echo 'QEMU emulator version {version}'
    echo 'Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers';;
  -M)
{listing};;
  *) exit 1;;
esac
""",
    )


def test_qemu_without_raspi4b(tmp_path, monkeypatch):
    qemu = _fake_qemu(tmp_path, "7.2.15 (Debian 1:7.2+dfsg-7+deb12u13)", _MACHINES_OLD)
    _only_path(monkeypatch, tmp_path)
    [check] = doctor.run_checks(["qemu-raspi4b"])
    assert not check.ok
    assert "QEMU >= 9" in check.detail
    assert "7.2.15" in check.detail
    assert str(qemu) in check.detail
    # Debian 12 needs both emulators from backports; other Debians the plain package.
    assert "qemu-system-arm" in check.install["debian"]
    if doctor._is_debian_12():
        assert check.install["debian"] == (
            "sudo apt-get install -y -t bookworm-backports qemu-system-arm qemu-system-x86"
        )
        assert "bookworm-backports" in check.notes["debian"]


def test_qemu_with_raspi4b(tmp_path, monkeypatch):
    qemu = _fake_qemu(tmp_path, "10.0.3", _MACHINES_NEW)
    _only_path(monkeypatch, tmp_path)
    [check] = doctor.run_checks(["qemu-raspi4b"])
    assert check.ok, check.detail
    assert str(qemu) in check.detail
    assert "10.0.3" in check.detail


def test_hanging_tool_times_out(tmp_path):
    hang = _script(tmp_path, "qemu-system-aarch64", "exec sleep 30\n")
    result = doctor._run([str(hang), "-M", "help"], timeout=0.5)
    assert not result.ok
    assert "did not finish" in result.error


def test_qemu_install_commands_by_release(tmp_path):
    bookworm = tmp_path / "bookworm"
    bookworm.write_text('ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
    trixie = tmp_path / "trixie"
    trixie.write_text('ID=debian\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n')

    for x86 in (True, False):
        install, notes = doctor._qemu_install(x86, bookworm)
        assert install["debian"] == (
            "sudo apt-get install -y -t bookworm-backports qemu-system-arm qemu-system-x86"
        )
        assert "apt sources" in notes["debian"]
        assert "http" not in notes["debian"]

    install, notes = doctor._qemu_install(False, trixie)
    assert install["debian"] == "sudo apt-get install -y qemu-system-arm"
    install, _ = doctor._qemu_install(True, trixie)
    assert install["debian"] == "sudo apt-get install -y qemu-system-x86"


def test_host_platform_here_is_debian():
    assert doctor.host_platform() == "debian"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('ID=ubuntu\nID_LIKE=debian\n', "debian"),
        ('ID=fedora\n', "fedora"),
        ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "fedora"),
        ('ID=arch\n', "unknown"),
        ('', "unknown"),
    ],
)
def test_host_platform_from_os_release(tmp_path, content, expected):
    path = tmp_path / "os-release"
    path.write_text(content)
    assert doctor.host_platform(path) == expected


def test_host_platform_without_os_release(tmp_path):
    assert doctor.host_platform(tmp_path / "absent") == "unknown"


def test_make_is_ok_on_this_machine():
    [check] = doctor.run_checks(["make"])
    assert check.ok, check.detail
    assert "make" in check.detail


def test_kvm_missing_device(tmp_path):
    check = doctor._check_kvm(str(tmp_path / "kvm"))
    assert not check.ok
    assert "missing" in check.detail
    assert "modprobe" in check.install["debian"]
    assert "macos" not in check.install


def test_kvm_not_a_device(tmp_path):
    # A directory cannot be opened read-write: reported, not raised.
    check = doctor._check_kvm(str(tmp_path))
    assert not check.ok
    assert "cannot be opened" in check.detail


def test_mkfs_vfat_found_outside_path_in_extra_dirs(tmp_path, monkeypatch):
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    empty = tmp_path / "empty"
    empty.mkdir()
    _only_path(monkeypatch, empty)  # root's PATH has /usr/sbin, where dosfstools puts the real one
    tool = _script(sbin, "mkfs.vfat", "exit 1\n")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))  # whether the host has dosfstools or not
    assert doctor.find_program("mkfs.vfat", [str(sbin)]) == str(tool)


def test_unknown_key_is_a_usage_error():
    with pytest.raises(UsageError):
        doctor.run_checks(["make", "no-such-check"])


def test_which_filters_and_keeps_canonical_order():
    checks = doctor.run_checks(["patch", "make"])
    assert [c.key for c in checks] == ["make", "patch"]


def test_all_checks_run_and_render_one_line_each():
    checks = doctor.run_checks()
    assert [c.key for c in checks] == list(doctor.CHECK_KEYS)
    assert len(checks) == len(doctor.CHECK_KEYS) == 14
    for platform in ("debian", "fedora", "macos", "unknown"):
        lines = doctor.render_plain(checks, platform).splitlines()
        assert len(lines) == len(checks)
        for check, line in zip(checks, lines):
            if check.ok:
                assert line.startswith("ok ") and check.name in line
            else:
                assert line.startswith(f"MISSING {check.name} (needed for {check.needed_for}): ")
    # Every failing check has a command or an explanation for each known platform.
    for check in checks:
        if not check.ok:
            for platform in doctor.PLATFORMS:
                assert check.install.get(platform) or check.notes.get(platform), (check.key, platform)


def test_render_plain_missing_line_uses_platform_command(tmp_path, monkeypatch):
    _only_path(monkeypatch, tmp_path)
    checks = doctor.run_checks(["aarch64-gcc", "make"])
    text = doctor.render_plain(checks, "debian")
    assert text.splitlines()[1] == (
        "MISSING aarch64 cross gcc (needed for aarch64-*): sudo apt-get install -y gcc-aarch64-linux-gnu"
        " -- aarch64-linux-gnu-gcc not found on PATH"
    )
    assert "sudo dnf install -y make" in doctor.render_plain(checks, "fedora")


def test_module_imports_no_ui_or_engine():
    source = Path(doctor.__file__).read_text()
    assert "import rich" not in source and "from rich" not in source
    assert "conan" not in source
