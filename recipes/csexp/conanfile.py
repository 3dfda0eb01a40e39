import os

from conan import ConanFile
from conan.tools.build import build_jobs
from conan.tools.files import rm

ENV = ["conanbuild", "conanrun"]


class Csexp(ConanFile):
    name = "csexp"
    description = "Canonical S-expressions (a library of the editor extra: merlin's protocol with dune)"
    license = "MIT"
    homepage = "https://github.com/ocaml-dune/csexp"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    uk_requires = ("ocaml", "dune")

    def build(self):
        self.run(f"dune build -p csexp -j {build_jobs(self)} @install", cwd=self.source_folder, env=ENV)

    def package(self):
        destdir = os.path.join(self.build_folder, "staged")
        self.run(f"dune install csexp --prefix {self.uk_fake_prefix} --destdir {destdir}",
                 cwd=self.source_folder, env=ENV)
        self.uk_move_staged_install(destdir)
        # Typed trees record the compiler's command line, with this machine's paths; nothing
        # an editor or a build of ours reads them.
        rm(self, "*.cmt", self.package_folder, recursive=True)
        rm(self, "*.cmti", self.package_folder, recursive=True)

    def package_info(self):
        # For the builds of other editor components only: users' projects do not see it.
        self.cpp_info.bindirs, self.cpp_info.libdirs, self.cpp_info.includedirs = [], [], []
        self.buildenv_info.prepend_path("OCAMLPATH", os.path.join(self.package_folder, "lib"))
