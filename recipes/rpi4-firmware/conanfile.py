import os

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.files import copy


class Rpi4Firmware(ConanFile):
    name = "rpi4-firmware"
    description = "Raspberry Pi 4 boot firmware: start4.elf, fixup4.dat, the Broadcom licence (and the device tree)"
    license = "LicenseRef-Broadcom-RPi (LICENCE.broadcom: redistributable unmodified, for Raspberry Pi devices)"
    homepage = "https://github.com/raspberrypi/firmware"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    # The same files whatever machine installs them.
    settings = ()

    def source(self):
        entry = self.conan_data["sources"][self.version]
        if "files" not in entry:
            # A local source (uktoolchain's --source rpi4-firmware=PATH): one archive, a directory
            # made into a deterministic tarball by uktoolchain. The base unpacks it.
            super().source()
            return
        # The pinned release: each file by its checksum (source store, mirrors, then its URLs).
        # uk_locate_archive may download to one shared temporary name: copy each file at once.
        for name, file_entry in entry["files"].items():
            with open(self.uk_locate_archive(file_entry), "rb") as stream, \
                    open(os.path.join(self.source_folder, name), "wb") as out:
                out.write(stream.read())

    def build(self):
        pass  # firmware is shipped as it comes

    def package(self):
        rules = self.conan_data["local_source"]
        root = self._firmware_root(rules)
        wanted = rules["required"] + rules["optional"]
        for name in wanted:
            if os.path.isfile(os.path.join(root, name)):
                copy(self, name, root, os.path.join(self.package_folder, "boot"))
        for name in sorted(os.listdir(os.path.join(self.package_folder, "boot"))):
            self.output.info(f"packaged boot/{name} (sha256 {self._sha256(name)})")

    def _firmware_root(self, rules):
        for subdir in rules["subdirs"]:
            root = os.path.normpath(os.path.join(self.source_folder, subdir))
            if all(os.path.isfile(os.path.join(root, name)) for name in rules["required"]):
                return root
        raise ConanException(
            f"the firmware source has no {', '.join(rules['required'])} (looked in {', '.join(rules['subdirs'])}); "
            f"give it with {rules['example']}")

    def _sha256(self, name):
        file_digest = self.python_requires["ukbase"].module.file_digest
        return file_digest(os.path.join(self.package_folder, "boot", name), "sha256")

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.includedirs = []
        # For `uktoolchain image`: where the boot files are.
        self.conf_info.define_path("user.uktoolchain:rpi4_firmware_dir", os.path.join(self.package_folder, "boot"))
