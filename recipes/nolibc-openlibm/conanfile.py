import os
import shutil

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.files import copy

# ocaml-solo5's C libraries: where its Makefile builds them, relative to its source.
_LIBRARIES = ("nolibc/libnolibc.a", "openlibm/libopenlibm.a")


class NolibcOpenlibm(ConanFile):
    name = "nolibc-openlibm"
    description = ("ocaml-solo5's C library for Solo5 guests: nolibc and openlibm built for "
                   "<arch>-solo5-none-static (ocaml-solo5 links them into its runtime and sysroot)")
    license = "MIT AND ISC AND BSD-2-Clause"
    homepage = "https://github.com/mirage/ocaml-solo5"
    python_requires = "ukbase/1.0"
    # One build per target architecture. A package of its own so that it is built beside the host
    # OCaml compiler, which ocaml-solo5 waits for and these libraries do not need.
    python_requires_extend = "ukbase.UkPerArchPackage"

    @property
    def uk_requires(self):
        return (("solo5", {"target_arch": str(self.options.target_arch)}),)

    def validate_build(self):
        if not shutil.which("make"):
            raise ConanInvalidConfiguration(f"{self.name} needs make: apt-get install make")
        self.uk_validate_cross_tools()

    def build(self):
        self.uk_write_mapped_solo5_cc()
        # The same configuration as ocaml-solo5's build (the prefix does not reach the libraries).
        self.uk_run_with_solo5_cc(f"./configure.sh --prefix={self.uk_fake_prefix} --target={self.uk_solo5_triple}")
        self.uk_run_with_solo5_cc(self.uk_make(" ".join(_LIBRARIES)))

    def package(self):
        # lib/ mirrors the source tree (lib/nolibc/libnolibc.a): ocaml-solo5 puts each file back
        # where its Makefile builds it.
        for library in _LIBRARIES:
            copy(self, os.path.basename(library), os.path.join(self.source_folder, os.path.dirname(library)),
                 os.path.join(self.package_folder, "lib", os.path.dirname(library)))
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "LICENSE.md", os.path.join(self.source_folder, "openlibm"),
             os.path.join(self.package_folder, "licenses", "openlibm"))

    def package_info(self):
        # Read by ocaml-solo5's build only; nothing is published to consumers.
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.includedirs = []
