"""Solo5 muen: a subject of the Muen separation kernel; images are linked and checked here."""
from uktoolchain.platforms.solo5 import Unbootable


class Muen(Unbootable):
    name = "muen"
    needs = "the Muen separation kernel (as a subject of its system image)"


PLATFORM = Muen
