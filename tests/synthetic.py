"""A small, real recipe index for fast tests and benchmarks.

Components: ``alpha`` (a tool with data it finds through its environment), ``beta`` and ``gamma``
(each requires alpha; independent of each other, so they can build side by side). Their sources
are tarballs made here and served over HTTP on 127.0.0.1. Each source has a ``build.sh`` the recipe
runs, which honours SYNTH_SLEEP / SYNTH_FAIL_<NAME> so tests can make a build slow or fail
(SYNTH_FAIL_PACKAGE_<NAME>: fail in package() instead).
"""
from __future__ import annotations

import hashlib
import http.server
import io
import os
import shutil
import tarfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

RECIPE = '''\
import os
from conan import ConanFile
from conan.errors import ConanException
from conan.tools.files import copy


class Synthetic(ConanFile):
    name = "{name}"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    uk_requires = {deps!r}

    def build(self):
        self.run(f"sh {{self.source_folder}}/build.sh {{self.build_folder}}")

    def package(self):
        if os.environ.get("SYNTH_FAIL_PACKAGE_{upper}"):
            raise ConanException("{name}: packaging is told to fail")
        copy(self, "*", os.path.join(self.build_folder, "out"), self.package_folder)

    def package_info(self):
        self.runenv_info.prepend_path("PATH", os.path.join(self.package_folder, "bin"))
        self.runenv_info.define_path("{upper}_HOME", self.package_folder)
        self.runenv_info.prepend_path("OCAMLPATH", os.path.join(self.package_folder, "lib"))
'''

BUILD_SH = '''\
set -e
out="$1/out"
mkdir -p "$out/bin" "$out/share" "$out/lib"
echo "building {name}"
if [ -n "$SYNTH_SLEEP" ]; then echo "sleeping $SYNTH_SLEEP"; sleep "$SYNTH_SLEEP"; fi
if [ -n "$SYNTH_FAIL_{upper}" ]; then echo "error: {name} is told to fail" >&2; exit 3; fi
# SYNTH_LIST_BUILD_FOLDERS: record which build folders exist in the cache while this one builds.
if [ -n "$SYNTH_LIST_BUILD_FOLDERS" ]; then ls -d "$CONAN_HOME"/p/b/*/b > "$SYNTH_LIST_BUILD_FOLDERS/{name}" || true; fi
echo "{greeting}" > "$out/share/greeting"
cat > "$out/bin/{name}" <<'EOF'
#!/bin/sh
cat "${upper}_HOME/share/greeting"
EOF
chmod +x "$out/bin/{name}"
# A padded source makes a big package too (uploads and downloads worth measuring).
if [ -f "$(dirname "$0")/padding.bin" ]; then cp "$(dirname "$0")/padding.bin" "$out/share/"; fi
'''

COMPONENTS = {"alpha": (), "beta": ("alpha",), "gamma": ("alpha",)}


def make_tarball(name: str, greeting: str, padding: int = 0) -> bytes:
    """A source tarball; ``padding`` adds incompressible bytes to make downloads measurable."""
    files = {"build.sh": BUILD_SH.format(name=name, upper=name.upper(), greeting=greeting)}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for relative, content in files.items():
            data = content.encode()
            info = tarfile.TarInfo(f"{name}-1.0/{relative}")
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
        if padding:
            data = os.urandom(padding)
            info = tarfile.TarInfo(f"{name}-1.0/padding.bin")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with Range support; counts requests; can cut one response short. Takes PUT
    too (written whole, then renamed), like the plain file stores used as sources-backup servers."""

    server_version = "synthetic"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_PUT(self) -> None:
        state: ServerState = self.server.state  # type: ignore[attr-defined]
        state.requests.append(f"PUT {self.path}")
        target = Path(self.translate_path(self.path))
        if not state.writable or target.parent != Path(self.directory):
            self.send_error(405)
            return
        length = int(self.headers.get("Content-Length", 0))
        partial = target.with_name(f".{target.name}.part")
        with open(partial, "wb") as stream:
            remaining = length
            while remaining:
                chunk = self.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                stream.write(chunk)
                remaining -= len(chunk)
        if remaining:
            partial.unlink()
            self.send_error(400)
            return
        partial.replace(target)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        state: ServerState = self.server.state  # type: ignore[attr-defined]
        state.requests.append(self.path)
        state.ranges.append(self.headers.get("Range"))
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        if "Range" in self.headers:
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = state.cut_once.pop(path.name, None)
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(2)  # drop the connection mid-body
            return
        if state.throttle:  # slow download: small chunks with pauses
            for offset in range(0, len(body), 16384):
                self.wfile.write(body[offset:offset + 16384])
                self.wfile.flush()
                time.sleep(state.throttle)
            return
        self.wfile.write(body)


@dataclass
class ServerState:
    requests: list[str] = field(default_factory=list)
    ranges: list[str | None] = field(default_factory=list)
    cut_once: dict[str, int] = field(default_factory=dict)
    throttle: float = 0.0
    writable: bool = False  # accept PUT


class FileServer:
    def __init__(self, root: Path):
        self.root = root
        handler = lambda *a, **kw: RangeHandler(*a, directory=str(root), **kw)  # noqa: E731
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.state = ServerState()  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def state(self) -> ServerState:
        return self.httpd.state  # type: ignore[attr-defined]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def __enter__(self) -> "FileServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def dead_url(name: str) -> str:
    """A loopback URL nobody listens on (port 9 is 'discard', closed here)."""
    return f"http://127.0.0.1:9/{name}"


def write_index(root: Path, server: FileServer, padding: int = 0, urls: dict[str, list[str]] | None = None) -> Path:
    """Recipes, patches and a catalogue under ``root``; tarballs in the server's directory.

    ``urls`` may give a component its own URL list (e.g. a dead mirror first).
    """
    (root / "recipes").mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "recipes" / "ukbase", root / "recipes" / "ukbase", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name, deps in COMPONENTS.items():
        tarball = make_tarball(name, f"hello from {name}", padding if name == "alpha" else 0)
        (server.root / f"{name}-1.0.tar.gz").write_bytes(tarball)
        recipe = root / "recipes" / name
        recipe.mkdir(exist_ok=True)
        (recipe / "conanfile.py").write_text(RECIPE.format(name=name, deps=list(deps), upper=name.upper()))
        component_urls = (urls or {}).get(name, [server.url(f"{name}-1.0.tar.gz")])
        url_lines = "".join(f"      - {u}\n" for u in component_urls)
        requires = "".join(f'\n    {dep}: "[>=1.0 <2]"' for dep in deps)
        (recipe / "conandata.yml").write_text(
            f'sources:\n  "1.0":\n    url:\n{url_lines}    sha256: "{hashlib.sha256(tarball).hexdigest()}"\n'
            + (f'requires:\n  "1.0":{requires}\n' if deps else "")
        )
    (root / "patches").mkdir(exist_ok=True)
    (root / "recipes" / "targets.toml").write_text(
        '[components]\nalpha = "1.0"\nbeta = "1.0"\ngamma = "1.0"\n\n'
        '[targets.solo]\ndescription = "alpha alone"\ncomponents = ["alpha"]\n\n'
        '[targets.tiny]\ndescription = "alpha, beta, gamma"\ncomponents = ["alpha", "beta", "gamma"]\n\n'
        '[targets.later]\ndescription = "planned"\navailable = false\n'
    )
    return root


def write_two_set_index(root: Path, server: FileServer) -> Path:
    """The synthetic index with two toolchain sets: "2" (the default) has alpha 2.0, "1" alpha 1.0; both
    have beta 1.0 and gamma 1.0 (built against their set's alpha). alpha 2.0 greets differently."""
    write_index(root, server)
    tarball = make_tarball("alpha", "hello from alpha 2")
    (server.root / "alpha-2.0.tar.gz").write_bytes(tarball)
    data = root / "recipes" / "alpha" / "conandata.yml"
    data.write_text(data.read_text().replace("sources:\n", (
        f'sources:\n  "2.0":\n    url:\n      - {server.url("alpha-2.0.tar.gz")}\n'
        f'    sha256: "{hashlib.sha256(tarball).hexdigest()}"\n'
        ), 1))
    catalogue = root / "recipes" / "targets.toml"
    catalogue.write_text(catalogue.read_text().replace(
        '[components]\nalpha = "1.0"\nbeta = "1.0"\ngamma = "1.0"\n',
        '[components]\nbeta = "1.0"\ngamma = "1.0"\n\n'
        '[sets."2"]\ndescription = "alpha 2"\nalpha = "2.0"\n\n'
        '[sets."1"]\ndescription = "alpha 1"\nalpha = "1.0"\n'))
    for name in ("beta", "gamma"):  # built with either alpha
        data = root / "recipes" / name / "conandata.yml"
        data.write_text(data.read_text().replace('alpha: "[>=1.0 <2]"', 'alpha: "[>=1.0 <3]"'))
    return root


# -- a per-architecture component: two builds of one recipe revision ------------------------------

PER_ARCH_RECIPE = '''\
import os
from conan import ConanFile
from conan.tools.files import copy


class Delta(ConanFile):
    name = "delta"
    python_requires = "ukbase/1.0"
    python_requires_extend = "ukbase.UkPackage"
    options = {"target_arch": ["x86_64", "aarch64"]}
    default_options = {"target_arch": "x86_64"}

    def build(self):
        arch = str(self.options.target_arch)
        self.run(f"sh {self.source_folder}/build.sh {self.build_folder} {arch}")
        jobs = os.cpu_count() + 1  # more than make -j<cores> runs at once
        self.run(self.uk_make(f"-f {self.source_folder}/jobs.mk ARCH={arch} N={jobs}"), cwd=self.build_folder)

    def package(self):
        copy(self, "*", os.path.join(self.build_folder, "out"), self.package_folder)
'''

# With SYNTH_PROBE (a directory): each build waits until the other architecture's has started too
# (fails after 60 s), then runs make jobs that record how many jobs of both builds run at once.
PER_ARCH_BUILD_SH = '''\
set -e
mkdir -p "$1/out/share"
echo "delta for $2" > "$1/out/share/arch"
[ -n "$SYNTH_PROBE" ] || exit 0
mkdir -p "$SYNTH_PROBE/running"
touch "$SYNTH_PROBE/started-$2"
waited=0
while [ "$(ls "$SYNTH_PROBE" | grep -c '^started-')" -lt 2 ]; do
  waited=$((waited + 1))
  if [ "$waited" -gt 600 ]; then echo "error: the other build of delta never ran beside this one" >&2; exit 4; fi
  sleep 0.1
done
'''

PER_ARCH_JOBS_MK = '''\
all: $(addprefix job,$(shell seq 1 $(N)))
job%:
\t@if [ -n "$$SYNTH_PROBE" ]; then mkdir "$$SYNTH_PROBE/running/$(ARCH)-$@" && ls "$$SYNTH_PROBE/running" | wc -l >> "$$SYNTH_PROBE/counts" && sleep 0.3 && rmdir "$$SYNTH_PROBE/running/$(ARCH)-$@"; fi
'''


def write_per_arch_index(root: Path, server: FileServer) -> Path:
    """The synthetic index plus ``delta``, built once per target architecture (option
    target_arch), for targets ``dx`` (x86_64) and ``da`` (aarch64)."""
    write_index(root, server)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for relative, content in (("build.sh", PER_ARCH_BUILD_SH), ("jobs.mk", PER_ARCH_JOBS_MK)):
            data = content.encode()
            info = tarfile.TarInfo(f"delta-1.0/{relative}")
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    tarball = buffer.getvalue()
    (server.root / "delta-1.0.tar.gz").write_bytes(tarball)
    recipe = root / "recipes" / "delta"
    recipe.mkdir()
    (recipe / "conanfile.py").write_text(PER_ARCH_RECIPE)
    (recipe / "conandata.yml").write_text(
        f'sources:\n  "1.0":\n    url:\n      - {server.url("delta-1.0.tar.gz")}\n'
        f'    sha256: "{hashlib.sha256(tarball).hexdigest()}"\n')
    catalogue = root / "recipes" / "targets.toml"
    text = catalogue.read_text().replace("[components]\n", "[components]\ndelta = \"1.0\"\n")
    catalogue.write_text('per_arch = ["delta"]\n\n' + text +
                         '\n[targets.dx]\ndescription = "delta for x86_64"\narch = "x86_64"\ncomponents = ["delta"]\n'
                         '\n[targets.da]\ndescription = "delta for aarch64"\narch = "aarch64"\ncomponents = ["delta"]\n')
    return root


# -- a component built from another's source (conandata sources_from) ----------------------------

def write_shared_source_index(root: Path, server: FileServer) -> Path:
    """The synthetic index plus ``alphalib``, built from alpha's source archive (as nolibc-openlibm
    is from ocaml-solo5's): its conandata names no archive of its own, only ``sources_from:
    alpha``, and the catalogue gives it alpha's version. Target ``shared``: alpha and alphalib."""
    write_index(root, server)
    recipe = root / "recipes" / "alphalib"
    recipe.mkdir()
    (recipe / "conanfile.py").write_text(RECIPE.format(name="alphalib", deps=[], upper="ALPHALIB"))
    (recipe / "conandata.yml").write_text("sources_from: alpha\n")
    catalogue = root / "recipes" / "targets.toml"
    catalogue.write_text(catalogue.read_text().replace(
        "[targets.solo]",
        '[same_version_as]\nalphalib = "alpha"\n\n'
        '[targets.shared]\ndescription = "alpha and what is built from its source"\n'
        'components = ["alpha", "alphalib"]\n\n[targets.solo]', 1))
    return root
