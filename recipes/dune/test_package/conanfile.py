import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.files import copy
from conan.tools.layout import basic_layout


class DuneTest(ConanFile):
    settings = "os", "arch"
    test_type = "explicit"

    def layout(self):
        basic_layout(self)

    def requirements(self):
        self.requires(self.tested_reference_str)

    def build(self):
        if can_run(self):
            # dune finds str (shipped with ocaml, lib/ocaml/str/META) through OCAMLPATH alone.
            copy(self, "*", os.path.join(self.source_folder, "src"), self.build_folder)
            self.run("dune build --root . --cache=disabled ./main.exe", env="conanrun")

    def test(self):
        if can_run(self):
            self.run(os.path.join(self.build_folder, "_build", "default", "main.exe"),
                     env="conanrun")
