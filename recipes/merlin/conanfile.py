import json
import os

from conan import ConanFile
from conan.tools.build import build_jobs
from conan.tools.files import replace_in_file, rm, save

ENV = ["conanbuild", "conanrun"]
PACKAGES = ("merlin-lib", "dot-merlin-reader", "merlin", "ocaml-index")
# What merlin generates from its grammar with menhir (rules enabled outside the release profile).
GENERATED = tuple(f"src/ocaml/preprocess/{name}" for name in (
    "parser_raw.ml", "parser_raw.mli", "parser_recover.ml", "parser_explain.ml", "parser_printer.ml",
    "menhirLib.ml", "menhirLib.mli"))


class Merlin(ConanFile):
    name = "merlin"
    description = "ocamlmerlin, the editor service for OCaml (completion, types, locations), built by the set's OCaml"
    license = "MIT"
    homepage = "https://github.com/ocaml/merlin"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    # ocamlfind: dot-merlin-reader links findlib.
    uk_requires = ("ocaml", "ocamlfind", "dune", "csexp", "yojson", "menhir")

    def build(self):
        src = self.source_folder
        # A tag archive (Debian's orig) still says %%VERSION%%, which `dune subst` fills in releases.
        replace_in_file(self, os.path.join(src, "src", "config", "gen_config.ml"), "%%VERSION%%",
                        self.version, strict=False)
        # merlin records `ocamlc -config`'s standard_library, here the ocaml package folder of this
        # machine: record the fake prefix like ocamlc itself. At use time dune's STDLIB directive
        # (the context's compiler) or OCAMLLIB (set by `uktoolchain env`) wins.
        stdlib = f"{self.uk_fake_prefix_of('ocaml')}/lib/ocaml"
        replace_in_file(self, os.path.join(src, "src", "kernel", "dune"),
                        "%{ocaml-config:standard_library}", stdlib)
        # merlin's C stubs: dune runs the C compiler itself, which ignores BUILD_PATH_PREFIX_MAP.
        # The same mapping as -ffile-prefix-map flags, through a workspace file for both builds.
        pairs = [(src, self.uk_fake_build_folder)] + [(dep.package_folder, self.uk_fake_prefix_of(dep.ref.name))
                                                      for dep in self.dependencies.values()]
        flags = " ".join(json.dumps(f"-ffile-prefix-map={old}={new}") for old, new in pairs)
        workspace = os.path.join(self.build_folder, "uk-dune-workspace")
        save(self, workspace, f"(lang dune 3.0)\n(env (_ (c_flags (:standard {flags}))))\n")
        dune = f"dune build --workspace {workspace} -j {build_jobs(self)}"
        # The parser and its recovery tables come from our menhir, menhirLib.ml from our
        # menhirLib, whatever the source shipped (Debian's +ds archive has neither): the dev
        # profile enables these rules and promotes their results into the source tree.
        self.run(f"{dune} --profile dev {' '.join(GENERATED)}", cwd=src, env=ENV)
        self.run(f"{dune} -p {','.join(PACKAGES)} @install", cwd=src, env=ENV)

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
        # ocamlmerlin, ocamlmerlin-server, dot-merlin-reader, ocaml-index on PATH. It reads a
        # project's configuration from `dune ocaml-merlin` (dune on PATH) and the stdlib from
        # dune's STDLIB directive or OCAMLLIB: nothing here names this package's folder.
        self.uk_publish_bindir()
        # merlin-lib for the builds of other editor tools (ocaml-lsp-server), not for users.
        self.buildenv_info.prepend_path("OCAMLPATH", os.path.join(self.package_folder, "lib"))
