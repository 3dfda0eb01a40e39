"""Solo5 virtio: QEMU, Firecracker and cloud VMs. Here under QEMU's software emulation (as Solo5's
solo5-virtio-run does without KVM). QEMU ends with a status of its own: the unikernel's is read
from the console, where the binding prints `Solo5: solo5_exit(N) called`."""
from __future__ import annotations

import shutil
from pathlib import Path

from uktoolchain.platforms.base import CONSOLE, Devices, Launch
from uktoolchain.platforms.solo5 import Solo5

# The binding takes PCI devices, in slot order, for the manifest's devices, in manifest order.
FIRST_PCI_SLOT = 3


class Virtio(Solo5):
    name = "virtio"
    run_tools = ("qemu-x86",)
    device_kinds = frozenset({"net", "block"})

    def launch(self, image: Path, args: list[str], devices: Devices, tool_path: str, workdir: Path) -> Launch:
        self.require_runnable_here()
        qemu = shutil.which("qemu-system-x86_64")
        # -cpu max: what TCG has, RDRAND included (mirage-crypto's RNG seeds from it).
        # -nic none: QEMU's default NIC would take PCI slot 3, the first of the manifest's devices.
        command = [qemu, "-nographic", "-no-reboot", "-m", "128", "-cpu", "max", "-display", "none",
                   "-serial", "stdio", "-monitor", "none", "-nic", "none", "-kernel", str(image)]
        if args:
            command += ["-append", " ".join(args)]
        from uktoolchain import elf  # only when booting: env needs no ELF reader

        for slot, device in enumerate(elf.read(image).solo5_devices() or (), FIRST_PCI_SLOT):
            value = devices.of(device.kind)[device.name]
            value = value.replace(",", ",,")  # QEMU's option syntax
            if device.kind == "block":
                command += ["-drive", f"id=drive{slot},file={value},if=none,format=raw",
                            "-device", f"virtio-blk,drive=drive{slot},addr=0x{slot:x},bus=pci.0"]
            else:
                command += ["-device", f"virtio-net,netdev=n{slot},addr=0x{slot:x},bus=pci.0",
                            "-netdev", f"tap,id=n{slot},ifname={value},script=no,downscript=no"]
        return Launch(command, CONSOLE, "QEMU (x86_64)")


PLATFORM = Virtio
