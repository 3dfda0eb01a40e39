import os

from conan import ConanFile
from conan.tools.build import build_jobs
from conan.tools.files import rm

ENV = ["conanbuild", "conanrun"]


class Yojson(ConanFile):
    name = "yojson"
    description = "JSON parsing and printing (a library of the editor extra: ocamlmerlin's answers)"
    license = "BSD-3-Clause"
    homepage = "https://github.com/ocaml-community/yojson"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    uk_requires = ("ocaml", "dune", "cppo")

    def build(self):
        # patches/yojson/2.0.2-0001: no `seq` library (OCaml has had Seq in its stdlib since 4.07).
        self.run(f"dune build -p yojson -j {build_jobs(self)} @install", cwd=self.source_folder, env=ENV)

    def package(self):
        destdir = os.path.join(self.build_folder, "staged")
        self.run(f"dune install yojson --prefix {self.uk_fake_prefix} --destdir {destdir}",
                 cwd=self.source_folder, env=ENV)
        self.uk_move_staged_install(destdir)
        # Typed trees record the compiler's command line, with this machine's paths; nothing
        # an editor or a build of ours reads them.
        rm(self, "*.cmt", self.package_folder, recursive=True)
        rm(self, "*.cmti", self.package_folder, recursive=True)

    def package_info(self):
        # For the builds of other editor components only (ydump included): users' projects do not see it.
        self.cpp_info.bindirs, self.cpp_info.libdirs, self.cpp_info.includedirs = [], [], []
        self.buildenv_info.prepend_path("OCAMLPATH", os.path.join(self.package_folder, "lib"))
