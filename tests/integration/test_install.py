"""install / env / list on the synthetic index, with the real Conan engine and a real HTTP server."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

from conftest import shell_with_env


def test_install_builds_dependencies_first_and_env_makes_tools_usable(uk, index, server):
    result = uk("install", "tiny", "--plain", check=True)
    lines = result.stderr.splitlines()
    alpha_done = next(i for i, l in enumerate(lines) if l.startswith("alpha: done in "))  # any duration: load varies
    assert alpha_done < min(i for i, l in enumerate(lines) if l.startswith(("beta: build", "gamma: build")))
    assert "installed: tiny (built alpha, beta, gamma)" in result.stderr
    script = uk("env", "tiny", check=True).stdout
    ran = shell_with_env(script, "alpha && beta && gamma")
    assert ran.stdout.splitlines() == ["hello from alpha", "hello from beta", "hello from gamma"], ran.stderr
    assert sorted(server.state.requests) == ["/alpha-1.0.tar.gz", "/beta-1.0.tar.gz", "/gamma-1.0.tar.gz"]


def test_second_install_is_a_noop_without_importing_conan(uk, index, isolated_home):
    uk("install", "tiny", "--plain", check=True)
    probe = (
        "import sys\n"
        "from uktoolchain.cli.main import main\n"
        "code = main(['install', 'tiny'])\n"
        "print(code, 'conan' in sys.modules, 'rich' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "False", "False"]
    assert "up to date: tiny" in result.stderr


def test_changed_recipe_is_not_a_noop(uk, index):
    uk("install", "solo", "--plain", check=True)
    recipe = index / "recipes" / "alpha" / "conanfile.py"
    recipe.write_text(recipe.read_text() + "\n# a change in the recipe changes its revision\n")
    result = uk("install", "solo", "--plain", check=True)
    assert "alpha: done" in result.stderr and "up to date" not in result.stderr


def test_targets_sharing_a_component_share_its_build(uk, index):
    uk("install", "solo", "--plain", check=True)
    result = uk("install", "tiny", "--plain", check=True)
    assert "alpha: cached" in result.stderr
    assert "built beta, gamma" in result.stderr


def test_env_json_and_fish(uk, index, isolated_home):
    uk("install", "solo", "--plain", check=True)
    values = json.loads(uk("env", "solo", "--json", check=True).stdout)
    assert values["ALPHA_HOME"].startswith(str(isolated_home / "conan"))
    assert values["PATH"].split(":")[0] == values["ALPHA_HOME"] + "/bin"
    assert values["UKTOOLCHAIN_TARGET"] == "solo"
    fish = uk("env", "solo", "--shell", "fish", check=True).stdout
    assert f"set -gx PATH '{values['ALPHA_HOME']}/bin' $PATH" in fish or f"set -gx PATH {values['ALPHA_HOME']}/bin $PATH" in fish
    findlib_conf = open(values["OCAMLFIND_CONF"]).read()
    assert f'destdir="{isolated_home}/site/default/solo/lib"' in findlib_conf
    assert 'ldconf="ignore"' in findlib_conf


def test_list_shows_installed_and_planned(uk, index):
    before = uk("list", check=True).stdout
    assert "solo" in before and "not installed" in before and "not yet available" in before
    uk("install", "solo", "--plain", check=True)
    row = next(l for l in uk("list", check=True).stdout.splitlines() if l.startswith("solo"))
    assert "installed" in row and "alpha 1.0" in row


def test_copied_home_works_without_rebuild(uk, index, tmp_path, isolated_home):
    """Relocation: nothing in a package or stamp depends on where the home is."""
    uk("install", "tiny", "--plain", check=True)
    moved = tmp_path / "elsewhere" / "home2"
    shutil.copytree(isolated_home, moved, symlinks=True)
    shutil.rmtree(isolated_home)
    env = {"UKTOOLCHAIN_HOME": str(moved)}
    assert "up to date: tiny" in uk("install", "tiny", env=env, check=True).stderr
    script = uk("env", "tiny", env=env, check=True).stdout
    assert str(isolated_home) not in script
    ran = shell_with_env(script, "alpha && gamma")
    assert ran.stdout.splitlines() == ["hello from alpha", "hello from gamma"], ran.stderr
    package_folders = [str(moved / "conan" / p["folder"]) for p in json.loads((moved / "state" / "installed" / "default" / "tiny.json").read_text())["packages"]]
    assert len(package_folders) == 3
    leftovers = subprocess.run(["grep", "-rl", str(isolated_home), *package_folders], capture_output=True, text=True)
    assert leftovers.returncode == 1 and leftovers.stdout == ""


def test_new_dependency_revision_rebuilds_dependants(uk, index):
    """package_id covers dependencies' full identity: a changed alpha recipe rebuilds beta and gamma."""
    uk("install", "tiny", "--plain", check=True)
    recipe = index / "recipes" / "alpha" / "conanfile.py"
    recipe.write_text(recipe.read_text() + "\n# new revision\n")
    result = uk("install", "tiny", "--plain", check=True)
    assert "built alpha, beta, gamma" in result.stderr


def test_our_patches_are_applied_and_part_of_the_identity(uk, index, isolated_home):
    uk("install", "solo", "--plain", check=True)
    before = json.loads((isolated_home / "state" / "installed" / "default" / "solo.json").read_text())["packages"][0]["ref"]
    patch_dir = index / "patches" / "alpha"
    patch_dir.mkdir(parents=True)
    (patch_dir / "1.0-0001-greeting.patch").write_text(
        "--- a/build.sh\n+++ b/build.sh\n@@ -8,3 +8,3 @@\n"
        ' if [ -n "$SYNTH_LIST_BUILD_FOLDERS" ]; then ls -d "$CONAN_HOME"/p/b/*/b > "$SYNTH_LIST_BUILD_FOLDERS/alpha" || true; fi\n'
        '-echo "hello from alpha" > "$out/share/greeting"\n'
        '+echo "hello from patched alpha" > "$out/share/greeting"\n'
        ' cat > "$out/bin/alpha" <<\'EOF\'\n'
    )
    result = uk("install", "solo", "--plain", check=True)
    assert "built alpha" in result.stderr
    after = json.loads((isolated_home / "state" / "installed" / "default" / "solo.json").read_text())["packages"][0]["ref"]
    assert after != before
    ran = shell_with_env(uk("env", "solo", check=True).stdout, "alpha")
    assert ran.stdout.strip() == "hello from patched alpha", ran.stderr
