import glob
import os
import shutil

from conan import ConanFile
from conan.errors import ConanException, ConanInvalidConfiguration
from conan.tools.files import copy

# What this package holds, relative to ocaml-solo5's source: the tree its Makefile builds the
# cross-compiler in.
TREE = "ocaml"
# The steps of ocaml-solo5's build (and of OCaml's `make crossopt`, which starts with the target
# runtime) that need no host OCaml compiler.
_CONFIGURED = "ocaml/Makefile.config"
_RUNTIME_TARGETS = "runtime-all runtimeopt"


class OcamlCrossTree(ConanFile):
    name = "ocaml-cross-tree"
    description = ("OCaml's source tree for ocaml-solo5's <arch>-solo5 cross-compiler: patched, "
                   "configured and with its target runtime built, as ocaml-solo5's Makefile does it")
    license = "LGPL-2.1-only WITH OCaml-LGPL-linking-exception"
    homepage = "https://github.com/mirage/ocaml-solo5"
    python_requires = "ukbase/1.0"
    # One tree per target architecture. A package of its own so that what ocaml-solo5's build does
    # before it needs the host compiler (unpacking, patching, configuring, compiling the runtime's
    # C) runs while the host compiler is built, on cores that build leaves idle; ocaml-solo5 then
    # goes on from this tree.
    python_requires_extend = "ukbase.UkPerArchPackage"

    @property
    def uk_requires(self):
        arch = {"target_arch": str(self.options.target_arch)}
        # nolibc-openlibm: its libraries (OCaml's configure links against them) and, in its
        # conandata, the pin of the ocaml-solo5 archive whose patches and Makefile this tree takes.
        return (("solo5", arch), ("nolibc-openlibm", arch))

    @property
    def uk_fake_build_folder(self):
        # The runtime's objects end up in ocaml-solo5's package, where they would have been built:
        # their recorded paths say ocaml-solo5's build folder, so that package is the same as if
        # it had built them itself.
        return f"{self.python_requires['ukbase'].module.FAKE_PREFIX_ROOT}-build/ocaml-solo5"

    def export_sources(self):
        super().export_sources()
        # Our own OCaml patches (patches/ocaml/) go into the cross-compiler as well: they make the
        # compiler relocatable (ocamlmklib runs the compilers next to it, not in its configure-time
        # bindir). Those of this version are exported (part of this recipe's revision).
        ours = os.path.join(self.recipe_folder, "..", "..", "patches", "ocaml")
        if not os.path.isdir(ours):
            raise ConanException(f"{self.name} needs the OCaml patches of the recipe index ({ours})")
        copy(self, f"{self.version}-*.patch", ours, os.path.join(self.export_sources_folder, "uk-ocaml-patches"))

    def source(self):
        # Both archives are unpacked in build(): the source folder is shared by every package id
        # of this recipe revision, and which ocaml-solo5 (hence which patches) is each build's own.
        pass

    def validate_build(self):
        for tool in ("make", "patch"):
            if not shutil.which(tool):
                raise ConanInvalidConfiguration(f"{self.name} needs {tool}: apt-get install {tool}")
        self.uk_validate_cross_tools()

    def build(self):
        extract_tarball = self.python_requires["ukbase"].module.extract_tarball
        ocaml_solo5 = self.dependencies["nolibc-openlibm"]
        solo5_entry = ocaml_solo5.conan_data["sources"][str(ocaml_solo5.ref.version)]
        extract_tarball(self.uk_locate_archive(solo5_entry), self.build_folder,
                        strip_root=solo5_entry.get("strip_root", True))
        self._prepare_ocaml_tree(extract_tarball)
        self.uk_write_mapped_solo5_cc()
        self._write_version_only_ocamlc()
        keep = self.uk_configure_ocaml_solo5()
        self.uk_run_with_solo5_cc(self.uk_make(f"{keep} {_CONFIGURED}"))
        # As ocaml-solo5's Makefile runs `make -C ocaml crossopt`: its own cross tools first on PATH.
        tools = os.path.join(self.build_folder, "_build", "build-toolchain")
        self.uk_run_with_solo5_cc(f'PATH="{tools}:$PATH" '
                                  + self.uk_make(f'-C {TREE} {_RUNTIME_TARGETS} OLDS="-o yacc/ocamlyacc -o lex/ocamllex"'))

    def _prepare_ocaml_tree(self, extract_tarball):
        """ocaml/: OCaml's source with ocaml-solo5's patches for this version, then ours. With that
        directory present, ocaml-solo5's Makefile neither asks ocamlfind for ocaml-src nor runs opatch."""
        upstream = sorted(glob.glob(os.path.join(self.build_folder, "patches", self.version, "*.patch")))
        if not upstream:
            solo5_version = self.dependencies["nolibc-openlibm"].ref.version
            raise ConanInvalidConfiguration(f"ocaml-solo5 {solo5_version} does not support OCaml {self.version}")
        ours = sorted(glob.glob(os.path.join(self.source_folder, "uk-ocaml-patches", "*.patch")))
        entry = self.conan_data["sources"][self.version]
        tree = os.path.join(self.build_folder, TREE)
        extract_tarball(self.uk_locate_archive(entry), tree, strip_root=entry.get("strip_root", True))
        for patch_file in upstream + ours:
            self.output.info(f"applying {os.path.basename(patch_file)} to {TREE}/")
            self.run(f'patch -p1 -s -i "{patch_file}"', cwd=tree)

    def _write_version_only_ocamlc(self):
        """OCaml's configure for a cross-compiler checks that the `ocamlc` on PATH has its version
        (5.4: ``ocamlc -vnum``) and runs it for nothing else. The host compiler it means is
        ocaml-solo5's dependency, not yet built when this tree is: this stand-in answers that
        question only."""
        script = os.path.join(self.build_folder, "uk-build-tools", "ocamlc")
        os.makedirs(os.path.dirname(script), exist_ok=True)
        with open(script, "w") as stream:
            stream.write("#!/bin/sh\n"
                         f'if [ "$*" = "-vnum" ]; then echo "{self.version}"; exit 0; fi\n'
                         f'echo "ocamlc stand-in of {self.name}: only -vnum is answered" >&2\n'
                         "exit 2\n")
        os.chmod(script, 0o755)

    def package(self):
        # The tree as built, symbolic links and modification times kept: ocaml-solo5's make finds
        # the runtime up to date and goes on from there.
        shutil.copytree(os.path.join(self.build_folder, TREE), os.path.join(self.package_folder, TREE),
                        symlinks=True)
        copy(self, "LICENSE", os.path.join(self.build_folder, TREE), os.path.join(self.package_folder, "licenses"))

    def package_info(self):
        # Read by ocaml-solo5's build only; nothing is published to consumers.
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.includedirs = []
