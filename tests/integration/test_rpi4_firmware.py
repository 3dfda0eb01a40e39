"""The rpi4-firmware component: the real recipe, installed by ``uktoolchain install`` into a real
Conan cache, then used by ``uktoolchain image``.

The index is a copy of the repository's own ukbase and rpi4-firmware recipes with a catalogue
holding just an aarch64-rpi4 target of that component (the real target also needs the compilers).
Firmware comes from Debian's raspi-firmware package when ci/fetch-rpi4-firmware.sh (or apt) put it
here, from stand-in files otherwise, and over HTTP on 127.0.0.1 for the pinned, per-file source.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import elf_samples
import pytest
import synthetic
import yaml

TARGET = "aarch64-rpi4"
VERSION = "1.20220830"
PINNED = ("start4.elf", "fixup4.dat", "LICENCE.broadcom")


def debian_firmware() -> Path | None:
    """Debian's raspi-firmware files: UKTOOLCHAIN_TEST_RPI4_FIRMWARE (ci/test.sh), or installed."""
    for candidate in (os.environ.get("UKTOOLCHAIN_TEST_RPI4_FIRMWARE"), "/usr/lib/raspi-firmware"):
        if candidate and (Path(candidate) / "start4.elf").is_file():
            return Path(candidate)
    return None


DEBIAN = debian_firmware()


@pytest.fixture
def firmware_index(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "index"
    for recipe in ("ukbase", "rpi4-firmware"):
        shutil.copytree(synthetic.REPO / "recipes" / recipe, root / "recipes" / recipe,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (root / "patches").mkdir()
    (root / "recipes" / "targets.toml").write_text(
        f'[components]\nrpi4-firmware = "{VERSION}"\n\n'
        f'[targets.{TARGET}]\ndescription = "Raspberry Pi 4 firmware only"\narch = "aarch64"\n'
        'binding = "rpi4"\nboard = "rpi4"\ncomponents = ["rpi4-firmware"]\n')
    monkeypatch.setenv("UKTOOLCHAIN_RECIPES", str(root))
    return root


def pins(index: Path) -> dict[str, str]:
    data = yaml.safe_load((index / "recipes" / "rpi4-firmware" / "conandata.yml").read_text())
    return {name: entry["sha256"] for name, entry in data["sources"][VERSION]["files"].items()}


def installed_boot_dir(home: Path) -> Path:
    stamp = json.loads((home / "state" / "installed" / "default" / f"{TARGET}.json").read_text())
    (package,) = [p for p in stamp["packages"] if p["name"] == "rpi4-firmware"]
    facts = dict(package["facts"])
    return Path(facts["rpi4_firmware_dir"].replace("{conan_home}", str(home / "conan")))


def stand_in_firmware(directory: Path) -> Path:
    directory.mkdir(parents=True)
    for name in ("start4.elf", "fixup4.dat", "bcm2711-rpi-4-b.dtb"):
        (directory / name).write_bytes(os.urandom(4096))
    (directory / "LICENCE.broadcom").write_text("stand-in licence\n")
    (directory / "start4x.elf").write_bytes(b"a variant the Pi 4 boot does not need")
    return directory


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(DEBIAN is None, reason="needs Debian's raspi-firmware files: ci/fetch-rpi4-firmware.sh "
                                           "(run by ci/test.sh) or apt-get install raspi-firmware")
def test_debian_package_through_the_real_recipe(uk, firmware_index, isolated_home, tmp_path):
    result = uk("install", TARGET, "--plain", "--source", f"rpi4-firmware={DEBIAN}")
    assert result.returncode == 0, result.stderr
    boot = installed_boot_dir(isolated_home)
    assert sorted(p.name for p in boot.iterdir()) == ["fixup4.dat", "start4.elf"]
    # The pins of start4.elf and fixup4.dat are Debian's files of the same release.
    expected = pins(firmware_index)
    for name in ("start4.elf", "fixup4.dat"):
        assert sha256(boot / name) == sha256(DEBIAN / name) == expected[name], name
    again = uk("install", TARGET, "--source", f"rpi4-firmware={DEBIAN}")
    assert again.returncode == 0 and "up to date" in again.stderr

    image = tmp_path / "sdcard.img"
    unikernel = elf_samples.build(tmp_path / "elf", "hello.rpi4")
    made = uk("image", TARGET, str(unikernel), "-o", str(image))  # firmware: the installed package
    assert made.returncode == 0, made.stderr
    assert f"start4.elf, fixup4.dat as pinned (raspberrypi/firmware {VERSION})" in made.stderr
    assert "no bcm2711-rpi-4-b.dtb" in made.stderr and "no LICENCE.broadcom" in made.stderr
    card = tmp_path / "start4-from-card.elf"
    subprocess.run(["mcopy", "-n", "-i", f"{image}@@1M", "::/start4.elf", str(card)], check=True,
                   env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    assert card.read_bytes() == (DEBIAN / "start4.elf").read_bytes()


def test_local_directory_with_every_file(uk, firmware_index, isolated_home, tmp_path):
    checkout = stand_in_firmware(tmp_path / "firmware" / "boot").parent  # raspberrypi/firmware layout
    result = uk("install", TARGET, "--plain", "--source", f"rpi4-firmware={checkout}")
    assert result.returncode == 0, result.stderr
    assert "using local source for rpi4-firmware (sha256 " in result.stderr
    boot = installed_boot_dir(isolated_home)
    assert sorted(p.name for p in boot.iterdir()) == ["LICENCE.broadcom", "bcm2711-rpi-4-b.dtb", "fixup4.dat",
                                                      "start4.elf"]  # only what a Pi 4 boot needs
    assert sha256(boot / "bcm2711-rpi-4-b.dtb") == sha256(checkout / "boot" / "bcm2711-rpi-4-b.dtb")

    unikernel = elf_samples.build(tmp_path / "elf", "hello.rpi4")
    made = uk("image", TARGET, str(unikernel), "--boot-dir", str(tmp_path / "card"))
    assert made.returncode == 0, made.stderr
    assert "start4.elf, fixup4.dat, LICENCE.broadcom differ from the pinned" in made.stderr
    assert "bcm2711-rpi-4-b.dtb not pinned" in made.stderr and "note:" not in made.stderr
    assert (tmp_path / "card" / "bcm2711-rpi-4-b.dtb").read_bytes() == (boot / "bcm2711-rpi-4-b.dtb").read_bytes()


def test_local_source_without_the_required_files(uk, firmware_index, isolated_home, tmp_path):
    directory = stand_in_firmware(tmp_path / "partial")
    (directory / "fixup4.dat").unlink()
    result = uk("install", TARGET, "--plain", "--source", f"rpi4-firmware={directory}")
    assert result.returncode == 3, result.stderr
    assert f"local source for rpi4-firmware ({directory}) lacks fixup4.dat" in result.stderr
    assert "--source rpi4-firmware=/usr/lib/raspi-firmware" in result.stderr
    assert not (isolated_home / "logs" / "default" / "rpi4-firmware.log").exists()  # refused before any build

    tarball = tmp_path / "firmware.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(directory, arcname="firmware-1.20220830")
    result = uk("install", TARGET, "--plain", "--source", f"rpi4-firmware={tarball}")
    assert result.returncode == 3 and "lacks fixup4.dat" in result.stderr


def test_pinned_files_fetched_one_by_one(uk, firmware_index, isolated_home, server, tmp_path):
    """The pinned source: each file by URL and sha256 (served here in place of GitHub)."""
    conandata = firmware_index / "recipes" / "rpi4-firmware" / "conandata.yml"
    data = yaml.safe_load(conandata.read_text())
    for name, entry in data["sources"][VERSION]["files"].items():
        content = f"stand-in {name}\n".encode() * 100
        (server.root / name).write_bytes(content)
        entry["url"] = [synthetic.dead_url(name), server.url(name)]  # the first mirror is down
        entry["sha256"] = hashlib.sha256(content).hexdigest()
    conandata.write_text(yaml.safe_dump(data, sort_keys=False))

    result = uk("install", TARGET, "--plain")
    assert result.returncode == 0, result.stderr
    boot = installed_boot_dir(isolated_home)
    assert sorted(p.name for p in boot.iterdir()) == sorted(PINNED)
    for name, entry in data["sources"][VERSION]["files"].items():
        assert sha256(boot / name) == entry["sha256"]
        assert (isolated_home / "sources" / entry["sha256"]).is_file()  # kept in the store by checksum

    # A file whose download does not match its pin is refused, nothing is installed for it.
    (server.root / "fixup4.dat").write_bytes(b"tampered")
    shutil.rmtree(isolated_home)
    result = uk("install", TARGET, "--plain")
    assert result.returncode == 4 and "checksum mismatch" in result.stderr


def test_unreachable_pinned_files_name_the_override(uk, firmware_index, isolated_home, server, tmp_path):
    conandata = firmware_index / "recipes" / "rpi4-firmware" / "conandata.yml"
    data = yaml.safe_load(conandata.read_text())
    for name, entry in data["sources"][VERSION]["files"].items():
        entry["url"] = [server.url(f"missing/{name}")]  # 404, as GitHub is unreachable here
    conandata.write_text(yaml.safe_dump(data, sort_keys=False))
    # A mirror with some of the files: those are taken from it, the rest is reported.
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    expected = pins(firmware_index)
    if DEBIAN is not None:
        for name in ("start4.elf", "fixup4.dat"):
            shutil.copyfile(DEBIAN / name, mirror / expected[name])
    result = uk("install", TARGET, "--plain", env={"UKTOOLCHAIN_SOURCE_MIRROR": str(mirror)})
    assert result.returncode == 4, result.stderr
    missing = "LICENCE.broadcom" if DEBIAN is not None else "start4.elf"
    assert f"could not fetch {missing} of rpi4-firmware (sha256 {expected[missing]})" in result.stderr
    assert "--source rpi4-firmware=/usr/lib/raspi-firmware (Debian's raspi-firmware package)" in result.stderr
    if DEBIAN is not None:
        assert (isolated_home / "sources" / expected["start4.elf"]).is_file()
