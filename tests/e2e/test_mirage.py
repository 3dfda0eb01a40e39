"""A real MirageOS 4.11 unikernel, configured by the real `mirage configure` and built by mirage's
own `make build` with nothing but `eval "$(uktoolchain env TARGET)"`: booted under solo5-spt, linked
for hvt (ABI note checked), linked for aarch64-rpi4 and booted under QEMU raspi4b. OCaml 5.4 set
(dune >= 3.22, so mirage-runtime 4.11 takes lwt 6).

Opt-in: no upstream MirageOS source is in this repository. UKTOOLCHAIN_TEST_MIRAGE_SOURCES names a
directory holding
  skeleton/       mirage-skeleton (its tutorial/hello is built),
  cli/            a dune workspace that builds the mirage 4.11 CLI and its libraries with the `unix`
                  target: `dune build -p "$(cat packages)" @install` (the list in cli/packages),
  duniverse-5.4/  what `make lock pull` (opam-monorepo) puts into the unikernel's duniverse/ for
                  OCaml 5.4: mirage-runtime 4.11.x, mirage-solo5 0.10, lwt 6.x, mirage-sleep, logs,
                  fmt, mirage-crypto-rng, ... with dune ports (dune-universe) where upstream has none.
The toolchains come from the set's sources as in test_unikernel_targets (tests/e2e/set_sources.py);
UKTOOLCHAIN_TEST_MIRAGE_HOME names an existing home to install them into instead of the test's own
(installing what it already has is a no-op).
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pexpect
import pytest

from conftest import shell_with_env
from set_sources import sources_of
from uktoolchain import doctor, elf

MIRAGE = Path(os.environ.get("UKTOOLCHAIN_TEST_MIRAGE_SOURCES", "/nonexistent"))
HOME = os.environ.get("UKTOOLCHAIN_TEST_MIRAGE_HOME")
FIRMWARE = os.environ.get("UKTOOLCHAIN_TEST_RPI4_FIRMWARE")  # ci/fetch-rpi4-firmware.sh
SET = "5.4"
LAYOUT = ["skeleton/tutorial/hello/config.ml", "cli/packages", "duniverse-5.4/mirage-solo5", "duniverse-5.4/lwt"]
missing_tools = [c.name for c in doctor.run_checks(["libseccomp", "aarch64-gcc", "qemu-raspi4b"]) if not c.ok]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not all((MIRAGE / p).exists() for p in LAYOUT),
                       reason="set UKTOOLCHAIN_TEST_MIRAGE_SOURCES to a directory with skeleton/, cli/ and "
                       "duniverse-5.4/ (see this test's docstring)"),
    pytest.mark.skipif(bool(missing_tools), reason=f"host lacks {missing_tools} (see `uktoolchain doctor`)"),
    pytest.mark.skipif(not FIRMWARE, reason="set UKTOOLCHAIN_TEST_RPI4_FIRMWARE (ci/fetch-rpi4-firmware.sh)"),
]
# The log lines of tutorial/hello: four "hello", one second apart, then a clean exit.
HELLO = r"\[INFO\] \[application\] hello"


def first_heading(changes: Path) -> str:
    return next(line for line in changes.read_text().splitlines() if line.strip())


@pytest.fixture(scope="module")
def toolchains(tmp_path_factory):
    """A home with unix, spt, hvt and aarch64-rpi4 of the 5.4 set; returns its path."""
    found = sources_of(SET)
    if found.needs:
        pytest.skip(f"set {SET} needs {', '.join(found.needs)} (see tests/e2e/set_sources.py)")
    home = Path(HOME) if HOME else tmp_path_factory.mktemp("mirage") / "home"
    from conftest import Runner  # noqa: PLC0415  (the module fixture cannot take the function-scoped uk)

    env = {**found.env, "UKTOOLCHAIN_HOME": str(home)}
    installed = Runner()("install", "unix", "spt", "hvt", "aarch64-rpi4", "--plain", *found.args,
                         "--source", f"rpi4-firmware={FIRMWARE}", env=env, timeout=5400)
    assert installed.returncode == 0, installed.stderr[-4000:]
    return home


@pytest.fixture(scope="module")
def mirage_cli(toolchains, tmp_path_factory):
    """The mirage CLI built from the sources with the unix target: (PATH dir, OCAMLPATH dir)."""
    cli = tmp_path_factory.mktemp("cli") / "cli"
    shutil.copytree(MIRAGE / "cli", cli, symlinks=True)
    packages = (cli / "packages").read_text().strip()
    built = shell_with_env(env_script(toolchains, "unix"), f'cd {cli} && dune build -p "{packages}" @install 2>&1')
    assert built.returncode == 0, built.stdout[-4000:]
    return cli / "_build" / "install" / "default" / "bin", cli / "_build" / "install" / "default" / "lib"


def env_script(home: Path, target: str) -> str:
    from conftest import Runner  # noqa: PLC0415

    result = Runner()("env", target, env={"UKTOOLCHAIN_HOME": str(home), "UKTOOLCHAIN_OCAML": SET})
    assert result.returncode == 0, result.stderr
    return result.stdout


def configure(home: Path, cli: tuple[Path, Path], project: Path, mirage_target: str) -> None:
    """tutorial/hello in ``project``, `mirage configure -t`, and its duniverse as `make pull` leaves it."""
    shutil.copytree(MIRAGE / "skeleton" / "tutorial" / "hello", project)
    bindir, libdir = cli
    configured = shell_with_env(env_script(home, "unix"),
                                f"export PATH={bindir}:$PATH OCAMLPATH={libdir} && cd {project} && "
                                f"mirage configure -t {mirage_target} 2>&1")
    assert configured.returncode == 0, configured.stdout
    # mirage's generated layout, as the build below uses it.
    for name in ("Makefile", "dune", "dune.build", "dune-project", "dune-workspace", "mirage/main.ml",
                 "mirage/manifest.json", "dist/dune"):
        assert (project / name).is_file(), name
    workspace = (project / "dune-workspace").read_text()
    assert re.search(r"\(name solo5\)\s*\(host default\)\s*\(toolchain solo5\)", workspace), workspace
    assert f'-cclib "-z solo5-abi={mirage_target}"' in (project / "dune.build").read_text()
    shutil.copytree(MIRAGE / f"duniverse-{SET}", project / "duniverse", symlinks=True, copy_function=os.link)


def make_build(home: Path, target: str, project: Path) -> None:
    """mirage's own build command in the environment of one target, and nothing else."""
    built = shell_with_env(env_script(home, target), f"cd {project} && make build 2>&1")
    assert built.returncode == 0, built.stdout[-6000:]


def expect_hello_to_the_end(child: pexpect.spawn, binding_prefix: str) -> None:
    """tutorial/hello's four log lines, its clean solo5_exit(0), and the tender or QEMU exiting 0."""
    for _ in range(4):
        child.expect(HELLO)
    child.expect(rf"{binding_prefix}: solo5_exit\(0\) called")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before


def test_the_sources_are_the_versions_this_test_claims():
    duniverse = MIRAGE / f"duniverse-{SET}"
    assert re.fullmatch(r"===== 6\.\d+\.\d+ =====", first_heading(duniverse / "lwt" / "CHANGES"))
    assert first_heading(duniverse / "mirage" / "CHANGES.md").startswith("### v4.11.")
    assert first_heading(duniverse / "mirage-solo5" / "CHANGES.md").startswith("## v0.10.")


def test_spt_boots_under_solo5_spt(toolchains, mirage_cli, tmp_path, uk, monkeypatch):
    project = tmp_path / "hello"
    configure(toolchains, mirage_cli, project, "spt")
    make_build(toolchains, "spt", project)
    # In the project mirage configured, `uktoolchain workspace` writes nothing and says what to run.
    monkeypatch.setenv("UKTOOLCHAIN_HOME", str(toolchains))
    refused = uk("workspace", "spt", "-o", str(project / "dune-workspace"), env={"UKTOOLCHAIN_OCAML": SET})
    assert refused.returncode == 3 and "is a MirageOS project configured for spt" in refused.stderr
    assert 'eval "$(uktoolchain env spt)" && make build' in refused.stderr

    values = json.loads(uk("env", "spt", "--json", env={"UKTOOLCHAIN_OCAML": SET}, check=True).stdout)
    child = pexpect.spawn("solo5-spt", [str(project / "dist" / "hello.spt")], env=values, encoding="utf-8", timeout=60)
    child.expect("Solo5: Bindings version v0.12.1")
    expect_hello_to_the_end(child, "Solo5")


def test_hvt_links_with_the_hvt_abi(toolchains, mirage_cli, tmp_path):
    project = tmp_path / "hello"
    configure(toolchains, mirage_cli, project, "hvt")
    make_build(toolchains, "hvt", project)
    image = project / "dist" / "hello.hvt"
    abi = shell_with_env(env_script(toolchains, "hvt"), f"solo5-elftool query-abi {image}")
    assert json.loads(abi.stdout)["target"] == "hvt", abi.stdout + abi.stderr


def test_aarch64_rpi4_boots_under_qemu_raspi4b(toolchains, mirage_cli, tmp_path, uk, monkeypatch):
    """mirage has no rpi4 target: configure for hvt, link with the rpi4 binding (the one documented
    step, README "MirageOS"), build in the aarch64-rpi4 environment, where (toolchain solo5) is
    the aarch64 cross-compiler, and boot the kernel8.img that `uktoolchain image` makes."""
    project = tmp_path / "hello"
    configure(toolchains, mirage_cli, project, "hvt")
    dune_build = project / "dune.build"
    dune_build.write_text(dune_build.read_text().replace("-z solo5-abi=hvt", "-z solo5-abi=rpi4"))
    make_build(toolchains, "aarch64-rpi4", project)
    image = project / "dist" / "hello.hvt"
    info = elf.read(image)
    assert info.machine_name == "aarch64" and info.solo5_abi().binding == "rpi4", info.describe()

    monkeypatch.setenv("UKTOOLCHAIN_HOME", str(toolchains))
    boot = tmp_path / "boot"
    made = uk("image", "aarch64-rpi4", str(image), "--boot-dir", str(boot), env={"UKTOOLCHAIN_OCAML": SET})
    assert made.returncode == 0, made.stderr
    child = pexpect.spawn("qemu-system-aarch64", ["-M", "raspi4b", "-kernel", str(boot / "kernel8.img"), "-nographic",
                                                  "-no-reboot", "-serial", "stdio", "-monitor", "none"],
                          encoding="utf-8", timeout=120)
    expect_hello_to_the_end(child, "rpi4")
