import os
import re
import shutil
import stat

from conan import ConanFile
from conan.errors import ConanException, ConanInvalidConfiguration
from conan.tools.files import copy, rmdir, save

# OCaml tools of the cross sysroot that read the standard library path (compiled in as the fake
# prefix, overridden by OCAMLLIB). Each one gets a wrapper under its plain name. (ocamlmklib reads
# it only for flexdll, on Windows; it runs the ocamlc/ocamlopt next to it: the wrappers.)
_STDLIB_TOOLS = ("ocamlc", "ocamlopt", "ocamldep", "ocamlobjinfo")


class OcamlSolo5(ConanFile):
    name = "ocaml-solo5"
    description = ("OCaml cross-compiler to Solo5: nolibc, openlibm, the OCaml runtime and standard "
                   "library for <arch>-solo5-none-static, and <arch>-solo5-ocaml-* tool wrappers")
    license = "MIT AND ISC AND LGPL-2.1-only WITH OCaml-LGPL-linking-exception"
    homepage = "https://github.com/mirage/ocaml-solo5"
    python_requires = "ukbase/1.0"
    # One cross-compiler per target architecture (option target_arch), like solo5's toolchain.
    python_requires_extend = "ukbase.UkPerArchPackage"

    @property
    def uk_requires(self):
        # The host compiler (the cross-compiler is built from the same source), the Solo5
        # toolchain (<arch>-solo5-none-static-{cc,ld,objcopy}) of our own target, and what needs
        # no OCaml, built while the host compiler is, not after it: nolibc and openlibm from this
        # same source (recipes/nolibc-openlibm), and OCaml's tree configured for our target with
        # its runtime built (recipes/ocaml-cross-tree).
        arch = {"target_arch": str(self.options.target_arch)}
        return ("ocaml", ("solo5", arch), ("nolibc-openlibm", arch), ("ocaml-cross-tree", arch))

    # -- names -----------------------------------------------------------------------------------
    @property
    def _findlib_toolchain(self):
        # ocamlfind rejects '-' in a toolchain name.
        return "solo5" if self.options.target_arch == "x86_64" else "solo5_aarch64"

    def validate_build(self):
        # No patch: the OCaml tree comes patched (recipes/ocaml-cross-tree).
        if not shutil.which("make"):
            raise ConanInvalidConfiguration(f"{self.name} needs make: apt-get install make")
        # ocaml-solo5 also wraps the binutils of the cross prefix (the triple cc -dumpmachine prints).
        self.uk_validate_cross_tools()

    # -- build -----------------------------------------------------------------------------------
    def _take_ocaml_tree(self):
        """<src>/ocaml: the ocaml-cross-tree package's tree (patched, configured and with the target
        runtime built, from this same ocaml-solo5 and the host compiler's OCaml source), with its
        files' times: make finds Makefile.config and the runtime up to date."""
        tree = self.dependencies["ocaml-cross-tree"]
        if str(tree.ref.version) != str(self.dependencies["ocaml"].ref.version):
            raise ConanInvalidConfiguration(f"ocaml-cross-tree {tree.ref.version} is not the host compiler's "
                                            f"OCaml ({self.dependencies['ocaml'].ref.version})")
        destination = os.path.join(self.source_folder, "ocaml")
        rmdir(self, destination)
        shutil.copytree(os.path.join(tree.package_folder, "ocaml"), destination, symlinks=True)

    def build(self):
        self.uk_write_mapped_solo5_cc()
        self._take_ocaml_tree()
        # OCaml's configuration comes with the tree: make -o takes it as it is (the cross tools
        # this Makefile writes anew would make it look out of date, and run OCaml's configure
        # again), and everything else is built and installed as upstream does.
        keep = f"{self.uk_configure_ocaml_solo5()} -o ocaml/Makefile.config"
        # The cross tools first: taken as done, OCaml's configuration no longer brings them in.
        self.uk_run_with_solo5_cc(self.uk_make(f"{keep} toolchains"))
        self.uk_run_with_solo5_cc(self.uk_make(keep))
        self.uk_run_with_solo5_cc("make ocaml-solo5.install")

    # -- package ---------------------------------------------------------------------------------
    def package(self):
        # The cross-compiler (OCaml's installcross) goes to the sysroot, the rest as listed in
        # ocaml-solo5.install (what opam-installer would do).
        destdir = os.path.join(self.build_folder, "staged")
        self.uk_run_with_solo5_cc(f'make install-ocaml "DESTDIR={destdir}"')
        self.uk_move_staged_install(destdir)
        self._install_dot_install(os.path.join(self.source_folder, "ocaml-solo5.install"))
        sysroot = os.path.join(self.package_folder, self.uk_ocaml_solo5_sysroot)
        self._relocatable_tool_wrappers(os.path.join(self.package_folder, "bin"))
        self._stdlib_wrappers(os.path.join(sysroot, "bin"))
        for folder in (os.path.join(sysroot, "bin"), os.path.join(sysroot, "lib", "ocaml")):
            self.uk_make_shebangs_relocatable(folder)
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "LICENSE", os.path.join(self.source_folder, "ocaml"),
             os.path.join(self.package_folder, "licenses", "ocaml"))
        copy(self, "LICENSE.md", os.path.join(self.source_folder, "openlibm"),
             os.path.join(self.package_folder, "licenses", "openlibm"))

    def _install_dot_install(self, path):
        destinations = {"bin": "bin", "lib": self.uk_ocaml_solo5_sysroot, "lib_root": "lib"}
        section = None
        with open(path) as stream:
            for line in stream:
                line = line.strip()
                header = re.fullmatch(r"(\w+)\s*:\s*\[", line)
                if header:
                    section = header.group(1)
                    if section not in destinations:
                        raise ConanException(f"{path}: unexpected section {section}")
                    continue
                if line == "]":
                    section = None
                    continue
                item = re.fullmatch(r'"(\??)([^"]+)"(?:\s*\{\s*"([^"]+)"\s*\})?', line)
                if section is None or not item:
                    raise ConanException(f"{path}: cannot read '{line}'")
                optional, source, target = item.groups()
                target = target or os.path.basename(source)
                if section == "lib_root" and target.startswith("findlib.conf.d/"):
                    # Its entries are absolute paths of the install prefix: uktoolchain renders
                    # the toolchain configuration from the actual package folder instead.
                    continue
                source = os.path.join(self.source_folder, source)
                if optional and not os.path.exists(source):
                    continue
                destination = os.path.join(self.package_folder, destinations[section], target)
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                shutil.copy2(source, destination)

    def _relocatable_tool_wrappers(self, bindir):
        """<arch>-solo5-ocaml-{cc,gcc} pass -I<sysroot>/include -L<sysroot>/lib with the sysroot
        of configure time: find it from the wrapper's own location instead."""
        fake = f"{self.uk_fake_prefix}/{self.uk_ocaml_solo5_sysroot}"
        flag = re.compile(r"(-[IL])" + re.escape(fake) + r"(/[^\s\"'\\]*)?")
        for name in sorted(os.listdir(bindir)):
            path = os.path.join(bindir, name)
            with open(path) as stream:
                text = stream.read()
            if fake not in text:
                continue
            shebang, body = text.split("\n", 1)
            body = flag.sub(lambda m: f'"{m.group(1)}${{sysroot}}{m.group(2) or ""}"', body)
            locate = ("# uktoolchain: the sysroot is found from this script's own location.\n"
                      f'sysroot="$(dirname "$(realpath "$0")")/../{self.uk_ocaml_solo5_sysroot}"\n')
            with open(path, "w") as stream:
                stream.write(f"{shebang}\n{locate}{body}")
        for name in sorted(os.listdir(bindir)):
            with open(os.path.join(bindir, name), "rb") as stream:
                if b"/uktoolchain-relocatable" in stream.read():
                    raise ConanException(f"bin/{name} still names a configure-time path")

    def _stdlib_wrappers(self, bindir):
        """The cross tools have the fake sysroot's lib/ocaml compiled in as their standard
        library: their plain names become wrappers that set OCAMLLIB from their own location, for
        that process only (a global OCAMLLIB would break the host compiler). The real executables
        keep their .opt (or .byte) names."""
        for name in _STDLIB_TOOLS:
            plain = os.path.join(bindir, name)
            real = next((f"{name}{suffix}" for suffix in (".opt", ".byte")
                         if os.path.isfile(os.path.join(bindir, f"{name}{suffix}"))), None)
            if real is None:
                raise ConanException(f"the cross-compiler has no {name}.opt or {name}.byte")
            if os.path.lexists(plain):  # a symbolic link to one of them
                os.unlink(plain)
            save(self, plain,
                 "#!/bin/sh\n"
                 f"# uktoolchain: the {self.uk_solo5_triple} OCaml cross-compiler's {name}, with its own\n"
                 "# standard library (OCAMLLIB) found from this script's location.\n"
                 'here="$(dirname "$(realpath "$0")")"\n'
                 'OCAMLLIB="$here/../lib/ocaml"\n'
                 "export OCAMLLIB\n"
                 f'exec "$here/{real}" "$@"\n')
            os.chmod(plain, os.stat(plain).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    # -- use -------------------------------------------------------------------------------------
    def package_info(self):
        # bin/: <arch>-solo5-ocaml-{cc,ld,...}, found on PATH by the cross-compiler (its config
        # names them bare). The sysroot's bin/ must NOT be on PATH: it holds ocamlc, ocamlopt...
        self.uk_publish_bindir()
        # For uktoolchain, which renders findlib.conf.d/<toolchain>.conf from them at use time.
        sysroot = os.path.join(self.package_folder, self.uk_ocaml_solo5_sysroot)
        self.conf_info.define_path("user.uktoolchain:ocaml_solo5_sysroot", sysroot)
        self.conf_info.define("user.uktoolchain:findlib_toolchain", self._findlib_toolchain)
