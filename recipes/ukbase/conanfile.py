"""Shared logic of every uktoolchain recipe (a Conan python_requires).

A recipe extends ``UkPackage`` and declares only what is its own: name, version data in
conandata.yml, requirements, build() and package_info(). This base gives all of them:

- sources looked up by checksum in the directories named by the conf
  ``user.uktoolchain:source_dirs`` (uktoolchain's source store, then user mirrors), falling back to
  the pinned URLs; sha256 or sha512, always verified;
- our own patches from ``patches/<name>/<version>-NNNN-<slug>.patch`` (exported with the recipe, so
  they are part of the recipe revision and therefore of every binary's identity);
- a package_id that covers the full identity of dependencies and of this base;
- parallel builds that share the cores with the other builds of the same install (``uk_make``,
  ``uk_jobserver``, ``uk_job_slots``).
"""
import contextlib
import glob
import hashlib
import os
import shlex
import shutil
import stat
import tarfile

import yaml  # Conan's own dependency
from conan import ConanFile
from conan.errors import ConanException, ConanInvalidConfiguration
from conan.tools.build import build_jobs
from conan.tools.env import Environment
from conan.tools.files import copy, download, patch, update_conandata

# Where relocatable packages are configured to live. It is never a real path: everything that
# depends on the install location is rendered at use time from the actual package folder.
FAKE_PREFIX_ROOT = "/uktoolchain-relocatable"

# Variables of the caller's shell (opam, esy, another toolchain) that would change what the OCaml
# tools do during a build. They are unset in every build; dependencies then set their own.
OCAML_ENV_LEAKS = (
    "OCAMLLIB", "CAMLLIB", "OCAMLPARAM", "OCAMLRUNPARAM", "CAML_LD_LIBRARY_PATH", "OCAMLPATH",
    "OCAML_TOPLEVEL_PATH", "OPAM_SWITCH_PREFIX", "OCAMLFIND_CONF", "OCAMLFIND_TOOLCHAIN",
    "OCAMLFIND_DESTDIR", "OCAMLFIND_METADIR", "OCAMLFIND_COMMANDS", "OCAMLFIND_LDCONF",
    "OCAMLFIND_IGNORE_DUPS_IN", "DUNE_BUILD_DIR", "DUNE_CACHE_ROOT",
    "INSIDE_DUNE",
)


def file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_of(entry):
    """(algorithm, hexdigest) of a conandata source entry."""
    for algorithm in ("sha256", "sha512"):
        if entry.get(algorithm):
            return algorithm, entry[algorithm].lower()
    raise ConanException("conandata source entry has no sha256 or sha512")


def extract_tarball(archive, destination, strip_root=True):
    """Unpack a tar archive (any compression); drop its single top directory if asked."""
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        roots = {m.name.split("/", 1)[0] for m in members if m.name not in ("", ".")}
        strip = strip_root and len(roots) == 1
        root = next(iter(roots)) if strip else None
        for member in members:
            if strip:
                if member.name == root:
                    continue
                member.name = member.name.split("/", 1)[1]
            tar.extract(member, destination, set_attrs=True, filter="tar")


def _bppm(path):
    """Encode a path for BUILD_PATH_PREFIX_MAP (reproducible-builds.org spec)."""
    return path.replace("%", "%#").replace("=", "%+").replace(":", "%.")


# Conan's names of architectures, as targets.toml names them.
ARCH_NAMES = {"armv8": "aarch64"}


class UkPackage:
    package_type = "application"
    settings = "os", "arch"
    # Other components this one is built with, by name: "ocaml", or (name, options) pairs such as
    # ("solo5", {"target_arch": "aarch64"}). Which versions fit is data: conandata.yml's
    # ``requires: {<my version>: {<name>: "<version range>"}}``. Which version is used is the
    # toolchain set's choice (uktoolchain locks it), or the newest in range for plain Conan use.
    uk_requires = ()

    # -- identity ------------------------------------------------------------------------------
    def requirements(self):
        # Conan leaves "application" dependencies out of package_id (they are not linked, it
        # assumes). Ours are compilers whose stdlib and runtime end up inside what they build:
        # their full identity (recipe revision + package id) must be part of ours.
        ranges = (self.conan_data or {}).get("requires", {}).get(str(self.version), {})
        for entry in self.uk_requires:
            name, options = (entry, None) if isinstance(entry, str) else entry
            if name not in ranges:
                raise ConanException(f"conandata.yml of {self.name} gives no version range of {name} "
                                     f"for {self.name}/{self.version} (requires: {self.version}: {name}: ...)")
            self.requires(f"{name}/{ranges[name]}", options=options, package_id_mode="full_mode")

    def package_id(self):
        # Dependencies enter with recipe revision and package id: a rebuilt compiler means a
        # rebuilt library, never a stale binary that happens to share a version number.
        self.info.requires.full_mode()
        self.info.python_requires.full_mode()

    # -- environment ---------------------------------------------------------------------------
    def generate(self):
        # Goes into conanbuild (the default env of self.run); recipes that need a dependency's
        # tools run with env=["conanbuild", "conanrun"] so the dependency's variables come last.
        env = Environment()
        for name in OCAML_ENV_LEAKS:
            env.unset(name)
        env.define("DUNE_CACHE", "disabled")  # never read or fill the builder's ~/.cache/dune
        # The OCaml compilers record paths (debug info, .cmt files, C stubs they compile): name
        # this build folder and every dependency by fake locations, not by this machine's folders.
        pairs = [(self.uk_fake_build_folder, self.build_folder)]
        pairs += [(self.uk_fake_prefix_of(dep.ref.name), dep.package_folder)
                  for dep in self.dependencies.values()]
        env.define("BUILD_PATH_PREFIX_MAP", ":".join(f"{_bppm(d)}={_bppm(s)}" for d, s in pairs))
        env.vars(self, scope="build").save_script("uk_clean_ocaml_env")

    # -- sources -------------------------------------------------------------------------------
    def export(self):
        """A recipe built from another recipe's source archive (conandata ``sources_from: NAME``;
        its version is that recipe's) gets that pin copied into its exported conandata: written
        once, in NAME's conandata.yml beside it, and still part of this recipe's revision."""
        owner = (self.conan_data or {}).get("sources_from")
        if not owner:
            return
        path = os.path.join(self.recipe_folder, "..", owner, "conandata.yml")
        if not os.path.isfile(path):
            raise ConanException(f"{self.name} is built from {owner}'s source: its recipe must be beside this one ({path})")
        with open(path) as stream:
            sources = (yaml.safe_load(stream) or {}).get("sources", {})
        if self.version not in sources:
            raise ConanException(f"{owner}'s conandata.yml pins no source for version {self.version}")
        update_conandata(self, {"sources": {self.version: sources[self.version]}})

    def export_sources(self):
        patches = os.path.join(self.recipe_folder, "..", "..", "patches", self.name)
        copy(self, f"{self.version}-*.patch", patches, os.path.join(self.export_sources_folder, "patches"))

    def source(self):
        entry = self.conan_data["sources"][self.version]
        archive = self.uk_locate_archive(entry)
        extract_tarball(archive, self.source_folder, strip_root=entry.get("strip_root", True))
        for patch_file in sorted(glob.glob(os.path.join(self.export_sources_folder, "patches", "*.patch"))):
            self.output.info(f"applying {os.path.basename(patch_file)}")
            patch(self, patch_file=patch_file, base_path=self.source_folder)

    def uk_locate_archive(self, entry):
        algorithm, digest = checksum_of(entry)
        for directory in self.conf.get("user.uktoolchain:source_dirs", default=[], check_type=list):
            candidate = os.path.join(directory, digest)
            if os.path.isfile(candidate):
                if file_digest(candidate, algorithm) == digest:
                    return candidate
                self.output.warning(f"ignoring {candidate}: content does not match its name")
        urls = entry.get("url") or []
        if not urls:
            raise ConanException(
                f"source of {self.name}/{self.version} ({algorithm} {digest}) is in no source directory"
            )
        # Plain Conan use (no uktoolchain around): fetch from the pinned URLs in order.
        target = os.path.join(self.source_folder, "..", f"{self.name}-{self.version}.archive")
        kwargs = {"sha256": digest} if algorithm == "sha256" else {}
        download(self, urls, target, **kwargs)
        if algorithm != "sha256" and file_digest(target, algorithm) != digest:
            os.unlink(target)
            raise ConanException(f"{algorithm} mismatch for {urls}")
        return target

    # -- parallel jobs -------------------------------------------------------------------------
    # uktoolchain runs builds side by side and hands each one the path of a FIFO holding the free
    # job slots of the whole install (GNU make's jobserver protocol; uktoolchain/engine/jobserver.py).
    # A build runs its first job without a slot and takes one from the FIFO for each further job.
    # Without it (plain Conan), each build runs tools.build:jobs jobs.
    def uk_jobserver(self):
        """(variable assignment, redirections) that make a make or cargo command a client of the
        jobserver, or None when there is none."""
        fifo = self.conf.get("user.uktoolchain:jobserver")
        try:
            if not fifo or not stat.S_ISFIFO(os.stat(fifo).st_mode):
                return None
        except OSError:
            return None
        # --jobserver-fds: understood by GNU make 3.81 to 4.4 and by cargo; the shell opens the
        # FIFO on both descriptors (read-write: opening never blocks).
        fifo = shlex.quote(fifo)
        return "MAKEFLAGS='-j --jobserver-fds=3,4'", f"3<>{fifo} 4<>{fifo}"

    def uk_make(self, arguments=""):
        """A make command line for self.run, as parallel as the cores free for this build allow."""
        jobserver = self.uk_jobserver()
        if jobserver is None:
            parts = ["make", f"-j{build_jobs(self)}", arguments]
        else:
            assignment, redirections = jobserver
            parts = [assignment, "make", arguments, redirections]
        return " ".join(part for part in parts if part)

    @contextlib.contextmanager
    def uk_job_slots(self):
        """How many jobs a tool that knows no jobserver (dune) may run: its first plus one per slot
        free right now, which it holds until the block ends (or tools.build:jobs without uktoolchain)."""
        fifo = self.conf.get("user.uktoolchain:jobserver")
        if self.uk_jobserver() is None:
            yield build_jobs(self)
            return
        fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        taken = b""
        try:
            try:
                taken = os.read(fd, max(0, build_jobs(self) - 1))
            except BlockingIOError:  # none free
                pass
            yield 1 + len(taken)
        finally:
            if taken:
                os.write(fd, taken)
            os.close(fd)

    # -- helpers for build() / package() / package_info() --------------------------------------
    @property
    def uk_fake_prefix(self):
        """Configure-time prefix: install goes to DESTDIR + this, then moves to package_folder."""
        return self.uk_fake_prefix_of(self.name)

    @staticmethod
    def uk_fake_prefix_of(name):
        """The fake prefix of any component, e.g. of a dependency whose folder got baked in."""
        return f"{FAKE_PREFIX_ROOT}/{name}"

    @property
    def uk_fake_build_folder(self):
        """What recorded paths say instead of the build folder (see BUILD_PATH_PREFIX_MAP)."""
        return f"{FAKE_PREFIX_ROOT}-build/{self.name}"

    def uk_move_staged_install(self, destdir):
        staged = os.path.join(destdir, self.uk_fake_prefix.lstrip("/"))
        for entry in os.listdir(staged):
            shutil.move(os.path.join(staged, entry), os.path.join(self.package_folder, entry))

    def uk_make_shebangs_relocatable(self, bindir, interpreter="ocamlrun"):
        """Bytecode executables start with '#!<prefix>/bin/ocamlrun'. Point them at PATH."""
        for name in os.listdir(bindir):
            path = os.path.join(bindir, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as stream:
                head = stream.read(256)
            if not head.startswith(b"#!") or FAKE_PREFIX_ROOT.encode() not in head.split(b"\n", 1)[0]:
                continue
            with open(path, "rb") as stream:
                stream.readline()
                body = stream.read()
            # Bytecode sections are found from the end of the file, so the header may change size.
            with open(path, "wb") as stream:
                stream.write(f"#!/usr/bin/env {interpreter}\n".encode() + body)

    def uk_publish_bindir(self):
        """A uktoolchain package is a set of tools: bin/ goes on PATH and nothing else is
        published by cpp_info (no headers or C libraries, no LD_LIBRARY_PATH)."""
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.includedirs = []
        self.runenv_info.prepend_path("PATH", os.path.join(self.package_folder, "bin"))


    # -- architectures -------------------------------------------------------------------------
    @property
    def uk_build_arch(self):
        """The architecture this package is built on and for, as targets.toml names it."""
        return ARCH_NAMES.get(str(self.settings.arch), str(self.settings.arch))

    def uk_cross_prefix(self, target_arch):
        """'' when this machine runs ``target_arch`` code itself, else the prefix of Debian's cross
        tools for it (aarch64-linux-gnu-): Solo5's toolchains wrap them, at build and at use time."""
        return "" if target_arch == self.uk_build_arch else f"{target_arch}-linux-gnu-"


class UkPerArchPackage(UkPackage):
    """A component built once per target architecture (targets.toml's per_arch): uktoolchain gives
    each build its ``target_arch``."""

    options = {"target_arch": ["x86_64", "aarch64"]}
    default_options = {"target_arch": "x86_64"}

    @property
    def uk_target_arch(self):
        return str(self.options.target_arch)

    @property
    def uk_cross(self):
        """uk_cross_prefix of this build's target architecture."""
        return self.uk_cross_prefix(self.uk_target_arch)

    def uk_validate_cross_tools(self):
        """For validate_build(): a cross build needs Debian's <arch>-linux-gnu gcc and binutils
        (Solo5's toolchain and ocaml-solo5's wrappers run them, at build and at use time)."""
        cross = self.uk_cross
        if cross and not (shutil.which(f"{cross}gcc") and shutil.which(f"{cross}ar")):
            raise ConanInvalidConfiguration(
                f"{self.name} for {self.uk_target_arch} needs {cross}gcc and binutils: "
                f"apt-get install gcc-{cross[:-1]} binutils-{cross[:-1]}")

    @property
    def uk_solo5_triple(self):
        """The triple of Solo5's toolchain for this build's architecture (its <triple>-cc...)."""
        return f"{self.uk_target_arch}-solo5-none-static"

    @property
    def uk_ocaml_solo5_sysroot(self):
        """Where ocaml-solo5's cross-compiler lives, relative to its prefix (upstream's layouts:
        lib/ocaml-solo5 for x86_64, lib/ocaml-solo5-cross-aarch64 for its aarch64 package)."""
        return "lib/ocaml-solo5" if self.uk_target_arch == "x86_64" else "lib/ocaml-solo5-cross-aarch64"

    def uk_configure_ocaml_solo5(self):
        """In an ocaml-solo5 source tree: its configure.sh as the ocaml-solo5 package is configured,
        and the nolibc-openlibm package's libraries put where its Makefile builds them. Returns the
        make options that take those libraries as they are (upstream's phony sub-makes for them
        are not run)."""
        prefix = self.uk_fake_prefix_of("ocaml-solo5")
        self.uk_run_with_solo5_cc(f"./configure.sh --prefix={prefix} --sysroot={prefix}/{self.uk_ocaml_solo5_sysroot}"
                                  f" --target={self.uk_solo5_triple}")
        built = os.path.join(self.dependencies["nolibc-openlibm"].package_folder, "lib")
        libraries = sorted(os.path.relpath(path, built) for path in glob.glob(os.path.join(built, "*", "*.a")))
        if not libraries:
            raise ConanException(f"the nolibc-openlibm package has no libraries in {built}")
        for library in libraries:
            shutil.copy2(os.path.join(built, library), os.path.join(self.source_folder, library))
        return " ".join(f"-o {library}" for library in libraries)

    @property
    def _uk_build_tools(self):
        return os.path.join(self.build_folder, "uk-build-tools")

    def uk_run_with_solo5_cc(self, command):
        """self.run in the source folder with the build-time tools (uk_write_mapped_solo5_cc) first
        on PATH, then the dependencies' (conanrun last: the host ocaml and Solo5's toolchain)."""
        self.run(f'PATH="{self._uk_build_tools}:$PATH" {command}', cwd=self.source_folder,
                 env=["conanbuild", "conanrun"])

    def uk_write_mapped_solo5_cc(self):
        """A build-time <triple>-cc for uk_run_with_solo5_cc, in front of Solo5's on PATH: it adds
        -ffile-prefix-map so that this build folder and Solo5's headers (the wrapper passes their
        absolute path) stay out of the debug info and __FILE__ strings of C code that ends up in
        every unikernel (nolibc, openlibm, the OCaml runtime); the OCaml side is
        BUILD_PATH_PREFIX_MAP. Installed wrappers call the tool by its bare name: at use time that
        is Solo5's own."""
        solo5 = self.dependencies["solo5"].package_folder
        real = os.path.join(solo5, "bin", f"{self.uk_solo5_triple}-cc")
        pairs = {(folder, self.uk_fake_build_folder)
                 for folder in (self.build_folder, os.path.realpath(self.build_folder))}
        pairs |= {(folder, self.uk_fake_prefix_of("solo5")) for folder in (solo5, os.path.realpath(solo5))}
        maps = " ".join(f'"-ffile-prefix-map={old}={new}"' for old, new in sorted(pairs))
        script = os.path.join(self._uk_build_tools, f"{self.uk_solo5_triple}-cc")
        os.makedirs(self._uk_build_tools, exist_ok=True)
        with open(script, "w") as stream:
            stream.write("#!/bin/sh\n"
                         'for arg in "$@"; do\n'
                         '  case "$arg" in\n'
                         f'    -c|-S|-E) exec "{real}" {maps} "$@" ;;\n'
                         "  esac\n"
                         "done\n"
                         f'exec "{real}" "$@"\n')
        os.chmod(script, 0o755)


class UkBase(ConanFile):
    name = "ukbase"
    version = "1.0"
    package_type = "python-require"
