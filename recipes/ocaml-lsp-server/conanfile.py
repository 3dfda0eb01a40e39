import glob
import json
import os
import re
import shutil

from conan import ConanFile
from conan.tools.files import load, save

ENV = ["conanbuild", "conanrun"]
# The duniverse's own dune file: its parts are vendored (built only as far as ocamllsp needs them,
# their warnings silenced).
VENDORED = "(vendored_dirs *)\n"


class OcamlLspServer(ConanFile):
    name = "ocaml-lsp-server"
    description = "ocamllsp, the OCaml language server (VS Code's OCaml Platform), built by the set's OCaml"
    license = "ISC"
    homepage = "https://github.com/ocaml/ocaml-lsp"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    # merlin: merlin-lib, the analysis ocamllsp serves (the same merlin as the set's ocamlmerlin).
    # csexp and yojson: the editor extra's own builds. The rest of what it links (dune's libraries,
    # fiber, base, re, ...) is a duniverse: every part a pinned archive, unpacked into duniverse/
    # and built in one dune build with ocaml-lsp (conandata.yml's sources).
    uk_requires = ("ocaml", "dune", "csexp", "yojson", "merlin")

    def source(self):
        entry = self.conan_data["sources"][self.version]
        if "files" not in entry:
            # A local source (--source ocaml-lsp-server=PATH): the tree already assembled, ocaml-lsp
            # at its top and the parts in duniverse/ (as the pinned archives unpack).
            super().source()
        else:
            extract = self.python_requires["ukbase"].module.extract_tarball
            for part in entry["files"].values():
                extract(self.uk_locate_archive(part), os.path.join(self.source_folder, part["into"]))
        for pattern in self.conan_data.get("prune", []):
            for path in glob.glob(os.path.join(self.source_folder, pattern)):
                shutil.rmtree(path)
        self._port_to_dune()
        save(self, os.path.join(self.source_folder, "duniverse", "dune"), VENDORED)

    def _port_to_dune(self):
        """Parts that build with topkg (uutf, astring) get dune files (conandata's dune_ports) when
        their tree has none, as opam-monorepo's ports do: a package, and the library ocamllsp links."""
        for part, port in self.conan_data.get("dune_ports", {}).items():
            root = os.path.join(self.source_folder, "duniverse", part)
            if not os.path.isdir(root) or os.path.isfile(os.path.join(root, "dune-project")):
                continue
            save(self, os.path.join(root, "dune-project"), f"(lang dune 3.0)\n(package (name {port['package']}))\n")
            for name, text in port.items():
                if name != "package":
                    save(self, os.path.join(root, name), text)

    def build(self):
        src = self.source_folder
        # ocamllsp --version (and its serverInfo) is dune-project's (version), which `dune subst`
        # writes into a release archive; a tag's tree has none, and ocamllsp would say "dev".
        project = os.path.join(src, "dune-project")
        lang, _, rest = load(self, project).partition("\n")
        if not re.search(r"^\(version ", rest, re.MULTILINE):
            save(self, project, f"{lang}\n(version {self.version})\n{rest}")
        # C stubs (lev's libev, spawn, base): dune runs the C compiler itself, which ignores
        # BUILD_PATH_PREFIX_MAP; the same mapping as -ffile-prefix-map flags.
        pairs = [(src, self.uk_fake_build_folder)] + [(dep.package_folder, self.uk_fake_prefix_of(dep.ref.name))
                                                      for dep in self.dependencies.values()]
        flags = " ".join(json.dumps(f"-ffile-prefix-map={old}={new}") for old, new in pairs)
        workspace = os.path.join(self.build_folder, "uk-dune-workspace")
        save(self, workspace, f"(lang dune 3.0)\n(env (_ (c_flags (:standard {flags}))))\n")
        with self.uk_job_slots() as jobs:
            self.run(f"dune build --workspace {workspace} --profile release -j {jobs} "
                     "ocaml-lsp-server/bin/main.exe", cwd=src, env=ENV)

    def package(self):
        bindir = os.path.join(self.package_folder, "bin")
        os.makedirs(bindir, exist_ok=True)
        shutil.copy2(os.path.join(self.source_folder, "_build", "default", "ocaml-lsp-server", "bin", "main.exe"),
                     os.path.join(bindir, "ocamllsp"))

    def package_info(self):
        # ocamllsp on PATH. Like ocamlmerlin it reads a project's configuration from dune (on
        # PATH) and the stdlib from dune's answer or OCAMLLIB: nothing names this package's folder.
        self.uk_publish_bindir()
