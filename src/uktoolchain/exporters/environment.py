"""Environment of an installed target, rendered with this machine's paths at use time.

Packages publish templates (see engine.model.InstalledPackage); here they are composed in
dependency order and resolved against the current home. ocamlfind's configuration is rendered
here too (its compiled-in path is the build machine's), pointing its destdir at a per-target site
directory so ``ocamlfind install`` never writes into a package.
"""
from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from uktoolchain import atomic
from uktoolchain.engine.model import InstalledPackage
from uktoolchain.exporters import cargo, cross_c
from uktoolchain.home import Home, home_error
from uktoolchain.targets import Target

# The tools a findlib toolchain file names (ocamlcp is left out: it would run the host ocamlc).
CROSS_TOOLS = ("ocamlc", "ocamlopt", "ocamldep", "ocamlmklib")
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def compose(packages: list[InstalledPackage], conan_home: Path) -> dict[str, str]:
    """Variable -> value, where ``${VAR}`` still stands for the value before the toolchain."""
    values: dict[str, str] = {}
    for package in packages:
        for name, template in package.env:
            previous = values.get(name, "${" + name + "}")
            values[name] = template.replace("${" + name + "}", previous).replace("{conan_home}", str(conan_home))
    return values


def target_environment(home: Home, target: str, packages: list[InstalledPackage],
                       unikernels: list[Target] = ()) -> dict[str, str]:
    """Variables for ``target`` (a target name, or several joined by '+'); ``unikernels`` are
    the unikernel targets among them, which get C toolchain variables (see c_environment).

    OCAMLPATH is not exported: ocamlfind puts it in front of every toolchain's path, so a
    cross build would pick up host libraries. Its directories go into the rendered findlib.conf.
    """
    values = compose(packages, home.conan)
    ocamlpath = values.pop("OCAMLPATH", None)
    if ocamlpath is not None:
        site = home.site / target / "lib"
        try:
            values["OCAMLFIND_CONF"] = str(render_findlib_conf(home, target, site, ocamlpath))
            toolchains = cross_toolchains(packages, home.conan)
            for toolchain, sysroot in toolchains:
                render_findlib_toolchain(home, target, toolchain, sysroot)
            alias = upstream_alias(toolchains)
            if alias is not None:
                render_findlib_toolchain(home, target, UPSTREAM_TOOLCHAIN, alias[1], site_name=alias[0])
        except OSError as exc:  # a read-only or full home: say so, not a traceback
            raise home_error(home.root, exc) from exc
        values["CAML_LD_LIBRARY_PATH"] = f"{site}/stublibs:" + values.get("CAML_LD_LIBRARY_PATH", "${CAML_LD_LIBRARY_PATH}")
    try:  # targets installed with Rust: cargo's target, sysroot and toolchain
        values.update(cargo.cargo_environment(home, target, packages, values.get("PATH"), list(unikernels)))
    except OSError as exc:
        raise home_error(home.root, exc) from exc
    values["UKTOOLCHAIN_TARGET"] = target
    if unikernels:
        try:
            values.update(c_environment(home, list(unikernels), packages))
        except OSError as exc:
            raise home_error(home.root, exc) from exc
    return values


def c_environment(home: Home, unikernels: list[Target], packages: list[InstalledPackage]) -> dict[str, str]:
    """CMake toolchain files for every unikernel target (UKTOOLCHAIN_CMAKE_DIR/<target>.cmake)
    and, for a single target, CC/AR/..., UKTOOLCHAIN_CFLAGS/UKTOOLCHAIN_LDFLAGS and
    CMAKE_TOOLCHAIN_FILE (CMake >= 3.21 reads it from the environment). Several targets have no
    single CC: use their files, or the dune contexts of `uktoolchain workspace`, which set each
    context's own."""
    toolchains = cross_c.c_toolchains(packages, home.conan)
    directory = home.rendered / "cmake"
    values: dict[str, str] = {}
    files = {}
    for target in unikernels:
        toolchain = toolchains.get(target.arch)
        if toolchain is not None:
            files[target.name] = cross_c.render_cmake_toolchain(directory, target.name, toolchain, link_flags(target))
    if not files:
        return values
    values["UKTOOLCHAIN_CMAKE_DIR"] = str(directory)
    if len(unikernels) == 1 and unikernels[0].name in files:
        only = unikernels[0]
        values.update(cross_c.c_variables(toolchains[only.arch], link_flags(only)))
        values["CMAKE_TOOLCHAIN_FILE"] = str(files[only.name])
    return values


def link_flags(target: Target) -> str:
    """What the Solo5 linker is given for ``target`` (its platform's link flags)."""
    from uktoolchain.platforms import platform_of

    return " ".join(platform_of(target).link_flags())


# ocaml-solo5 installs its findlib toolchain as `solo5` for every architecture (one per opam
# switch), and MirageOS writes `(toolchain solo5)` for every Solo5 target. Ours are named per
# architecture (`solo5`, `solo5_aarch64`) so both fit in one environment.
UPSTREAM_TOOLCHAIN = "solo5"


def upstream_alias(toolchains: list[tuple[str, Path]]) -> tuple[str, Path] | None:
    """The toolchain to render also as `solo5`, when the environment has exactly one cross-compiler
    and it has another name (aarch64 alone): there the upstream name is unambiguous."""
    if len(toolchains) == 1 and toolchains[0][0] != UPSTREAM_TOOLCHAIN:
        return toolchains[0]
    return None


def cross_toolchains(packages: list[InstalledPackage], conan_home: Path) -> list[tuple[str, Path]]:
    """(findlib toolchain name, sysroot) of every cross-compiler among the packages."""
    found = []
    for package in packages:
        facts = dict(package.facts)
        if "findlib_toolchain" in facts and "ocaml_solo5_sysroot" in facts:
            sysroot = facts["ocaml_solo5_sysroot"].replace("{conan_home}", str(conan_home))
            found.append((facts["findlib_toolchain"], Path(sysroot)))
    return found


def render_findlib_conf(home: Home, target: str, site: Path, ocamlpath: str) -> Path:
    site.mkdir(parents=True, exist_ok=True)
    (site / "stublibs").mkdir(exist_ok=True)
    search = ":".join([str(site)] + [p for p in ocamlpath.split(":") if p and not p.startswith("${")])
    content = (
        "# Rendered by uktoolchain for this machine's paths; rewritten on every use.\n"
        f'destdir="{site}"\n'
        f'path="{search}"\n'
        'ldconf="ignore"\n'
        # The host's tools by bare name (PATH), as ocamlfind does without an entry. Needed because
        # the toolchain files name these tools for their toolchain only, and dune >= 3.18 reads
        # a variable set only for another toolchain as "" in the host context, then fails
        # ('Filename.of_string_exn: invalid filename').
        + "".join(f'{tool}="{tool}"\n' for tool in CROSS_TOOLS)
    )
    path = home.rendered / target / "findlib.conf"
    atomic.write_text_if_changed(path, content)
    return path


def render_findlib_toolchain(home: Home, target: str, toolchain: str, sysroot: Path,
                             site_name: str | None = None) -> Path:
    """findlib.conf.d/<toolchain>.conf: `ocamlfind -toolchain <toolchain>` and dune's
    (toolchain ...) contexts use the cross tools (each wrapped to set its own OCAMLLIB) and only
    cross-compiled libraries. ocamlcp is left out: it would run the host ocamlc. An alias
    (``site_name``: the toolchain it stands for) shares that toolchain's site directory."""
    site = home.site / target / (site_name or toolchain)
    site.mkdir(parents=True, exist_ok=True)
    entries = {
        "path": f"{sysroot}/lib/ocaml:{sysroot}/lib:{site}",
        "destdir": str(site),
        "stdlib": f"{sysroot}/lib/ocaml",
        "ldconf": "ignore",
        **{tool: f"{sysroot}/bin/{tool}" for tool in CROSS_TOOLS},
    }
    content = "# Rendered by uktoolchain for this machine's paths; rewritten on every use.\n" + "".join(
        f'{key}({toolchain}) = "{value}"\n' for key, value in entries.items()
    )
    path = home.rendered / target / "findlib.conf.d" / f"{toolchain}.conf"
    atomic.write_text_if_changed(path, content)
    return path


def resolve(values: Mapping[str, str], base: Mapping[str, str]) -> dict[str, str]:
    """Concrete values for running a process: references become the base environment's values."""

    def expand(value: str) -> str:
        resolved = _REFERENCE.sub(lambda m: base.get(m.group(1), ""), value)
        if ":" in resolved:  # drop empty path components left by unset variables
            resolved = ":".join(p for p in resolved.split(":") if p)
        return resolved

    return {name: expand(value) for name, value in values.items()}


def render_sh(values: Mapping[str, str]) -> str:
    lines = []
    for name, value in values.items():
        parts = _REFERENCE.split(value)
        # parts alternates literal, variable name, literal, ...; ":${X}" becomes "${X:+:$X}".
        text = ""
        for i, part in enumerate(parts):
            if i % 2 == 0:
                if i == 2 and text == "${" + parts[1] + "}" and part.startswith(":"):
                    # "${X}:..." at the start becomes "${X:+$X:}...": no empty entry when X is unset.
                    text, part = "${" + parts[1] + ":+$" + parts[1] + ":}", part[1:]
                text += part.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`")
            else:
                if text.endswith(":"):
                    text = text[:-1] + "${" + part + ":+:$" + part + "}"
                else:
                    text += "${" + part + "}"
        lines.append(f'export {name}="{text}"')
    return "\n".join(lines) + "\n"


def render_fish(values: Mapping[str, str]) -> str:
    lines = []
    for name, value in values.items():
        items = []
        for element in value.split(":") if name.endswith("PATH") else [value]:
            match = _REFERENCE.fullmatch(element)
            items.append(f"${match.group(1)}" if match else shlex.quote(element))
        lines.append(f"set -gx {name} {' '.join(items)}")
    return "\n".join(lines) + "\n"


def render_json(values: Mapping[str, str]) -> str:
    return json.dumps(resolve(values, os.environ), indent=2, sort_keys=True) + "\n"
