import io
import os

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.files import copy
from conan.tools.layout import basic_layout

GREETING = "Hello from OCaml on Solo5!"
ELF_MACHINE = {"x86_64": 62, "aarch64": 183}


class OcamlSolo5Test(ConanFile):
    settings = "os", "arch"
    test_type = "explicit"

    def layout(self):
        basic_layout(self)

    def requirements(self):
        self.requires(self.tested_reference_str)

    @property
    def _target_arch(self):
        return str(self.dependencies["ocaml-solo5"].options.target_arch)

    @property
    def _native(self):
        host = {"armv8": "aarch64"}.get(str(self.settings.arch), str(self.settings.arch))
        return self._target_arch == host

    def build(self):
        # The cross ocamlopt straight from the sysroot (its wrapper sets OCAMLLIB); C goes through
        # <arch>-solo5-ocaml-cc, found on PATH like at use time.
        copy(self, "*", os.path.join(self.source_folder, "src"), self.build_folder)
        sysroot = self.dependencies["ocaml-solo5"].conf_info.get("user.uktoolchain:ocaml_solo5_sysroot")
        ocamlopt = os.path.join(sysroot, "bin", "ocamlopt")
        objects = "startup.o"
        if self._native:  # solo5-elftool is a host tool: only the native solo5 package has it
            self.run("solo5-elftool gen-manifest manifest.json manifest.c", env="conanrun")
            objects += " manifest.o"
        for c_file in objects.replace(".o", ".c").split():
            self.run(f'"{ocamlopt}" -c {c_file}', env="conanrun")
        self.run(f'"{ocamlopt}" hello.ml {objects} -cclib "-z solo5-abi=spt" -o hello.spt',
                 env="conanrun")
        with open(os.path.join(self.build_folder, "hello.spt"), "rb") as stream:
            machine = int.from_bytes(stream.read(20)[18:20], "little")
        if machine != ELF_MACHINE[self._target_arch]:
            raise ConanException(f"hello.spt is for ELF machine {machine}, not {self._target_arch}")

    def test(self):
        if not self._native:
            return  # linked and checked above; tenders come with the native solo5 package
        output = io.StringIO()
        self.run("solo5-spt hello.spt", stdout=output, env="conanrun")
        self.output.info(output.getvalue())
        if GREETING not in output.getvalue():
            raise ConanException("solo5-spt did not print the greeting")
