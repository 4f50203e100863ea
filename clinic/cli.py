"""The command line: ``python -m clinic users create NAME --role admin|staff``,
``python -m clinic purge``, ``python -m clinic backup DIR`` and
``python -m clinic action-proxy`` (``clinic/action_proxy.py``, run by ``make run``).

``users create`` reads the password from stdin (one line; nothing is echoed or
logged), so it can come from a password manager or a pipe. Exit codes: 0 done,
1 refused (the message says why), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import List, TextIO

from clinic.db.engine import make_engine, make_session_factory
from clinic.db.migrate import upgrade
from clinic.db.models import ROLES

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def read_password(stdin: TextIO) -> str:
    """The password: prompted without echo on a terminal, else the first line of stdin."""
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise ValueError("the two passwords differ")
        return first
    line = stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def _users_create(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from clinic.console.accounts import AccountError, check_name, check_role, create_user

    try:
        check_name(args.name)
        check_role(args.role)
        password = read_password(stdin)
    except (AccountError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_REFUSED
    upgrade(args.database_url)
    engine = make_engine(args.database_url)
    try:
        account = create_user(make_session_factory(engine), args.name, args.role, password)
    except AccountError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_REFUSED
    finally:
        engine.dispose()
    print(f"created {account.role} {account.name!r}", file=out)
    return EXIT_OK


def _purge(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from clinic.console.retention import purge, tracker_engine
    from clinic.settings import PROJECT_ROOT, load_clinic

    days = args.days or load_clinic().retention_days
    upgrade(args.database_url)
    engine = make_engine(args.database_url)
    tracker_url = os.environ.get("TRACKER_STORE_URL") or "sqlite:///var/tracker.db"
    tracker = tracker_engine(tracker_url, PROJECT_ROOT)
    try:
        result = purge(make_session_factory(engine), tracker, days)
    finally:
        engine.dispose()
        tracker.dispose()
    print(
        f"deleted {result.conversations} conversations ({result.events} events) and "
        f"{result.bookings} booking requests older than {days} days "
        f"(before {result.cutoff:%Y-%m-%d %H:%M} UTC)",
        file=out,
    )
    return EXIT_OK


def _backup(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from clinic.backup import BackupError, backup

    try:
        result = backup(Path(args.dir), app_url=args.database_url)
    except BackupError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_REFUSED
    for line in result.lines:
        print(line, file=out)
    if result.folder is not None:
        print(f"backup written to {result.folder}", file=out)
    return EXIT_OK


def _action_proxy(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from clinic.action_proxy import ActionProxySettingsError, load_settings, serve

    try:
        settings = load_settings(os.environ)
    except ActionProxySettingsError as exc:
        print(f"error: the action proxy cannot start: {exc}", file=err)
        return EXIT_REFUSED
    serve(settings)
    return EXIT_OK


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"error: {message}\n")


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="python -m clinic", description="Clinic assistant administration")
    root.add_argument(
        "--database-url", default=None, help="app database (default: DATABASE_URL, var/clinic.db)"
    )
    commands = root.add_subparsers(dest="command", required=True, parser_class=_Parser)
    users = commands.add_parser("users", help="staff console accounts")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    create = users_commands.add_parser(
        "create", help="create an account; the password is read from stdin"
    )
    create.add_argument("name")
    create.add_argument("--role", required=True, help=" or ".join(ROLES))
    create.set_defaults(run=_users_create)
    purge = commands.add_parser(
        "purge", help="delete conversations and booking requests older than retention_days"
    )
    purge.add_argument("--days", type=int, default=None, help="instead of clinic.yml's")
    purge.set_defaults(run=_purge)
    backup = commands.add_parser(
        "backup",
        help="copy the app database and the tracker store (SQLite) into a new folder in DIR, "
        "while the assistant runs; prints pg_dump's command for PostgreSQL",
    )
    backup.add_argument("dir", metavar="DIR", help="an existing, writable folder")
    backup.set_defaults(run=_backup)
    proxy = commands.add_parser(
        "action-proxy",
        help="forward Rasa's calls to the action server (ACTION_SERVER_URL) on "
        "127.0.0.1:ACTION_PROXY_PORT, each bounded by ACTION_TIMEOUT; answer with the "
        "apology when it fails",
    )
    proxy.set_defaults(run=_action_proxy)
    return root


def main(
    argv: List[str] | None = None,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    args = parser().parse_args(argv)
    return args.run(args, stdin, out, err)
