"""ocaml-lsp-server end to end (opt-in): `install unix --with lsp` builds ocamllsp with the set's
own OCaml against its merlin, and ocamllsp answers an editor's JSON-RPC over stdio (initialize,
didOpen, textDocument/hover) about a dune project, with the hover types checked.

ocaml-lsp-server and its duniverse are reachable here only as repository snapshots:
UKTOOLCHAIN_TEST_LSP_SOURCES names a directory holding, per set, the tree that
`ci/assemble-duniverse.py ocaml-lsp-server VERSION DIR/ocaml-lsp-server-VERSION` makes. The rest
(merlin, menhir, yojson; the host toolchain) is what test_merlin needs for the same set.
UKTOOLCHAIN_TEST_LSP_HOME, when set, is a home to install into (reused), else a fresh one.
"""
from __future__ import annotations

import json
import os
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

from conftest import shell_with_env
from set_sources import SETS
from test_merlin import Home, lacking, solo5_missing, spt_project, write_project
from uktoolchain.resources import RecipeIndex
from uktoolchain.targets import Catalogue

LSP_SOURCES = Path(os.environ.get("UKTOOLCHAIN_TEST_LSP_SOURCES", "/nonexistent"))
LSP_HOME = os.environ.get("UKTOOLCHAIN_TEST_LSP_HOME")

pytestmark = pytest.mark.slow


def lsp_version(toolset: str) -> str:
    return Catalogue.load(RecipeIndex.discover().catalogue_file).sets[toolset].versions["ocaml-lsp-server"]


@pytest.fixture(scope="module", params=SETS)
def home(request, tmp_path_factory):
    toolset = request.param
    tree = LSP_SOURCES / f"ocaml-lsp-server-{lsp_version(toolset)}"
    why = lacking(toolset) or (None if tree.is_dir() else
                               f"lacks {tree} (UKTOOLCHAIN_TEST_LSP_SOURCES: ci/assemble-duniverse.py)")
    if why:
        pytest.skip(f"opt-in, OCaml {toolset} set: {why}")
    root = Path(LSP_HOME) if LSP_HOME else tmp_path_factory.mktemp(f"lsp{toolset}") / "home"
    state = Home(root, toolset)
    state.lsp_source = ("--source", f"ocaml-lsp-server={tree}")
    result = state("install", "unix", "--with", "lsp", "--plain", *state.sources(), *state.lsp_source, timeout=5400)
    assert result.returncode == 0, result.stderr[-4000:]
    yield state


class LanguageServer:
    """An ocamllsp process driven over stdio with LSP's Content-Length framing."""

    def __init__(self, env_script: str, root: Path):
        self.process = subprocess.Popen(
            ["sh", "-c", f"{env_script}\nexec ocamllsp"], cwd=root, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")})
        self.next_id = 0
        self.buffer = b""

    def send(self, method: str, params: dict, request: bool = True) -> int | None:
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()
        return message.get("id")

    def request(self, method: str, params: dict, timeout: float = 120) -> dict:
        wanted = self.send(method, params)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message.get("id") == wanted and "method" not in message:
                assert "error" not in message, message
                return message["result"]

    def _read(self, deadline: float) -> dict:
        while True:
            header, found, rest = self.buffer.partition(b"\r\n\r\n")
            if found:
                length = int(next(line.split(b":")[1] for line in header.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                if len(rest) >= length:
                    self.buffer = rest[length:]
                    return json.loads(rest[:length])
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, remaining))
            chunk = os.read(self.process.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                self.process.kill()
                raise AssertionError(f"ocamllsp gave no answer in time: {self.process.stderr.read()[-3000:]!r}")
            self.buffer += chunk

    def close(self) -> None:
        try:
            self.request("shutdown", {}, timeout=30)
            self.send("exit", {}, request=False)
            self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def hover(server: LanguageServer, uri: str, line: int, character: int) -> str:
    result = server.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                   "position": {"line": line, "character": character}})
    assert result is not None, (line, character)
    contents = result["contents"]
    return contents["value"] if isinstance(contents, dict) else str(contents)


def first_code_block(markdown: str) -> str:
    """`string` out of "```ocaml\\nstring\\n```..." (ocamllsp's markdown hover)."""
    if markdown.startswith("```"):
        return markdown.split("\n", 1)[1].split("```", 1)[0].strip()
    return markdown.strip()


def test_ocamllsp_is_built_by_the_sets_ocaml(home):
    script = home("env", "unix", check=True).stdout
    found = shell_with_env(script, "command -v ocamllsp").stdout.strip()
    assert found.startswith(str(home.root)), found
    version = shell_with_env(script, "ocamllsp --version").stdout.strip()
    assert version == lsp_version(home.toolset), version
    # Relocatable: the binary names no folder of the machine that built it.
    assert str(home.root).encode() not in Path(found).read_bytes()
    # doctor names an ocamllsp of this set (unikernel targets first: in a reused home that may be
    # spt's, from an earlier build of the same version).
    report = home("doctor", "editor", check=True).stdout
    named = re.search(r"VS Code \(OCaml Platform\) runs ocamllsp: (\S+) \((\S+)\);", report)
    assert named and named.group(2) == version, report
    assert named.group(1) == found or subprocess.run([named.group(1), "--version"], capture_output=True,
                                                     text=True).stdout.strip() == version, report


def open_main(server: LanguageServer, project: Path, version: str) -> str:
    """initialize, initialized and didOpen of bin/main.ml, as an editor starts; its URI."""
    init = server.request("initialize", {"processId": os.getpid(), "rootUri": project.as_uri(),
                                         "capabilities": {"textDocument": {"hover": {
                                             "contentFormat": ["markdown", "plaintext"]}}}})
    assert init["capabilities"]["hoverProvider"], init
    assert init["serverInfo"]["version"] == version, init["serverInfo"]
    server.send("initialized", {}, request=False)
    main = project / "bin" / "main.ml"
    server.send("textDocument/didOpen", {"textDocument": {
        "uri": main.as_uri(), "languageId": "ocaml", "version": 1, "text": main.read_text()}}, request=False)
    return main.as_uri()


def test_ocamllsp_answers_hover_about_a_project(home, tmp_path):
    script = home("env", "unix", check=True).stdout
    project = write_project(tmp_path / "proj")
    built = shell_with_env(script, f"cd {project} && dune build 2>&1")
    assert built.returncode == 0, built.stdout
    server = LanguageServer(script, project)
    try:
        uri = open_main(server, project, lsp_version(home.toolset))
        assert first_code_block(hover(server, uri, 1, 25)) == "string"  # `greeting` in print_endline greeting
        assert first_code_block(hover(server, uri, 2, 29)) == "int"     # Uk_answer.answer, a project library
        # Str.global_replace: a library of the set's OCaml, found through dune's configuration.
        assert first_code_block(hover(server, uri, 0, 20)) == "Str.regexp -> string -> string -> string"
    finally:
        server.close()


@pytest.mark.skipif(bool(solo5_missing), reason=f"host lacks {solo5_missing}")
def test_ocamllsp_answers_from_the_spt_context(home, tmp_path):
    """A unikernel project: ocamllsp answers from the spt context (the workspace's (merlin)), about
    a library only the solo5 findlib toolchain has."""
    script, project = spt_project(home, tmp_path, "lsp", home.lsp_source)
    server = LanguageServer(script, project)
    try:
        uri = open_main(server, project, lsp_version(home.toolset))
        assert first_code_block(hover(server, uri, 1, 27)) == "int -> int"  # Ukcross.pages
        assert first_code_block(hover(server, uri, 0, 33)) == "string"      # Ukcross.platform
    finally:
        server.close()
