"""Boot media for board targets (``uktoolchain image``): the platform says which files go on the
boot partition; here they become an SD card image (MBR + FAT32, see sdimage) or files in a
directory (e.g. a mounted card's boot partition). Everything is checked before anything is
written, and a failure leaves what was at the output before.
"""
from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from uktoolchain import atomic, sdimage
from uktoolchain.errors import ConfigError, UsageError, home_error_for_path
from uktoolchain.platforms import platform_of
from uktoolchain.platforms.base import MediaInputs, Platform

# Boot files are not secrets: readable by all, as files copied from a card are.
BOOT_FILE_MODE = 0o644
BOOT_DIR_MODE = 0o755


@dataclass(frozen=True)
class Output:
    card: Path | None = None  # an SD card image to write
    boot_dir: Path | None = None  # or a directory to put the boot files in

    @property
    def path(self) -> Path:
        return self.card if self.card is not None else self.boot_dir


def board_targets(catalogue) -> list[str]:
    """The targets whose platform makes boot media."""
    return [t.name for t in catalogue.targets.values()
            if t.available and type(platform_of(t)).media is not Platform.media]


def make(target, unikernel: Path, output: Output, inputs: MediaInputs, catalogue, say: Callable[[str], None]) -> None:
    platform = platform_of(target)
    if type(platform).media is Platform.media:
        boards = board_targets(catalogue)
        raise UsageError(f"image makes boot media for boards; target {target.name} has no board image",
                         f"give {' or '.join(boards)}" if boards else "no target of this catalogue has a board")
    platform.examine(unikernel, f"an SD card image needs the {target.binding} binding")
    if output.card is not None:
        sdimage.find_tools()  # before any work: say what to install
    plan = platform.media(unikernel, inputs)
    _check_writable(output)
    with tempfile.TemporaryDirectory(prefix="uktoolchain-image-") as scratch:
        files = plan.boot_files(Path(scratch))
        try:
            if output.card is not None:
                signature = disk_signature(files[plan.kernel]) if plan.kernel else 0
                layout = sdimage.write_image(output.card, files, plan.volume_label, signature)
                say(f"wrote {output.card}: {layout.image_size >> 20} MiB SD card image, FAT32 boot partition at "
                    f"{layout.partition_start >> 20} MiB ({layout.partition_size >> 20} MiB)")
            else:
                for name, path in files.items():
                    atomic.copy_file(path, output.boot_dir / name, mode=BOOT_FILE_MODE)
                say(f"wrote {len(files)} boot files to {output.boot_dir}")
        except OSError as exc:
            raise home_error_for_path(output.path, exc) from exc
    notes = plan.notes()
    say("  " + "  ".join(files) + (f"  {notes[0]}" if notes else ""))
    for line in notes[1:]:
        say(line)


def disk_signature(kernel: Path) -> int:
    """MBR disk signature and FAT volume id: derived from the unikernel, so equal inputs give
    equal identifiers (and different unikernels different ones)."""
    return int.from_bytes(hashlib.sha256(kernel.read_bytes()).digest()[:4], "little")


def _check_writable(output: Output) -> None:
    """Fail before any work when the output cannot be written (the error names the path)."""
    from uktoolchain.outputs import require_existing_directory

    path, is_dir = output.path, output.boot_dir is not None
    if not is_dir and path.is_dir():
        raise ConfigError(f"output {path} is a directory", "give a file name to -o, or use --boot-dir DIR")
    if not is_dir:
        require_existing_directory(path)
    if is_dir and path.exists() and not path.is_dir():
        raise ConfigError(f"--boot-dir {path} exists and is not a directory", "give a directory")
    try:
        if is_dir:
            _make_boot_dir(path)
        probe = tempfile.NamedTemporaryFile(dir=path if is_dir else path.absolute().parent, prefix=".uktoolchain-probe-")
        probe.close()
    except OSError as exc:
        raise home_error_for_path(path, exc) from exc


def _make_boot_dir(path: Path) -> None:
    """Create --boot-dir and the parents it lacks, each 0755 (an existing one keeps its mode)."""
    missing = []
    for directory in [path, *path.absolute().parents]:
        if directory.exists():
            break
        missing.append(directory)
    path.mkdir(parents=True, exist_ok=True)
    for directory in missing:
        directory.chmod(BOOT_DIR_MODE)
