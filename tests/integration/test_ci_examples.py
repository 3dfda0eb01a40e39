"""The CI examples in ci/examples run as written: each is parsed, and its uktoolchain commands run
in order (other commands, like `pip install` or `dune build`, are left out) against the synthetic
index and a real conan_server, with the CI system's cache emulated around them.

Three runs on three "runners" (fresh workspaces and homes): the first builds, pushes and saves the
cache; the second restores the cache and does nothing; the third has no cache and downloads from
the remote without building.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "ci" / "examples"
USES_UKTOOLCHAIN = re.compile(r"(^|\$\(|;\s*then\s+|&&\s*)uktoolchain\s")


def uktoolchain_lines(script: str) -> list[str]:
    """The lines of a shell script that run uktoolchain; the others are not ours to test."""
    return [line for line in script.splitlines() if USES_UKTOOLCHAIN.search(line.strip())]


def run_shell(lines: list[str], env: dict, cwd: Path) -> str:
    """Run lines with bash -e, `uktoolchain` being this checkout's CLI; return the output."""
    bin_dir = cwd.parent / "bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "uktoolchain"
    # This checkout's sources, whatever the working directory (PYTHONPATH may be relative).
    pythonpath = os.pathsep.join([str(REPO / "src"), *[str(Path(p).absolute()) for p in
                                                       os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]])
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH={pythonpath} exec {sys.executable} -m uktoolchain "$@"\n')
    wrapper.chmod(0o755)
    full_env = {**os.environ, **env, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-e", "-c", "\n".join(lines)], cwd=cwd, env=full_env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{lines}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout + result.stderr


def runner(tmp_path: Path, name: str, index: Path) -> Path:
    """A fresh runner: a workspace holding the project's uktoolchain.lock."""
    workspace = tmp_path / name / "workspace"
    workspace.mkdir(parents=True)
    shutil.copy(tmp_path / "uktoolchain.lock", workspace / "uktoolchain.lock")
    return workspace


# -- GitHub Actions ---------------------------------------------------------------------------


class GitHubRun:
    """Just enough of GitHub Actions: env, ${{ }} expressions, step outputs, if:, actions/cache."""

    def __init__(self, workflow: dict, workspace: Path, secrets: dict, cache_store: Path, overrides: dict):
        self.workflow = workflow
        self.workspace = workspace
        self.secrets = secrets
        self.cache_store = cache_store
        self.overrides = overrides
        self.outputs: dict[str, dict[str, str]] = {}
        self.log = ""

    def value(self, path: str, env: dict) -> str:
        context, _, rest = path.partition(".")
        if context == "secrets":
            return self.secrets[rest]
        if context == "env":
            return env[rest]
        if context == "steps":
            step, _, output = rest.partition(".outputs.")
            return self.outputs.get(step, {}).get(output, "")
        return {"github.workspace": str(self.workspace), "github.ref": "refs/heads/main"}[path]

    def expand(self, text: str, env: dict) -> str:
        return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: self.value(m.group(1), env), str(text))

    def condition(self, expression: str, env: dict) -> bool:
        for clause in expression.split("&&"):
            left, operator, right = re.match(r"\s*([\w.-]+)\s*(==|!=)\s*'([^']*)'\s*$", clause).groups()
            if (self.value(left, env) == right) != (operator == "=="):
                return False
        return True

    def run(self, job_name: str) -> str:
        job = self.workflow["jobs"][job_name]
        env: dict[str, str] = {}
        for scope in (self.workflow.get("env", {}), job.get("env", {})):
            env.update({k: self.expand(v, env) for k, v in scope.items()})
        env.update(self.overrides)
        saves = []
        for step in job["steps"]:
            if "if" in step and not self.condition(step["if"], env):
                continue
            uses = step.get("uses", "")
            if uses.startswith("actions/cache@"):
                saves.append(self.restore(step, env))
            elif "run" in step:
                lines = uktoolchain_lines(self.expand(step["run"], env))
                if lines:
                    self.run_step(step, lines, env)
        for save in saves:
            save()
        return self.log

    def run_step(self, step: dict, lines: list[str], env: dict) -> None:
        output_file = self.workspace.parent / "github_output"
        output_file.write_text("")
        self.log += run_shell(lines, {**env, "GITHUB_OUTPUT": str(output_file)}, self.workspace)
        outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
        if "id" in step:
            self.outputs[step["id"]] = outputs

    def restore(self, step: dict, env: dict):
        path = Path(self.expand(step["with"]["path"], env))
        key = self.expand(step["with"]["key"], env)
        assert key and str(path) not in ("", "."), "the cache step needs a key and a path"
        entry = self.cache_store / key
        hit = entry.is_dir()
        if hit:
            shutil.copytree(entry, path, symlinks=True, dirs_exist_ok=True)
        self.outputs[step["id"]] = {"cache-hit": "true" if hit else "false"}

        def save() -> None:  # the action's post step: saves under the key unless it was a hit
            if not hit and path.is_dir():
                shutil.copytree(path, entry, symlinks=True)

        return save


def test_github_actions_example(uk, index, conan_server, tmp_path):
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    uk("lock", "tiny", "-o", str(tmp_path / "uktoolchain.lock"),
       env={"UKTOOLCHAIN_HOME": str(tmp_path / "locker")}, check=True)
    secrets = {"UKTOOLCHAIN_REMOTE_URL": conan_server.url, "UKTOOLCHAIN_REMOTE_USER": conan_server.user,
               "UKTOOLCHAIN_REMOTE_PASSWORD": conan_server.password}
    overrides = {"UKTOOLCHAIN_TARGETS": "tiny"}
    cache = tmp_path / "actions-cache"
    cache.mkdir()
    [job] = workflow["jobs"]

    first = GitHubRun(workflow, runner(tmp_path, "run1", index), secrets, cache, overrides).run(job)
    assert "installed: tiny (built alpha, beta, gamma)" in first
    assert "pushed tiny to ci: 4 recipe(s) and 3 package(s) uploaded" in first
    [key] = [p.name for p in cache.iterdir()]
    assert key == uk("cache-key", "tiny", check=True).stdout.strip()

    second = GitHubRun(workflow, runner(tmp_path, "run2", index), secrets, cache, overrides).run(job)
    assert "up to date: tiny" in second and "pushed" not in second

    empty = tmp_path / "no-cache"
    empty.mkdir()
    third = GitHubRun(workflow, runner(tmp_path, "run3", index), secrets, empty, overrides).run(job)
    assert "installed: tiny (nothing to build; downloaded alpha from ci, beta from ci, gamma from ci)" in third
    assert "pushed tiny to ci: 0 recipe(s) and 0 package(s) uploaded" in third


# -- GitLab CI --------------------------------------------------------------------------------


def gitlab_expand(text: str, env: dict) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), str(text))


def run_gitlab_job(config: dict, job_name: str, workspace: Path, variables: dict, cache_store: Path) -> str:
    job = config[job_name]
    env = dict(variables)
    for name, value in {**config.get("variables", {}), **job.get("variables", {})}.items():
        env.setdefault(name, gitlab_expand(value, env))
    cache = job["cache"]
    files = cache["key"]["files"]
    digest = hashlib.sha256(b"".join((workspace / f).read_bytes() for f in files)).hexdigest()[:16]
    key = f"{gitlab_expand(cache['key']['prefix'], env)}-{digest}"
    entry = cache_store / key
    for relative in cache["paths"]:
        if (entry / relative).is_dir():
            shutil.copytree(entry / relative, workspace / relative, symlinks=True)
    lines = [line for command in job["script"] for line in uktoolchain_lines(command)]
    log = run_shell(lines, env, workspace)
    for relative in cache["paths"]:  # GitLab saves the cache after every successful job
        if (workspace / relative).is_dir():
            shutil.rmtree(entry / relative, ignore_errors=True)
            shutil.copytree(workspace / relative, entry / relative, symlinks=True)
    return log


def test_gitlab_ci_example(uk, index, conan_server, tmp_path):
    config = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())
    uk("lock", "tiny", "-o", str(tmp_path / "uktoolchain.lock"),
       env={"UKTOOLCHAIN_HOME": str(tmp_path / "locker")}, check=True)
    cache = tmp_path / "gitlab-cache"
    cache.mkdir()

    def variables(workspace: Path) -> dict:
        return {"CI_PROJECT_DIR": str(workspace), "CI_RUNNER_EXECUTABLE_ARCH": "linux/amd64",
                "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main", "UKTOOLCHAIN_TARGETS": "tiny",
                "UKTOOLCHAIN_REMOTE_URL": conan_server.url, "CONAN_LOGIN_USERNAME_CI": conan_server.user,
                "CONAN_PASSWORD_CI": conan_server.password}

    first_ws = runner(tmp_path, "job1", index)
    first = run_gitlab_job(config, "toolchains", first_ws, variables(first_ws), cache)
    assert "installed: tiny (built alpha, beta, gamma)" in first
    assert "pushed tiny to ci: 4 recipe(s) and 3 package(s) uploaded" in first
    assert uk("cache-key", "tiny", check=True).stdout.strip() in first

    second_ws = runner(tmp_path, "job2", index)  # same lock: the cache is restored
    second = run_gitlab_job(config, "toolchains", second_ws, variables(second_ws), cache)
    assert "up to date: tiny" in second

    third_ws = runner(tmp_path, "job3", index)
    fresh_cache = tmp_path / "other-cache"
    fresh_cache.mkdir()
    third = run_gitlab_job(config, "toolchains", third_ws, variables(third_ws), fresh_cache)
    assert "installed: tiny (nothing to build; downloaded alpha from ci, beta from ci, gamma from ci)" in third
