import os
import re

from conan import ConanFile


class Dune(ConanFile):
    name = "dune"
    description = "The OCaml build system"
    license = "MIT"
    homepage = "https://dune.build"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    uk_requires = ("ocaml",)

    def source(self):
        super().source()
        self._record_version()

    def build(self):
        # The steps of dune.opam: a bootstrap dune, then the release build of dune itself.
        env = ["conanbuild", "conanrun"]
        with self.uk_job_slots() as jobs:  # dune knows no jobserver: as many jobs as slots are free
            self.run(f"ocaml boot/bootstrap.ml -j {jobs}", cwd=self.source_folder, env=env)
        with self.uk_job_slots() as jobs:
            self.run("./_boot/dune.exe build dune.install --release --profile dune-bootstrap"
                     f" -j {jobs}", cwd=self.source_folder, env=env)

    def _record_version(self):
        """`dune --version` reads the version from dune-project, where release tarballs carry it
        (dune subst adds it). A tree from the repository (a local source) lacks it: add ours."""
        path = os.path.join(self.source_folder, "dune-project")
        with open(path) as stream:
            text = stream.read()
        if re.search(r"^\(version ", text, re.M):
            return
        lang, rest = text.split("\n", 1)
        with open(path, "w") as stream:
            stream.write(f"{lang}\n(version {self.version})\n{rest}")

    def package(self):
        destdir = os.path.join(self.build_folder, "staged")
        self.run(f"./_boot/dune.exe install dune --prefix {self.uk_fake_prefix}"
                 f" --destdir {destdir}", cwd=self.source_folder, env=["conanbuild", "conanrun"])
        self.uk_move_staged_install(destdir)

    def package_info(self):
        # dune finds ocamlc, ocamlfind and the library path from PATH, OCAMLPATH and
        # OCAMLFIND_CONF at run time: only bin/ is published.
        self.uk_publish_bindir()
