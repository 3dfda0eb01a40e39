"""Rust sysroot for unikernels: core, alloc and compiler_builtins built for a target spec whose ABI is
the one Solo5's C code (nolibc, openlibm, the OCaml runtime) uses, plus our runtime crates uk_alloc
and uk_panic. User crates then build with a stable cargo and ``--sysroot <package folder>``.

Sources come from the Rust toolchain that builds them, not from a download: its rust-src component
(``<sysroot>/lib/rustlib/src/rust/library``) and a compiler_builtins source (in rust-src on recent
toolchains, else Debian's librust-compiler-builtins-dev). uktoolchain chooses the toolchain and
passes it as conf; without uktoolchain the rustc on PATH is used.

Identity: package_id carries the toolchain (``rustc -vV``, its compiler library, the
compiler_builtins version, a precompiled std if one is used): a different rustc is a different
binary. Rust refuses rlibs from another compiler, so this is correctness, not tidiness.
"""
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.env import Environment
from conan.tools.files import copy, save

CONF = "user.uktoolchain"
SYSROOT_CRATES = ("core", "alloc", "compiler_builtins", "rustc_std_workspace_core")
RUNTIME_CRATES = ("uk_alloc", "uk_panic")
# What the caller's shell may hold that would change what cargo builds here.
RUST_ENV_LEAKS = (
    "RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER", "RUST_TARGET_PATH", "RUSTDOCFLAGS", "CARGO_PROFILE_RELEASE_LTO",
    "CARGO_INCREMENTAL", "CARGO_HOME", "RUSTUP_TOOLCHAIN",
)


class RustSysroot(ConanFile):
    name = "rust-sysroot"
    description = "Rust core/alloc/compiler_builtins and uk_alloc/uk_panic for unikernel targets"
    license = "(MIT OR Apache-2.0) AND ISC"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPerArchPackage"

    # The ABI overlays are read when computing package_id: beside conanfile.py, not in sources.
    exports = "specs/*.json"

    def export_sources(self):
        super().export_sources()
        copy(self, "*", os.path.join(self.recipe_folder, "crates"), os.path.join(self.export_sources_folder, "crates"),
             excludes=("target/*", "Cargo.lock"))

    def source(self):
        # Nothing to fetch: the sources are the chosen toolchain's rust-src, read in build(). The
        # source folder is shared by every package id (every rustc) of this revision: not here.
        pass

    # -- the toolchain ---------------------------------------------------------------------------
    def _run(self, *argv, bootstrap=False):
        env = dict(os.environ, LC_ALL="C")
        if bootstrap:
            env["RUSTC_BOOTSTRAP"] = "1"
        result = subprocess.run(argv, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise ConanException(f"{' '.join(argv)} failed: {result.stderr.strip()[-500:]}")
        return result.stdout

    @property
    def _rustc(self):
        rustc = self.conf.get(f"{CONF}:rustc") or shutil.which("rustc")
        if not rustc:
            raise ConanException("no rustc: apt-get install rustc cargo rust-src (or set conf user.uktoolchain:rustc)")
        return rustc

    @property
    def _cargo(self):
        return self.conf.get(f"{CONF}:cargo") or os.path.join(os.path.dirname(self._rustc), "cargo")

    @property
    def _rust_sysroot(self):
        return self._run(self._rustc, "--print", "sysroot").strip()

    @property
    def _library(self):
        library = os.path.join(self._rust_sysroot, "lib", "rustlib", "src", "rust", "library")
        if not os.path.isfile(os.path.join(library, "core", "src", "lib.rs")):
            raise ConanException(f"rust-src is missing (no {library}): apt-get install rust-src, "
                                 "or rustup component add rust-src")
        return library

    @property
    def _compiler_builtins(self):
        """The compiler_builtins source: given by uktoolchain, in rust-src (recent toolchains), or
        Debian's packaged crate (crates.io is not needed)."""
        given = self.conf.get(f"{CONF}:rust_compiler_builtins")
        if given:
            return given
        in_tree = os.path.join(self._library, "compiler-builtins", "compiler-builtins")
        if os.path.isfile(os.path.join(in_tree, "Cargo.toml")):
            return in_tree
        packaged = glob.glob("/usr/share/cargo/registry/compiler_builtins-*/Cargo.toml")
        if not packaged:
            raise ConanException("no compiler_builtins source: apt-get install librust-compiler-builtins-dev")
        version = lambda p: tuple(int(n) for n in re.findall(r"\d+", os.path.basename(os.path.dirname(p))))  # noqa: E731
        return os.path.dirname(max(packaged, key=version))

    @property
    def _spec(self):
        arch = self.info.options.target_arch if self._in_package_id else self.options.target_arch
        with open(os.path.join(self.recipe_folder, "specs", f"{arch}.json")) as stream:
            return json.load(stream)

    def _base_spec(self, base):
        spec = json.loads(self._run(self._rustc, "-Z", "unstable-options", "--print", "target-spec-json",
                                    "--target", base, bootstrap=True))
        spec.pop("is-builtin", None)
        return spec

    def _target_spec(self):
        """Our spec: this rustc's description of the base target with our ABI keys set."""
        overlay = self._spec
        spec = self._base_spec(overlay["base"])
        for key, value in overlay["set"].items():
            if value is None:
                spec.pop(key, None)
            else:
                spec[key] = value
        return overlay["name"], spec

    def _precompiled_std(self):
        """(target, lib dir) of a precompiled rust-std for the base target when the base already
        has our ABI (aarch64-unknown-none does; x86_64-unknown-none is soft-float), else None."""
        overlay = self._spec
        base = overlay["base"]
        lib = os.path.join(self._rust_sysroot, "lib", "rustlib", base, "lib")
        if not glob.glob(os.path.join(lib, "libcore-*.rlib")):
            return None
        spec = self._base_spec(base)
        for key, value in overlay["set"].items():
            if key == "features":
                if not set(value.split(",")) <= set(spec.get("features", "").split(",")):
                    return None
            elif spec.get(key) != value:
                return None
        return base, lib

    def _identity(self):
        """What makes this toolchain's rlibs (and therefore this package) what they are."""
        rustc = self._rustc
        lines = [self._run(rustc, "-vV").strip()]
        # Debian's rustc says "commit-hash: unknown": tell its builds apart by the compiler library.
        sysroot = self._rust_sysroot
        drivers = sorted(glob.glob(os.path.join(sysroot, "lib", "librustc_driver-*")) +
                         glob.glob(os.path.join(sysroot, "lib", "*", "librustc_driver-*")))
        lines += [f"{os.path.basename(d)} {os.path.getsize(d)}" for d in drivers]
        precompiled = self._precompiled_std()
        if precompiled:
            lines.append(f"precompiled {precompiled[0]}: " + " ".join(sorted(os.listdir(precompiled[1]))))
        else:
            lines.append(f"compiler_builtins {os.path.basename(os.path.realpath(self._compiler_builtins))}")
        return "\n".join(lines)

    _in_package_id = False

    def package_id(self):
        super().package_id()
        self._in_package_id = True  # self.options is off limits in package_id(): read self.info's
        try:
            identity = self._identity()
        finally:
            self._in_package_id = False
        self.info.conf.define(f"{CONF}:rust_toolchain", hashlib.sha256(identity.encode()).hexdigest())

    # -- build -----------------------------------------------------------------------------------
    def generate(self):
        super().generate()
        env = Environment()
        for name in RUST_ENV_LEAKS:
            env.unset(name)
        env.vars(self, scope="build").save_script("uk_clean_rust_env")

    def _cargo_build(self, manifest_dir, target, rustflags):
        command = (f"{shlex.quote(self._cargo)} build --offline --release --target {shlex.quote(target)}"
                   f" --manifest-path {shlex.quote(os.path.join(manifest_dir, 'Cargo.toml'))}")
        # cargo is a jobserver client: it shares the cores with the builds beside it.
        assignment, redirections = self.uk_jobserver() or ("", "")
        self.run(f"RUSTC={shlex.quote(self._rustc)} RUSTC_BOOTSTRAP=1 CARGO_INCREMENTAL=0"
                 f" CARGO_HOME={shlex.quote(os.path.join(self.build_folder, 'cargo-home'))}"
                 f" CARGO_TARGET_DIR={shlex.quote(os.path.join(self.build_folder, 'target'))}"
                 f" CARGO_ENCODED_RUSTFLAGS={shlex.quote(chr(0x1f).join(rustflags))} {assignment} {command}"
                 f" {redirections}")

    def _collect(self, target, crates, destination):
        deps = os.path.join(self.build_folder, "target", target, "release", "deps")
        for crate in crates:
            found = glob.glob(os.path.join(deps, f"lib{crate}-*.rlib"))
            if len(found) != 1:
                raise ConanException(f"expected one lib{crate}-*.rlib in {deps}, found {found}")
            shutil.copy2(found[0], destination)

    def build(self):
        release = re.search(r"^release: (\S+)", self._run(self._rustc, "-vV"), re.M).group(1)
        # Panic locations embed source paths: name them like rustup's std does, not by this machine.
        remaps = [f"--remap-path-prefix={self.build_folder}={self.uk_fake_build_folder}"]
        # User crates may use LTO: keep bitcode in the rlibs (cargo turns it off for non-LTO builds).
        common = ["-Cembed-bitcode=yes"]
        stage = os.path.join(self.build_folder, "sysroot")
        precompiled = self._precompiled_std()
        if precompiled:
            target, lib = precompiled
            self.output.info(f"using the toolchain's precompiled rust-std for {target} ({lib})")
            destination = os.path.join(stage, "lib", "rustlib", target, "lib")
            copy(self, "*.rlib", lib, destination)
            target_arg = target
        else:
            target, spec = self._target_spec()
            spec_path = os.path.join(self.build_folder, "spec", f"{target}.json")
            save(self, spec_path, json.dumps(spec, indent=2, sort_keys=True) + "\n")
            destination = os.path.join(stage, "lib", "rustlib", target, "lib")
            os.makedirs(destination, exist_ok=True)
            library, builtins = self._library, self._compiler_builtins
            self._write_sysroot_workspace(os.path.join(self.build_folder, "std"), library, builtins)
            remaps += [f"--remap-path-prefix={os.path.dirname(library)}=/rustc/{release}",
                       f"--remap-path-prefix={builtins}=/rustc/{release}/compiler_builtins"]
            self.output.info(f"building core, alloc, compiler_builtins for {target} from {library}")
            self._cargo_build(os.path.join(self.build_folder, "std"), spec_path, common + remaps)
            self._collect(target, SYSROOT_CRATES, destination)
            target_arg = spec_path
        # Our runtime crates, against that sysroot.
        self._cargo_build(os.path.join(self.source_folder, "crates"), target_arg, common + remaps + ["--sysroot", stage])
        self._collect(target, RUNTIME_CRATES, destination)
        save(self, os.path.join(self.build_folder, "uk-rust.json"), json.dumps({
            "target": target,
            "spec": None if precompiled else f"share/rust-targets/{target}.json",
            "rustc_version": self._run(self._rustc, "-vV").strip(),
            "compiler_builtins": None if precompiled else self._compiler_builtins,
        }, indent=1, sort_keys=True) + "\n")

    def _write_sysroot_workspace(self, folder, library, builtins):
        """A throwaway crate whose dependencies are the sysroot crates, all from local paths:
        cargo then builds them offline with compiler_builtins' own build script."""
        manifest = f"""\
[package]
name = "uk-sysroot"
version = "0.0.0"
edition = "2018"

[lib]
path = "lib.rs"

[dependencies]
core = {{ path = {json.dumps(os.path.join(library, "core"))} }}
alloc = {{ path = {json.dumps(os.path.join(library, "alloc"))} }}
# Without the "mem" feature: the unikernel's C library (nolibc) has memcpy, memset, memcmp...
compiler_builtins = {{ path = {json.dumps(builtins)}, features = ["rustc-dep-of-std"] }}

[patch.crates-io]
compiler_builtins = {{ path = {json.dumps(builtins)} }}
rustc-std-workspace-core = {{ path = {json.dumps(os.path.join(library, "rustc-std-workspace-core"))} }}

[profile.release]
panic = "abort"
opt-level = 3
debug = false

# As Rust's own build does: no assertions in the intrinsics, and one object per intrinsic so a
# link pulls in only what it uses.
[profile.release.package.compiler_builtins]
debug-assertions = false
overflow-checks = false
codegen-units = 10000
"""
        save(self, os.path.join(folder, "Cargo.toml"), manifest)
        save(self, os.path.join(folder, "lib.rs"), "#![no_std]\n")

    def package(self):
        copy(self, "*.rlib", os.path.join(self.build_folder, "sysroot"), self.package_folder)
        copy(self, "*.json", os.path.join(self.build_folder, "spec"),
             os.path.join(self.package_folder, "share", "rust-targets"))
        licenses = os.path.join(self.package_folder, "licenses")
        sysroot = self._rust_sysroot
        for notices in (os.path.join(sysroot, "lib", "rustlib", "src", "rust"), os.path.join(sysroot, "share", "doc", "rust")):
            copy(self, "COPYRIGHT", notices, os.path.join(licenses, "rust"))
            copy(self, "LICENSE-*", notices, os.path.join(licenses, "rust"))
        with open(os.path.join(self.build_folder, "uk-rust.json")) as stream:
            facts = json.load(stream)
        builtins = facts.pop("compiler_builtins")
        if builtins:
            copy(self, "LICENSE*", builtins, os.path.join(licenses, "compiler_builtins"))
        # What package_info() publishes (no machine path: the source folder stays out).
        save(self, os.path.join(self.package_folder, "share", "uktoolchain", "uk-rust.json"),
             json.dumps(facts, indent=1, sort_keys=True) + "\n")

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.includedirs = []
        with open(os.path.join(self.package_folder, "share", "uktoolchain", "uk-rust.json")) as stream:
            facts = json.load(stream)
        # Read by uktoolchain (exporters/cargo.py) to render cargo's configuration at use time.
        self.conf_info.define(f"{CONF}:rust_target", facts["target"])
        self.conf_info.define(f"{CONF}:rust_sysroot", self.package_folder)
        self.conf_info.define(f"{CONF}:rust_target_spec",
                                   os.path.join(self.package_folder, facts["spec"]) if facts["spec"] else "")
        self.conf_info.define(f"{CONF}:rust_rustc_version", facts["rustc_version"])
