import os

from conan import ConanFile
from conan.tools.build import build_jobs
from conan.tools.files import rm

ENV = ["conanbuild", "conanrun"]


class Cppo(ConanFile):
    name = "cppo"
    description = "The cpp-like preprocessor for OCaml (builds yojson for the editor extra)"
    license = "BSD-3-Clause"
    homepage = "https://github.com/ocaml-community/cppo"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    uk_requires = ("ocaml", "dune")

    def build(self):
        # -p cppo: not cppo_ocamlbuild, which needs ocamlbuild.
        self.run(f"dune build -p cppo -j {build_jobs(self)} @install", cwd=self.source_folder, env=ENV)

    def package(self):
        destdir = os.path.join(self.build_folder, "staged")
        self.run(f"dune install cppo --prefix {self.uk_fake_prefix} --destdir {destdir}",
                 cwd=self.source_folder, env=ENV)
        self.uk_move_staged_install(destdir)
        # Typed trees record the compiler's command line, with this machine's paths; nothing
        # an editor or a build of ours reads them.
        rm(self, "*.cmt", self.package_folder, recursive=True)
        rm(self, "*.cmti", self.package_folder, recursive=True)

    def package_info(self):
        # A build tool of yojson: on PATH in the builds that require it, not in users' environments.
        self.cpp_info.bindirs, self.cpp_info.libdirs, self.cpp_info.includedirs = [], [], []
        self.buildenv_info.prepend_path("PATH", os.path.join(self.package_folder, "bin"))
