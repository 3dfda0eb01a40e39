import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.files import copy
from conan.tools.layout import basic_layout


class OcamlfindTest(ConanFile):
    settings = "os", "arch"
    test_type = "explicit"

    def layout(self):
        basic_layout(self)

    def requirements(self):
        self.requires(self.tested_reference_str)

    def build(self):
        if can_run(self):
            copy(self, "test.ml", self.source_folder, self.build_folder)
            self.run("ocamlfind list", env="conanrun")
            self.run("ocamlfind ocamlopt -package str,unix,threads.posix -linkpkg test.ml -o test",
                     env="conanrun")

    def test(self):
        if can_run(self):
            self.run(os.path.join(self.build_folder, "test"), env="conanrun")
