import os

from conan import ConanFile


class Ocaml(ConanFile):
    name = "ocaml"
    description = "The OCaml compiler, runtime and standard library"
    license = "LGPL-2.1-only WITH OCaml-LGPL-linking-exception"
    homepage = "https://ocaml.org"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"

    def build(self):
        # No stdlib man pages: nothing puts this package's man/ on MANPATH, and ocamldoc writes them
        # at the end of the build almost alone (about 4 s of every cold install, one core idle).
        self.run(f"./configure --prefix={self.uk_fake_prefix} --disable-stdlib-manpages", cwd=self.source_folder)
        # The runtime's C files: keep this build folder out of their debug info, as
        # BUILD_PATH_PREFIX_MAP (set by ukbase) does for OCaml code. Given to make, not to
        # configure, so that it is not recorded in `ocamlc -config`.
        prefix_map = f"-ffile-prefix-map={self.source_folder}={self.uk_fake_build_folder}"
        self.run(self.uk_make(f"CPPFLAGS={prefix_map}"), cwd=self.source_folder)

    def package(self):
        destdir = os.path.join(self.build_folder, "staged")
        self.run(f"make install DESTDIR={destdir}", cwd=self.source_folder)
        self.uk_move_staged_install(destdir)
        ocamllib = os.path.join(self.package_folder, "lib", "ocaml")
        for folder in (os.path.join(self.package_folder, "bin"), ocamllib):  # lib/ocaml: expunge
            self.uk_make_shebangs_relocatable(folder)
        # runtime-launch-info tells ocamlc what to write at the top of bytecode executables:
        # "<method>\n<bindir>\0\n<launcher>". With an empty bindir, our patch
        # (patches/ocaml/<version>-0001) writes '#!/usr/bin/env ocamlrun'.
        info = os.path.join(ocamllib, "runtime-launch-info")
        with open(info, "rb") as stream:
            method, rest = stream.read().split(b"\n", 1)
        with open(info, "wb") as stream:
            stream.write(method + b"\n\0\n" + rest.split(b"\0\n", 1)[1])

    def package_info(self):
        # The compiled-in stdlib path and ld.conf name the fake prefix: OCAMLLIB and
        # CAML_LD_LIBRARY_PATH point the tools at this folder instead. OCaml >= 5.0 ships
        # lib/ocaml/{stdlib,str,unix,threads,dynlink,...}/META, so lib/ocaml is a findlib root.
        self.uk_publish_bindir()
        ocamllib = os.path.join(self.package_folder, "lib", "ocaml")
        self.runenv_info.define_path("OCAMLLIB", ocamllib)
        self.runenv_info.prepend_path("CAML_LD_LIBRARY_PATH", os.path.join(ocamllib, "stublibs"))
        self.runenv_info.prepend_path("OCAMLPATH", ocamllib)
