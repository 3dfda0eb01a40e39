"""dune-workspace with one build context per unikernel target.

Each context is named after its target, uses the findlib toolchain of the target's architecture
(``solo5`` or ``solo5_aarch64``, rendered by ``uktoolchain env``) and links the target's Solo5
binding (``-cclib "-z solo5-abi=<binding>"``), so one ``dune build`` builds a project for all of
them. One context carries (merlin): editors then complete and type against that target's
compiler and libraries (the cross sysroot's, through its findlib toolchain). uktoolchain owns
only the lines between its markers: rerunning replaces them, the user's own contexts and
settings stay as they are.
"""
from __future__ import annotations

import re
from pathlib import Path

from uktoolchain import atomic
from uktoolchain.errors import ConfigError
from uktoolchain.targets import Target

BEGIN = "; BEGIN uktoolchain contexts (rewritten by `uktoolchain workspace`; edit outside this block)"
END = "; END uktoolchain contexts"
TOOLCHAINS = {"x86_64": "solo5", "aarch64": "solo5_aarch64"}
_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.S)


def toolchain_of(target: Target) -> str:
    return TOOLCHAINS[target.arch]


def context_stanza(target: Target, merlin: bool) -> str:
    fields = [
        f"  (name {target.name})",
        f"  (toolchain {toolchain_of(target)})",
        "  (host default)",
        *(["  (merlin)"] if merlin else []),
        "  (disable_dynamically_linked_foreign_archives true)",
        f'  (env (_ (link_flags (:standard -cclib "{_link_flags(target)}"))',
        f"   (env-vars {context_env_vars(target)})))",
    ]
    return "(context\n (default\n" + "\n".join(fields) + "))\n"


def context_env_vars(target: Target) -> str:
    """Variables for the actions of a target's context: rules that run make or CMake get the
    target's C tools. Bare names (found on PATH after `uktoolchain env`), so the file holds no
    path of this machine; UKTOOLCHAIN_TARGET names the CMake toolchain file
    ($UKTOOLCHAIN_CMAKE_DIR/<target>.cmake) and cargo's ($UKTOOLCHAIN_CARGO_DIR/<target>.toml).
    The link flag is UKTOOLCHAIN_LDFLAGS, not LDFLAGS: make passes LDFLAGS to $(CC) by itself, and
    MirageOS libraries' Makefiles set CC to ocamlopt (see cross_c.c_variables)."""
    prefix = f"{target.arch}-solo5-ocaml-"
    pairs = [("UKTOOLCHAIN_TARGET", target.name), ("CC", f"{prefix}cc"), ("AR", f"{prefix}ar"),
             ("RANLIB", f"{prefix}ranlib"), ("UKTOOLCHAIN_LDFLAGS", f'"{_link_flags(target)}"')]
    return " ".join(f"({name} {value})" for name, value in pairs)


def _link_flags(target: Target) -> str:
    from uktoolchain.platforms import platform_of

    return " ".join(platform_of(target).link_flags())


def user_context_names(text: str) -> set[str]:
    """Names of the contexts a workspace declares outside our block ("default" included)."""
    return set(_user_contexts(text))


def user_merlin_context(text: str) -> str | None:
    """The context outside our block that has (merlin), if any (dune allows one per workspace)."""
    return next((name for name, merlin in _user_contexts(text).items() if merlin), None)


def _user_contexts(text: str) -> dict[str, bool]:
    """Context name -> whether it has (merlin), for the contexts outside our block."""
    contexts: dict[str, bool] = {}
    for form in read_sexps(_BLOCK.sub("", text)):
        if not (isinstance(form, list) and form[:1] == ["context"] and len(form) > 1):
            continue
        spec = form[1]
        if spec == "default":
            contexts["default"] = False
        elif isinstance(spec, list) and spec:
            named = [f[1] for f in spec[1:] if isinstance(f, list) and len(f) == 2 and f[0] == "name"]
            switch = [f[1] for f in spec[1:] if isinstance(f, list) and len(f) == 2 and f[0] == "switch"]
            name = named[0] if named else (switch[0] if spec[0] == "opam" and switch else "default")
            contexts[name] = ["merlin"] in spec[1:]
    return contexts


def read_sexps(text: str) -> list:
    """Top-level S-expressions of a dune file: lists of atoms (strings unquoted), comments dropped."""
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|;[^\n]*|[()]|[^\s()";]+', text)
    stack: list[list] = [[]]
    for token in tokens:
        if token.startswith(";"):
            continue
        if token == "(":
            stack.append([])
        elif token == ")":
            if len(stack) == 1:
                raise ConfigError("the existing dune-workspace has an unbalanced ')'", "fix it, or write elsewhere with -o")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token.strip('"'))
    if len(stack) != 1:
        raise ConfigError("the existing dune-workspace has an unclosed '('", "fix it, or write elsewhere with -o")
    return stack[0]


def merlin_context(targets: list[Target], existing: str | None, chosen: str | None = None) -> str:
    """The context editors see through merlin: ``chosen`` (a unikernel target given), else the
    workspace's own (merlin) context, else the first unikernel target. dune allows one."""
    unikernels = [t.name for t in targets if t.binding]
    mine = user_merlin_context(existing or "")
    if chosen is None:
        return mine or unikernels[0]
    if chosen not in unikernels:
        raise ConfigError(f"--merlin {chosen} is not one of the unikernel contexts written ({', '.join(unikernels)})",
                          f"give one of them, e.g. --merlin {unikernels[0]}")
    if mine is not None:
        raise ConfigError(f"the dune-workspace's own context {mine} has (merlin), and dune allows one",
                          f"remove (merlin) from {mine}, or leave out --merlin")
    return chosen


def render(targets: list[Target], existing: str | None, merlin: str | None = None) -> str:
    """The new content of the dune-workspace file (``existing``: its current content, if any);
    ``merlin``: the target whose context editors see (default: see merlin_context)."""
    unikernels = [t for t in targets if t.binding]
    if not unikernels:
        raise ConfigError("a dune-workspace needs at least one unikernel target",
                          f"for example: uktoolchain workspace spt; got {', '.join(t.name for t in targets)}")
    taken = user_context_names(existing or "")
    clashes = sorted(taken & {t.name for t in unikernels})
    if clashes:
        raise ConfigError(f"the dune-workspace already has contexts named {', '.join(clashes)}",
                          "rename or remove them, or write elsewhere with -o")
    editor_context = merlin_context(targets, existing, merlin)
    block = [BEGIN]
    if "default" not in taken:
        block.append("(context default)")  # (host default) needs it
    for target in unikernels:
        block.append(context_stanza(target, merlin=target.name == editor_context).rstrip("\n"))
    block.append(END)
    text = "\n".join(block) + "\n"
    if existing is None or not existing.strip():
        return "(lang dune 3.0)\n\n" + text
    if _BLOCK.search(existing):
        return _BLOCK.sub(lambda _: text, existing, count=1)
    if not re.search(r"^\s*\(lang dune ", existing, re.M):
        raise ConfigError("the existing dune-workspace has no (lang dune ...) line", "fix it, or write elsewhere with -o")
    return existing.rstrip("\n") + "\n\n" + text


def write(path: Path, targets: list[Target], merlin: str | None = None) -> str:
    """Write (or merge into) the file; returns the context that got (merlin)."""
    existing = path.read_text() if path.is_file() else None
    content = render(targets, existing, merlin)
    atomic.write_text(path, content)
    return merlin_context(targets, existing, merlin)
