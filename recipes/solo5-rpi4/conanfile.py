import os
import shutil

from conan import ConanFile
from conan.errors import ConanException, ConanInvalidConfiguration
from conan.tools.files import copy

_TRIPLE = "aarch64-solo5-none-static"


class Solo5Rpi4(ConanFile):
    """Solo5's aarch64 toolchain with our rpi4 binding beside its own bindings.

    Solo5's <triple>-cc/ld wrappers find bindings in ../lib/<triple>/ relative to themselves, so a
    new binding must sit in that directory. Rather than rebuild Solo5 (and with it the OCaml
    cross-compiler that depends on it) whenever the boot glue changes, this package is a copy of
    the small (~2 MB) Solo5 aarch64 toolchain plus solo5_rpi4.{o,lds}. Its bin/ comes first on
    PATH, so ocaml-solo5's aarch64 compiler, which calls the wrappers by name, links with
    -z solo5-abi=rpi4; the other bindings are the same files as Solo5's.
    """

    name = "solo5-rpi4"
    description = "Solo5 aarch64 toolchain plus uktoolchain's rpi4 binding (Raspberry Pi 4 boot glue)"
    license = "ISC"
    homepage = "https://github.com/Solo5/solo5"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    uk_requires = (("solo5", {"target_arch": "aarch64"}),)

    def _exported_dirs(self):
        with open(os.path.join(self.recipe_folder, "exports.txt")) as stream:
            return [line.strip() for line in stream if line.strip() and not line.startswith("#")]

    def export_sources(self):
        super().export_sources()
        repo = os.path.join(self.recipe_folder, "..", "..")
        for directory in self._exported_dirs():
            source = os.path.join(repo, directory)
            if not os.path.isdir(source):
                raise ConanException(f"solo5-rpi4 needs {directory} of the recipe index ({source})")
            copy(self, "*", source, os.path.join(self.export_sources_folder, directory),
                 excludes=("build/*", "*.o", "*.elf", "*.img"))

    def source(self):
        pass  # our own code, exported with the recipe: nothing to download

    @property
    def _cross_prefix(self):
        return self.uk_cross_prefix("aarch64")

    def validate_build(self):
        gcc = f"{self._cross_prefix}gcc"
        if not shutil.which(gcc):
            raise ConanInvalidConfiguration(
                f"solo5-rpi4 needs {gcc}: apt-get install gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu")

    def build(self):
        cross = self._cross_prefix
        solo5 = self.dependencies["solo5"].package_folder
        makefile = os.path.join(self.source_folder, "boards", "rpi4", "Makefile")
        # Keep the Solo5 package's folder (its headers) out of the binding's debug info.
        cflags = f"-O2 -g -ffile-prefix-map={solo5}={self.uk_fake_prefix_of('solo5')}"
        self.run(self.uk_make(f'-f "{makefile}" O=rpi4 CC={cross}gcc LD={cross}ld '
                              f'OBJCOPY={cross}objcopy "SOLO5_INCLUDE={solo5}/include/solo5" "CFLAGS={cflags}"'),
                 cwd=self.build_folder)

    def package(self):
        solo5 = self.dependencies["solo5"].package_folder
        for folder in ("bin", "include", "lib", "licenses"):
            shutil.copytree(os.path.join(solo5, folder), os.path.join(self.package_folder, folder),
                            symlinks=True, dirs_exist_ok=True)
        libdir = os.path.join(self.package_folder, "lib", _TRIPLE)
        for name in ("solo5_rpi4.o", "solo5_rpi4.lds"):
            shutil.copy2(os.path.join(self.build_folder, "rpi4", name), os.path.join(libdir, name))
        copy(self, "README.md", os.path.join(self.source_folder, "boards", "rpi4"),
             os.path.join(self.package_folder, "share", "doc", "rpi4"))

    def package_info(self):
        self.uk_publish_bindir()
