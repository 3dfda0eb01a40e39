"""uktoolchain remote add|list|remove|login — the Conan remotes toolchains are shared through.

Credentials: ``remote login NAME [USER]`` (the password is prompted for, or read with
--password-stdin), or Conan's variables CONAN_LOGIN_USERNAME_<NAME> / CONAN_PASSWORD_<NAME>, which
every command that talks to the remote reads. Passwords are never printed or logged; Conan keeps
only a token, in its database in the home.
"""
from __future__ import annotations

import getpass
import os
import sys

from uktoolchain.cli.context import Context
from uktoolchain.console import out
from uktoolchain.engine import remote_admin
from uktoolchain.engine.remotes import check_name, check_url, credential_vars
from uktoolchain.errors import UsageError


def register(sub) -> None:
    parser = sub.add_parser("remote", help="Conan remotes to download toolchains from and push them to")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a remote (conan_server, Artifactory, ...)")
    add.add_argument("name")
    add.add_argument("url")
    add.add_argument("--sources-backup", metavar="URL",
                     help="an HTTP file server (GET/PUT) that keeps the source archives; `push` uploads them there")
    add.add_argument("--force", action="store_true", help="replace a remote of the same name")
    add.set_defaults(run=run_add)

    listing = actions.add_parser("list", help="list remotes and who is logged in")
    listing.set_defaults(run=run_list)

    remove = actions.add_parser("remove", help="remove a remote and its stored token")
    remove.add_argument("name")
    remove.set_defaults(run=run_remove)

    login = actions.add_parser("login", help="log in to a remote (asks for the password)")
    login.add_argument("name")
    login.add_argument("user", nargs="?", help="default: $CONAN_LOGIN_USERNAME_<NAME>")
    login.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    login.set_defaults(run=run_login)


def run_add(args) -> int:
    ctx = Context.load()
    name, url = check_name(args.name), check_url(args.url)
    backup_url = check_url(args.sources_backup, "sources-backup URL") if args.sources_backup else None
    remote_admin.add(ctx.home, ctx.catalogue, name, url, backup_url, args.force)
    out(f"added remote {name} {url}" + (f" (sources backup: {backup_url})" if backup_url else ""))
    return 0


def run_list(args) -> int:
    ctx = Context.load()
    remotes = remote_admin.statuses(ctx.home, ctx.catalogue)
    if not remotes:
        out("no remotes; add one with `uktoolchain remote add NAME URL`")
        return 0
    for remote in remotes:
        user_var, _ = credential_vars(remote.name)
        if remote.user:
            login = f"logged in as {remote.user}"
        elif os.environ.get(user_var):
            login = f"credentials from {user_var}"
        else:
            login = "not logged in"
        line = f"{remote.name}  {remote.url}  {login}"
        if not remote.enabled:
            line += "  (disabled)"
        if remote.sources_backup:
            line += f"  sources backup: {remote.sources_backup}"
        out(line)
    return 0


def run_remove(args) -> int:
    ctx = Context.load()
    remote_admin.remove(ctx.home, ctx.catalogue, args.name)
    out(f"removed remote {args.name}")
    return 0


def run_login(args) -> int:
    ctx = Context.load()
    user_var, password_var = credential_vars(args.name)
    user = args.user or os.environ.get(user_var)
    if not user:
        raise UsageError(f"no user given for remote {args.name}",
                         f"`uktoolchain remote login {args.name} USER`, or set {user_var}")
    password = read_password(args, password_var)
    remote_admin.login(ctx.home, ctx.catalogue, args.name, user, password)
    out(f"logged in to {args.name} as {user}")
    return 0


def read_password(args, password_var: str) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif os.environ.get(password_var):
        password = os.environ[password_var]
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.user or 'the user'} on {args.name}: ")
    else:
        raise UsageError(f"no password for remote {args.name} and no terminal to ask on",
                         f"pipe it with --password-stdin, or set {password_var}")
    if not password:
        raise UsageError(f"empty password for remote {args.name}")
    return password
