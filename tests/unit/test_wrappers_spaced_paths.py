"""The installed wrapper scripts work from a home whose path has a space and non-ASCII letters
(macOS's default home is under "Application Support").

Each wrapper is run from such a path, with the tools it executes replaced by fakes that record
their arguments: what reaches the compiler must be whole paths, not pieces of them.

- ocaml-solo5's <arch>-solo5-ocaml-cc as our recipe rewrites it, and our OCAMLLIB wrappers of
  the cross-compiler's tools (recipes/ocaml-solo5): always.
- Solo5's <arch>-solo5-none-static-{cc,ld} with our patch (patches/solo5/): opt-in, they are
  upstream files (UKTOOLCHAIN_TEST_SOURCES names a directory with solo5-v0.12.1.tar.gz).
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]
SOLO5_TARBALL = Path(os.environ.get("UKTOOLCHAIN_TEST_SOURCES", "/nonexistent")) / "solo5-v0.12.1.tar.gz"
SOLO5_PATCHES = sorted((REPO / "patches" / "solo5").glob("0.12.1-*.patch"))
TRIPLE = "x86_64-solo5-none-static"
FAKE_PREFIX = "/uktoolchain-relocatable/ocaml-solo5"


def spaced_root(tmp_path: Path) -> Path:
    root = tmp_path / "rel ü home" / "uk"
    root.mkdir(parents=True)
    return root


def recording_tool(directory: Path, name: str) -> Path:
    """A fake tool that writes its arguments, one per line, to <directory>/<name>.args."""
    directory.mkdir(parents=True, exist_ok=True)
    tool = directory / name
    tool.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{directory / (name + ".args")}"\n'
                    'printf "OCAMLLIB=%s\\n" "$OCAMLLIB" >> "' + str(directory / (name + ".args")) + '"\n')
    tool.chmod(0o755)
    return tool


def recorded(directory: Path, name: str) -> list[str]:
    return (directory / f"{name}.args").read_text().splitlines()


def run(command: list[str], fakes: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": f"{fakes}:/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)


# -- ocaml-solo5: our recipe's wrappers -------------------------------------------------------


def load_recipe(name: str):
    spec = importlib.util.spec_from_file_location(f"recipe_{name.replace('-', '_')}",
                                                  REPO / "recipes" / name / "conanfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ocaml_solo5():
    return load_recipe("ocaml-solo5").OcamlSolo5


def recipe_self():
    """What the wrapper methods read of the recipe (the x86_64 package's names)."""
    return SimpleNamespace(uk_fake_prefix=FAKE_PREFIX, uk_ocaml_solo5_sysroot="lib/ocaml-solo5", uk_solo5_triple=TRIPLE)


# The shape of the cc wrapper that ocaml-solo5's gen_toolchain_tool.sh writes at configure time:
# the sysroot's include/ and lib/ under the configure-time prefix, then Solo5's cc by name.
GENERATED_CC = f"""#!/bin/sh
compiling=
for arg in "$@"; do
  case "$arg" in
    -[cSE])
      compiling="$arg"
      break
      ;;
  esac
done

set -- \\
  -I{FAKE_PREFIX}/lib/ocaml-solo5/include \\
  -include _solo5/overrides.h \\
  "$@"

if [ -z "$compiling" ]; then
  set -- \\
    "$@" \\
    -L{FAKE_PREFIX}/lib/ocaml-solo5/lib \\
    -Wl,--start-group \\
    -lnolibc \\
    -Wl,--end-group
fi

exec "{TRIPLE}-cc" "$@"
"""


def test_ocaml_solo5_cc_wrapper_from_a_spaced_path(ocaml_solo5, tmp_path):
    package = spaced_root(tmp_path) / "package"
    bindir = package / "bin"
    bindir.mkdir(parents=True)
    for folder in ("include", "lib"):
        (package / "lib" / "ocaml-solo5" / folder).mkdir(parents=True)
    wrapper = bindir / f"{TRIPLE.split('-')[0]}-solo5-ocaml-cc"
    wrapper.write_text(GENERATED_CC)
    wrapper.chmod(0o755)
    ocaml_solo5._relocatable_tool_wrappers(recipe_self(), str(bindir))
    assert FAKE_PREFIX not in wrapper.read_text()

    fakes = tmp_path / "fakes"
    recording_tool(fakes, f"{TRIPLE}-cc")
    sysroot = f"{bindir.resolve()}/../lib/ocaml-solo5"  # the wrapper finds it by realpath
    for how in ([str(wrapper)], [wrapper.name]):  # by its path, and found on PATH
        env_path = f"{fakes}:{bindir}"
        result = subprocess.run([*how, "-c", "x.c"], env={"PATH": f"{env_path}:/usr/bin:/bin"}, cwd=tmp_path,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert recorded(fakes, f"{TRIPLE}-cc")[:4] == [f"-I{sysroot}/include", "-include", "_solo5/overrides.h", "-c"]
        linked = subprocess.run([*how, "x.o", "-o", "x"], env={"PATH": f"{env_path}:/usr/bin:/bin"}, cwd=tmp_path,
                                capture_output=True, text=True)
        assert linked.returncode == 0, linked.stderr
        assert f"-L{sysroot}/lib" in recorded(fakes, f"{TRIPLE}-cc")


def test_cross_compiler_stdlib_wrappers_from_a_spaced_path(ocaml_solo5, tmp_path):
    sysroot = spaced_root(tmp_path) / "package" / "lib" / "ocaml-solo5"
    bindir = sysroot / "bin"
    (sysroot / "lib" / "ocaml").mkdir(parents=True)
    for name in ("ocamlc", "ocamlopt", "ocamldep", "ocamlobjinfo"):
        recording_tool(bindir, f"{name}.opt")
    ocaml_solo5._stdlib_wrappers(recipe_self(), str(bindir))

    result = run([str(bindir / "ocamlopt"), "-I", "+unix", "a b.ml"], tmp_path, tmp_path)
    assert result.returncode == 0, result.stderr
    args = recorded(bindir, "ocamlopt.opt")
    assert args[:3] == ["-I", "+unix", "a b.ml"]
    ocamllib = args[3].removeprefix("OCAMLLIB=")
    assert Path(ocamllib).resolve() == (sysroot / "lib" / "ocaml").resolve()


# -- Solo5's wrappers with our patch (upstream files: opt-in) ---------------------------------


def solo5_wrappers(tmp_path: Path, patched: bool) -> Path:
    """Solo5's toolchain/{cc,ld}.in rendered as its GNUmakefile does, installed under a spaced
    path as in a package (bin/, include/, lib/<triple>/); returns bin/."""
    source = tmp_path / ("patched" if patched else "upstream")
    with tarfile.open(SOLO5_TARBALL) as tar:
        members = [m for m in tar.getmembers() if "/toolchain/" in m.name and m.name.endswith(".in")]
        for member in members:
            member.name = "toolchain/" + member.name.rsplit("/", 1)[1]
            tar.extract(member, source, filter="data")
    if patched:
        for patch_file in SOLO5_PATCHES:
            subprocess.run(["patch", "-p1", "-s", "-i", str(patch_file)], cwd=source, check=True)
    values = {"CONFIG_TARGET_ARCH": "x86_64", "CONFIG_TARGET_TRIPLE": TRIPLE, "CONFIG_TARGET_CC": "fakecc",
              "CONFIG_TARGET_CC_CFLAGS": "", "CONFIG_TARGET_CC_LDFLAGS": "", "CONFIG_TARGET_LD": "fakeld",
              "CONFIG_TARGET_LD_LDFLAGS": "", "CONFIG_TARGET_LD_MAX_PAGE_SIZE": "0x1000",
              "CONFIG_TARGET_OBJCOPY": "fakeobjcopy"}
    package = spaced_root(tmp_path / source.name)
    bindir = package / "bin"
    bindir.mkdir()
    for tool in ("cc", "ld", "objcopy"):
        text = (source / "toolchain" / f"{tool}.in").read_text()
        for name, value in values.items():
            text = text.replace(f"@@{name}@@", value)
        assert not re.search(r"@@[A-Z_]+@@", text)
        wrapper = bindir / f"{TRIPLE}-{tool}"
        wrapper.write_text(text)
        wrapper.chmod(0o755)
    for folder in ("include/solo5", f"include/{TRIPLE}", f"lib/{TRIPLE}"):
        (package / folder).mkdir(parents=True)
    return bindir


solo5_sources = pytest.mark.skipif(not SOLO5_TARBALL.is_file(),
                                   reason="Solo5's wrappers are upstream files: set UKTOOLCHAIN_TEST_SOURCES to a "
                                   "directory with solo5-v0.12.1.tar.gz")


@solo5_sources
def test_solo5_wrappers_need_our_patch_under_a_spaced_path(tmp_path):
    bindir = solo5_wrappers(tmp_path, patched=False)
    fakes = tmp_path / "fakes"
    recording_tool(fakes, "fakecc")
    result = run([str(bindir / f"{TRIPLE}-cc"), "-c", "x.c"], fakes, tmp_path)
    assert result.returncode != 0  # what users saw: basename's extra operand, realpath's pieces
    assert "Could not determine include path" in result.stderr, result.stderr


@solo5_sources
def test_solo5_wrappers_with_our_patch_under_a_spaced_path(tmp_path):
    bindir = solo5_wrappers(tmp_path, patched=True)
    package = bindir.parent.resolve()
    fakes = tmp_path / "fakes"
    for tool in ("fakecc", "fakeld", "fakeobjcopy"):
        recording_tool(fakes, tool)

    compiled = run([str(bindir / f"{TRIPLE}-cc"), "-c", "my file.c"], fakes, tmp_path)
    assert compiled.returncode == 0, compiled.stderr
    args = recorded(fakes, "fakecc")
    assert args[args.index("-isystem") + 1] == f"{package}/bin/../include/{TRIPLE}"
    assert args[args.index("-I") + 1] == f"{package}/bin/../include/solo5"
    assert "my file.c" in args

    linked = run([str(bindir / f"{TRIPLE}-cc"), "x.o", "-z", "solo5-abi=spt", "-o", "x.spt"], fakes, tmp_path)
    assert linked.returncode == 0, linked.stderr
    args = recorded(fakes, "fakecc")
    assert args[args.index("-L") + 1] == f"{package}/bin/../lib/{TRIPLE}"
    assert "-Wl,-T,solo5_spt.lds" in args and ":solo5_spt.o" in args

    ld = run([str(bindir / f"{TRIPLE}-ld"), "-z", "solo5-abi=hvt", "a.o"], fakes, tmp_path)
    assert ld.returncode == 0, ld.stderr
    args = recorded(fakes, "fakeld")
    assert args[args.index("-L") + 1] == f"{package}/bin/../lib/{TRIPLE}"
    assert ["-T", "solo5_hvt.lds"] == args[args.index("-T"):args.index("-T") + 2]

    objcopy = run([str(bindir / f"{TRIPLE}-objcopy"), "-O", "binary", "a b.elf", "k.img"], fakes, tmp_path)
    assert objcopy.returncode == 0 and recorded(fakes, "fakeobjcopy")[:4] == ["-O", "binary", "a b.elf", "k.img"]
