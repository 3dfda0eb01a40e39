import io

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.files import copy
from conan.tools.layout import basic_layout


class Solo5Test(ConanFile):
    settings = "os", "arch"
    test_type = "explicit"

    def layout(self):
        basic_layout(self)

    def requirements(self):
        self.requires(self.tested_reference_str)

    @property
    def _target_arch(self):
        return str(self.dependencies["solo5"].options.target_arch)

    def build(self):
        # Every binding of the target is linked; spt, the one that runs without KVM, is run below.
        copy(self, "hello.c", self.source_folder, self.build_folder)
        triple = f"{self._target_arch}-solo5-none-static"
        self.run(f"{triple}-cc -c hello.c -o hello.o", env="conanrun")
        bindings = ["stub", "hvt", "spt"] + (["virtio", "muen", "xen"] if self._target_arch == "x86_64" else [])
        for binding in bindings:
            self.run(f"{triple}-ld -z solo5-abi={binding} hello.o -o hello.{binding}", env="conanrun")

    def test(self):
        host_arch = {"armv8": "aarch64"}.get(str(self.settings.arch), str(self.settings.arch))
        if self._target_arch != host_arch:
            return  # tenders and elftool come with the native package
        self.run("solo5-elftool query-abi hello.spt", env="conanrun")
        output = io.StringIO()
        self.run("solo5-spt hello.spt", stdout=output, env="conanrun")
        self.output.info(output.getvalue())
        if "hello from solo5" not in output.getvalue():
            raise ConanException("solo5-spt did not print the greeting")
