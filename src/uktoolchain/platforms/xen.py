"""Solo5 xen: a Xen PVH guest; images are linked and checked here, booted by a Xen host."""
from uktoolchain.platforms.solo5 import Unbootable


class Xen(Unbootable):
    name = "xen"
    needs = "a Xen hypervisor (xl create, as a PVH guest)"


PLATFORM = Xen
