import os
import shutil
import subprocess

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.files import copy


class Solo5(ConanFile):
    name = "solo5"
    description = "Solo5 tenders (solo5-hvt, solo5-spt, solo5-elftool) and <arch>-solo5-none-static toolchain"
    license = "ISC"
    homepage = "https://github.com/Solo5/solo5"
    python_requires = "ukbase/1.0"
    # One toolchain per target architecture (option target_arch); the bindings (hvt, spt, virtio,
    # muen, xen) are all built and chosen at link time: not options.
    python_requires_extend = "ukbase.UkPerArchPackage"

    @property
    def _make_args(self):
        # A cross package holds only the toolchain (tenders are host programs: take them from the
        # native package); the tests/ unikernels are never installed. Keep this build folder out
        # of the tenders' debug info (the bindings map it to '.' themselves).
        subdirs = "toolchain bindings" if self.uk_cross else "tenders elftool toolchain bindings"
        prefix_map = f"-ffile-prefix-map={self.source_folder}={self.uk_fake_build_folder}"
        return f"'SUBDIRS={subdirs}' 'HOSTCC=cc {prefix_map}'"

    def validate_build(self):
        # configure.sh checks for libseccomp (hvt and spt tenders) even for a cross toolchain.
        if not shutil.which("pkg-config") or subprocess.run(["pkg-config", "--exists", "libseccomp"]).returncode:
            raise ConanInvalidConfiguration("solo5 needs libseccomp: apt-get install libseccomp-dev pkg-config")
        self.uk_validate_cross_tools()

    def build(self):
        # Bare names: the installed wrappers exec them, so they are looked up on PATH at use time.
        cross = self.uk_cross
        tools = f"TARGET_CC={cross}gcc" if cross else "TARGET_CC=cc"
        tools += f" TARGET_LD={cross}ld TARGET_OBJCOPY={cross}objcopy"
        self.run(f"{tools} ./configure.sh --prefix={self.uk_fake_prefix}", cwd=self.source_folder)
        self.run(self.uk_make(self._make_args), cwd=self.source_folder)

    def package(self):
        # The cc wrapper uses include/solo5 from its own package: a cross package needs it too.
        targets = "install-toolchain install-headers" if self.uk_cross else "install"
        destdir = os.path.join(self.build_folder, "staged")
        # -o gen-version-h: upstream rewrites include/version.h on every make, which would
        # recompile most of the tree here.
        self.run(f"make -o gen-version-h {targets} {self._make_args} DESTDIR={destdir}", cwd=self.source_folder)
        self.uk_move_staged_install(destdir)
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))

    def package_info(self):
        # The wrappers find include/ and lib/<triple>/ from their own location (realpath $0).
        self.uk_publish_bindir()
