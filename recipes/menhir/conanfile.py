import os

from conan import ConanFile
from conan.tools.build import build_jobs
from conan.tools.files import rm

ENV = ["conanbuild", "conanrun"]
PACKAGES = ("menhir", "menhirLib", "menhirSdk")


class Menhir(ConanFile):
    name = "menhir"
    description = "The Menhir parser generator with menhirLib and menhirSdk (merlin's parser is built with them)"
    license = "GPL-2.0-only AND LGPL-2.0-only WITH OCaml-LGPL-linking-exception"
    homepage = "http://gitlab.inria.fr/fpottier/menhir"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    uk_requires = ("ocaml", "dune")

    def build(self):
        self.run(f"dune build -p {','.join(PACKAGES)} -j {build_jobs(self)} @install",
                 cwd=self.source_folder, env=ENV)

    def package(self):
        destdir = os.path.join(self.build_folder, "staged")
        self.run(f"dune install {' '.join(PACKAGES)} --prefix {self.uk_fake_prefix} --destdir {destdir}",
                 cwd=self.source_folder, env=ENV)
        self.uk_move_staged_install(destdir)
        # Typed trees record the compiler's command line, with this machine's paths; nothing
        # an editor or a build of ours reads them.
        rm(self, "*.cmt", self.package_folder, recursive=True)
        rm(self, "*.cmti", self.package_folder, recursive=True)

    def package_info(self):
        # Build tool and libraries of merlin: seen by the builds that require them, not by users.
        self.cpp_info.bindirs, self.cpp_info.libdirs, self.cpp_info.includedirs = [], [], []
        self.buildenv_info.prepend_path("PATH", os.path.join(self.package_folder, "bin"))
        self.buildenv_info.prepend_path("OCAMLPATH", os.path.join(self.package_folder, "lib"))
