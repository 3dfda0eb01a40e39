"""Solo5 hvt: a minimal KVM (bhyve, OpenBSD vmm) monitor, solo5-hvt, which needs /dev/kvm."""
from uktoolchain.platforms.solo5 import Tendered


class Hvt(Tendered):
    name = "hvt"
    tender = "solo5-hvt"
    run_tools = ("kvm",)


PLATFORM = Hvt
