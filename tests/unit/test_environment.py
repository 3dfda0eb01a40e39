"""exporters.environment: composing package templates, and rendering them for sh (run by a real
``sh``), fish and processes (``resolve``)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from uktoolchain.engine.model import InstalledPackage
from uktoolchain.exporters import environment
from uktoolchain.home import Home
from uktoolchain.targets import Catalogue

REPO = Path(__file__).resolve().parents[2]

CONAN_HOME = Path("/opt/uk home/conan")  # a space, to check quoting


def package(name: str, *env: tuple[str, str]) -> InstalledPackage:
    return InstalledPackage(label=name, name=name, ref=f"{name}/1.0#r", package_id="p", folder=f"p/{name}", env=tuple(env))


ALPHA = package(
    "alpha",
    ("PATH", "{conan_home}/p/alpha/bin:${PATH}"),
    ("ALPHA_HOME", "{conan_home}/p/alpha"),
    ("OCAMLPATH", "{conan_home}/p/alpha/lib:${OCAMLPATH}"),
)
BETA = package(
    "beta",
    ("PATH", "{conan_home}/p/beta/bin:${PATH}"),
    ("OCAMLPATH", "{conan_home}/p/beta/lib:${OCAMLPATH}"),
)


def sh_value(script: str, variable: str, preset: dict[str, str] | None) -> str | None:
    """Evaluate ``script`` in a real sh whose environment holds only ``preset``; read ``variable``."""
    # sh gives itself a default PATH when it starts without one: unset it to test that case.
    unset = "" if "PATH" in (preset or {}) else "unset PATH\n"
    probe = f'{unset}{script}\nif [ -n "${{{variable}+set}}" ]; then printf "%s" "${variable}"; else printf "<unset>"; fi'
    result = subprocess.run(["/bin/sh", "-c", probe], capture_output=True, text=True, env=preset or {}, check=True)
    return None if result.stdout == "<unset>" else result.stdout


def test_compose_in_dependency_order_keeps_references():
    values = environment.compose([ALPHA, BETA], CONAN_HOME)
    assert values == {
        "PATH": f"{CONAN_HOME}/p/beta/bin:{CONAN_HOME}/p/alpha/bin:${{PATH}}",
        "ALPHA_HOME": f"{CONAN_HOME}/p/alpha",
        "OCAMLPATH": f"{CONAN_HOME}/p/beta/lib:{CONAN_HOME}/p/alpha/lib:${{OCAMLPATH}}",
    }


def test_compose_define_replaces_earlier_value():
    first = package("a", ("X", "{conan_home}/a"))
    second = package("b", ("X", "{conan_home}/b"))
    assert environment.compose([first, second], Path("/h")) == {"X": "/h/b"}


@pytest.mark.parametrize(
    "preset, expected",
    [
        (None, "{h}/p/beta/bin:{h}/p/alpha/bin"),
        ({"PATH": "/usr/bin:/bin"}, "{h}/p/beta/bin:{h}/p/alpha/bin:/usr/bin:/bin"),
        ({"PATH": ""}, "{h}/p/beta/bin:{h}/p/alpha/bin"),
    ],
    ids=["unset", "set", "empty"],
)
def test_render_sh_evaluated_by_sh(preset, expected):
    script = environment.render_sh(environment.compose([ALPHA, BETA], CONAN_HOME))
    value = sh_value(script, "PATH", preset)
    assert value == expected.format(h=CONAN_HOME)
    assert not value.endswith(":") and "::" not in value
    assert sh_value(script, "ALPHA_HOME", preset) == f"{CONAN_HOME}/p/alpha"
    assert sh_value(script, "OCAMLPATH", {"OCAMLPATH": "/site"}) == f"{CONAN_HOME}/p/beta/lib:{CONAN_HOME}/p/alpha/lib:/site"


def test_render_sh_appended_path_has_no_leading_separator():
    script = environment.render_sh({"PATH": "${PATH}:/x/bin"})
    assert sh_value(script, "PATH", None) == "/x/bin"
    assert sh_value(script, "PATH", {"PATH": "/bin"}) == "/bin:/x/bin"


def test_render_sh_quotes_special_characters():
    tricky = 'a "quoted" $HOME `cmd` back\\slash'
    script = environment.render_sh({"TRICKY": tricky, "PATH": "/odd $dir:${PATH}"})
    assert sh_value(script, "TRICKY", {"HOME": "/root"}) == tricky
    assert sh_value(script, "PATH", {"PATH": "/bin"}) == "/odd $dir:/bin"


def test_render_fish():
    values = environment.compose([ALPHA], Path("/h"))
    fish = environment.render_fish(values).splitlines()
    assert "set -gx PATH /h/p/alpha/bin $PATH" in fish
    assert "set -gx ALPHA_HOME /h/p/alpha" in fish
    assert "set -gx OCAMLPATH /h/p/alpha/lib $OCAMLPATH" in fish
    spaced = environment.render_fish({"PATH": "/a b/bin:${PATH}"})
    assert spaced == "set -gx PATH '/a b/bin' $PATH\n"


def test_resolve_against_a_base_environment():
    values = environment.compose([ALPHA, BETA], Path("/h"))
    assert environment.resolve(values, {})["PATH"] == "/h/p/beta/bin:/h/p/alpha/bin"
    assert environment.resolve(values, {"PATH": "/usr/bin"})["PATH"] == "/h/p/beta/bin:/h/p/alpha/bin:/usr/bin"
    assert environment.resolve(values, {"OCAMLPATH": ""})["OCAMLPATH"] == "/h/p/beta/lib:/h/p/alpha/lib"
    assert environment.resolve({"X": "${PATH}:/x"}, {})["X"] == "/x"
    assert environment.resolve({"URL": "http://example.org/x"}, {})["URL"] == "http://example.org/x"


def test_target_environment_renders_findlib_conf_per_target(tmp_path):
    home = Home(tmp_path / "home")
    values = environment.target_environment(home, "solo", [ALPHA])
    site = home.site / "solo" / "lib"
    conf = Path(values["OCAMLFIND_CONF"])
    assert conf == home.rendered / "solo" / "findlib.conf"
    text = conf.read_text()
    assert f'destdir="{site}"' in text
    assert f'path="{site}:{home.conan}/p/alpha/lib"' in text  # the caller's ${OCAMLPATH} is not baked in
    assert (site / "stublibs").is_dir()
    assert values["UKTOOLCHAIN_TARGET"] == "solo"
    # Every tool a toolchain file names has a host entry too (bare name, found on PATH): dune
    # >= 3.18 reads a toolchain-only variable as "" in its host context and fails.
    for tool in ("ocamlc", "ocamlopt", "ocamldep", "ocamlmklib"):
        assert f'\n{tool}="{tool}"\n' in text

    script = environment.render_sh(values)
    assert "OCAMLPATH" not in values  # ocamlfind would search it before any cross toolchain's path
    assert sh_value(script, "CAML_LD_LIBRARY_PATH", None) == f"{site}/stublibs"
    assert sh_value(script, "CAML_LD_LIBRARY_PATH", {"CAML_LD_LIBRARY_PATH": "/x"}) == f"{site}/stublibs:/x"

    mtime = conf.stat().st_mtime_ns
    environment.target_environment(home, "solo", [ALPHA])
    assert conf.stat().st_mtime_ns == mtime  # unchanged content is not rewritten


def test_target_without_ocamlpath_gets_no_findlib_conf(tmp_path):
    home = Home(tmp_path / "home")
    values = environment.target_environment(home, "t", [package("x", ("PATH", "/x/bin:${PATH}"))])
    assert set(values) == {"PATH", "UKTOOLCHAIN_TARGET"}
    assert not home.rendered.exists()


def test_cross_compilers_get_a_findlib_toolchain_rendered_with_this_homes_paths(tmp_path):
    home = Home(tmp_path / "home")
    cross = InstalledPackage(
        label="ocaml-solo5[aarch64]", name="ocaml-solo5", ref="ocaml-solo5/1.2.0#r", package_id="p",
        folder="p/os5", env=(("PATH", "{conan_home}/p/os5/bin:${PATH}"),),
        facts=(("findlib_toolchain", "solo5_aarch64"), ("ocaml_solo5_sysroot", "{conan_home}/p/os5/lib/ocaml-solo5-cross-aarch64")),
    )
    values = environment.target_environment(home, "aarch64-spt", [ALPHA, cross])
    conf_d = Path(values["OCAMLFIND_CONF"] + ".d")
    assert conf_d == home.rendered / "aarch64-spt" / "findlib.conf.d"
    text = (conf_d / "solo5_aarch64.conf").read_text()
    sysroot = f"{home.conan}/p/os5/lib/ocaml-solo5-cross-aarch64"
    assert f'ocamlopt(solo5_aarch64) = "{sysroot}/bin/ocamlopt"' in text
    assert f'stdlib(solo5_aarch64) = "{sysroot}/lib/ocaml"' in text
    assert f'destdir(solo5_aarch64) = "{home.site}/aarch64-spt/solo5_aarch64"' in text
    assert "{conan_home}" not in text and f"{home.conan}/p/alpha" not in text  # no host libraries


def _solo5_package(tmp_path, arch, sysroot_name):
    """An ocaml-solo5 package folder as the recipe lays it out: tools in bin/, sysroot below lib/."""
    folder = tmp_path / "home" / "conan" / "p" / f"os5{arch}"
    (folder / "bin").mkdir(parents=True)
    for tool in ("cc", "ar", "ranlib"):
        (folder / "bin" / f"{arch}-solo5-ocaml-{tool}").write_text("#!/bin/sh\n")
    return InstalledPackage(
        label=f"ocaml-solo5[{arch}]", name="ocaml-solo5", ref="ocaml-solo5/1.2.0#r", package_id=arch,
        folder=f"p/os5{arch}", env=(("PATH", f"{{conan_home}}/p/os5{arch}/bin:${{PATH}}"),),
        facts=(("findlib_toolchain", "solo5" if arch == "x86_64" else "solo5_aarch64"),
               ("ocaml_solo5_sysroot", f"{{conan_home}}/p/os5{arch}/lib/{sysroot_name}")),
    )


def test_one_unikernel_target_gets_c_variables_and_a_cmake_toolchain_file(tmp_path):
    home = Home(tmp_path / "home")
    catalogue = Catalogue.load(REPO / "recipes" / "targets.toml")
    os5 = _solo5_package(tmp_path, "x86_64", "ocaml-solo5")
    values = environment.target_environment(home, "virtio", [ALPHA, os5], catalogue.resolve(["virtio"]))
    bindir = home.conan / "p" / "os5x86_64" / "bin"
    assert values["CC"] == f"{bindir}/x86_64-solo5-ocaml-cc"
    assert values["AR"] == f"{bindir}/x86_64-solo5-ocaml-ar" and values["RANLIB"] == f"{bindir}/x86_64-solo5-ocaml-ranlib"
    assert values["UKTOOLCHAIN_CFLAGS"] == f"-I{home.conan}/p/os5x86_64/lib/ocaml-solo5/include"
    assert values["UKTOOLCHAIN_LDFLAGS"] == "-z solo5-abi=virtio"
    cmake = Path(values["CMAKE_TOOLCHAIN_FILE"])
    assert cmake == home.rendered / "cmake" / "virtio.cmake" and values["UKTOOLCHAIN_CMAKE_DIR"] == str(cmake.parent)
    text = cmake.read_text()
    assert f'set(CMAKE_C_COMPILER "{bindir}/x86_64-solo5-ocaml-cc")' in text
    assert "set(CMAKE_SYSTEM_NAME Generic)" in text and "set(CMAKE_SYSTEM_PROCESSOR x86_64)" in text
    assert 'set(CMAKE_EXE_LINKER_FLAGS_INIT "-z solo5-abi=virtio")' in text
    assert "set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)" in text


def test_several_unikernel_targets_get_one_cmake_file_each_and_no_single_cc(tmp_path):
    home = Home(tmp_path / "home")
    catalogue = Catalogue.load(REPO / "recipes" / "targets.toml")
    packages = [ALPHA, _solo5_package(tmp_path, "x86_64", "ocaml-solo5"),
                _solo5_package(tmp_path, "aarch64", "ocaml-solo5-cross-aarch64")]
    values = environment.target_environment(home, "spt+aarch64-spt", packages, catalogue.resolve(["spt", "aarch64-spt"]))
    assert "CC" not in values and "CMAKE_TOOLCHAIN_FILE" not in values
    directory = Path(values["UKTOOLCHAIN_CMAKE_DIR"])
    assert sorted(p.name for p in directory.iterdir()) == ["aarch64-spt.cmake", "spt.cmake"]
    aarch64 = (directory / "aarch64-spt.cmake").read_text()
    assert "aarch64-solo5-ocaml-cc" in aarch64 and "CMAKE_SYSTEM_PROCESSOR aarch64" in aarch64
    assert "-z solo5-abi=spt" in aarch64


def test_c_variables_of_a_home_with_spaces_reach_a_shell_whole(tmp_path):
    # make and CMake hand flags to a shell: the include path is quoted for it; the CMake file
    # quotes its paths itself.
    spaced = tmp_path / "rel ü home"
    home = Home(spaced / "home")
    catalogue = Catalogue.load(REPO / "recipes" / "targets.toml")
    values = environment.target_environment(home, "spt", [ALPHA, _solo5_package(spaced, "x86_64", "ocaml-solo5")],
                                            catalogue.resolve(["spt"]))
    include = f"{home.conan}/p/os5x86_64/lib/ocaml-solo5/include"
    script = environment.render_sh(values)
    result = subprocess.run(["sh", "-c", script + 'eval "set -- $UKTOOLCHAIN_CFLAGS"; printf "%s\\n" "$@"'],
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and result.stdout.splitlines() == [f"-I{include}"], result.stderr
    cmake = Path(values["CMAKE_TOOLCHAIN_FILE"]).read_text()
    assert f'set(CMAKE_FIND_ROOT_PATH "{home.conan}/p/os5x86_64/lib/ocaml-solo5")' in cmake


def test_no_variable_make_hands_to_cc_is_exported(tmp_path):
    """MirageOS libraries compile C with `CC=ocamlfind -toolchain solo5 ocamlopt` (mirage-solo5's
    bindings Makefile): make passes CFLAGS/CPPFLAGS/LDFLAGS from the environment to that CC, and
    ocamlopt stops at `-I/...`. A real make shows what it would run."""
    home = Home(tmp_path / "home")
    catalogue = Catalogue.load(REPO / "recipes" / "targets.toml")
    os5 = _solo5_package(tmp_path, "x86_64", "ocaml-solo5")
    values = environment.target_environment(home, "spt", [ALPHA, os5], catalogue.resolve(["spt"]))
    assert not set(values) & {"CFLAGS", "CPPFLAGS", "CXXFLAGS", "LDFLAGS", "LDLIBS", "TARGET_ARCH"}
    (tmp_path / "Makefile").write_text("CC=ocamlfind -toolchain solo5 ocamlopt\nall: clock_stubs.o\n")
    (tmp_path / "clock_stubs.c").write_text("int x;\n")
    script = environment.render_sh(values)
    dry = subprocess.run(["sh", "-c", f"{script}\nmake -n -C {tmp_path}"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"}, check=True).stdout
    assert "ocamlfind -toolchain solo5 ocamlopt -c -o clock_stubs.o clock_stubs.c" in " ".join(dry.split()), dry


def test_a_single_arch_aarch64_environment_also_names_its_toolchain_solo5(tmp_path):
    """MirageOS writes `(toolchain solo5)` for every Solo5 target, as ocaml-solo5 names its
    toolchain on every architecture; with aarch64 alone that name is the aarch64 cross-compiler."""
    home = Home(tmp_path / "home")
    catalogue = Catalogue.load(REPO / "recipes" / "targets.toml")
    arm = _solo5_package(tmp_path, "aarch64", "ocaml-solo5-cross-aarch64")
    values = environment.target_environment(home, "aarch64-rpi4", [ALPHA, arm], catalogue.resolve(["aarch64-rpi4"]))
    conf_d = Path(values["OCAMLFIND_CONF"] + ".d")
    sysroot = f"{home.conan}/p/os5aarch64/lib/ocaml-solo5-cross-aarch64"
    alias = (conf_d / "solo5.conf").read_text()
    assert f'ocamlopt(solo5) = "{sysroot}/bin/ocamlopt"' in alias and f'stdlib(solo5) = "{sysroot}/lib/ocaml"' in alias
    own = (conf_d / "solo5_aarch64.conf").read_text()
    assert alias.replace("(solo5)", "(solo5_aarch64)") == own  # one compiler, one site: the same lines

    # Both architectures side by side: each keeps its own name, `solo5` stays x86_64.
    x86 = _solo5_package(tmp_path, "x86_64", "ocaml-solo5")
    both = environment.target_environment(home, "spt+aarch64-spt", [ALPHA, x86, arm], catalogue.resolve(["spt", "aarch64-spt"]))
    conf_d = Path(both["OCAMLFIND_CONF"] + ".d")
    assert sorted(p.name for p in conf_d.iterdir()) == ["solo5.conf", "solo5_aarch64.conf"]
    assert f'{home.conan}/p/os5x86_64/lib/ocaml-solo5/bin/ocamlopt' in (conf_d / "solo5.conf").read_text()
    assert sysroot in (conf_d / "solo5_aarch64.conf").read_text()
