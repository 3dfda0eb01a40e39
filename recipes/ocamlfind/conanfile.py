import os

from conan import ConanFile
from conan.tools.files import replace_in_file, save


class Ocamlfind(ConanFile):
    name = "ocamlfind"
    description = "findlib: the OCaml library manager, and its ocamlfind front end"
    license = "MIT"
    homepage = "http://projects.camlcity.org/projects/findlib.html"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    uk_requires = ("ocaml",)

    def build(self):
        prefix = self.uk_fake_prefix
        # No topfind: it would go into the compiler's own lib/ocaml, outside this package.
        self.run(
            f"./configure -bindir {prefix}/bin -sitelib {prefix}/lib -mandir {prefix}/man"
            f" -config {prefix}/etc/findlib.conf -no-topfind",
            cwd=self.source_folder, env=["conanbuild", "conanrun"],
        )
        # configure recorded `ocamlc -where` (the ocaml package folder) as findlib's default
        # stdlib: record the fake one instead, like ocamlc itself does (OCAMLLIB overrides both).
        replace_in_file(self, os.path.join(self.source_folder, "Makefile.config"),
                        self.dependencies["ocaml"].package_folder, self.uk_fake_prefix_of("ocaml"))
        # Native ocamlfind: no '#!.../ocamlrun' line, no runtime to find.
        self.run("make all opt", cwd=self.source_folder, env=["conanbuild", "conanrun"])

    def package(self):
        destdir = os.path.join(self.build_folder, "staged")
        self.run(f"make install DESTDIR={destdir}", cwd=self.source_folder,
                 env=["conanbuild", "conanrun"])
        self.uk_move_staged_install(destdir)
        # The generated findlib.conf lists fake-prefix paths. Ship one without any path: the
        # search path comes from OCAMLPATH, the stdlib from OCAMLLIB. uktoolchain renders its own
        # (destdir, path, ldconf) at use time and points OCAMLFIND_CONF at it.
        save(self, os.path.join(self.package_folder, "etc", "findlib.conf"), 'ldconf="ignore"\n')

    def package_info(self):
        self.uk_publish_bindir()
        self.runenv_info.prepend_path("OCAMLPATH", os.path.join(self.package_folder, "lib"))
        # A usable default for plain Conan use; uktoolchain defines its own rendered one.
        conf = os.path.join(self.package_folder, "etc", "findlib.conf")
        self.runenv_info.define_path("OCAMLFIND_CONF", conf)
