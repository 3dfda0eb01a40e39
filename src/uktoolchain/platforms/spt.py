"""Solo5 spt: the Linux seccomp sandbox. The tender solo5-spt runs on this machine."""
from uktoolchain.platforms.solo5 import Tendered


class Spt(Tendered):
    name = "spt"
    tender = "solo5-spt"


PLATFORM = Spt
