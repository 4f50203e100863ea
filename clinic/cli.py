"""The command line: ``python -m clinic users create NAME --role admin|staff``,
``users list``, ``users disable NAME``, ``users set-password NAME``,
``python -m clinic purge [--dry-run]``, ``python -m clinic forget``,
``python -m clinic backup DIR`` and ``python -m clinic action-proxy``
(``clinic/action_proxy.py``, run by ``make run``).

``users create`` and ``users set-password`` read the password from stdin (one line;
nothing is echoed or logged), so it can come from a password manager or a pipe.
``forget`` finds everything stored about one person (``clinic/console/data_rights.py``),
lists it, optionally exports it as JSON, and deletes it once confirmed. Exit codes:
0 done, 1 refused (the message says why), 2 wrong usage or bad input.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import List, TextIO

from clinic.db.engine import DEFAULT_TRACKER_STORE_URL, make_engine, make_session_factory
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


def _operator() -> str:
    """Who ran the command, for the audit log: ``cli:`` and the system user."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # no user name in the environment or the passwd file
        return "cli"


def _users_list(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from clinic.console.accounts import list_users

    upgrade(args.database_url)
    engine = make_engine(args.database_url)
    try:
        accounts = list_users(make_session_factory(engine))
    finally:
        engine.dispose()
    if not accounts:
        print("no staff users yet: python -m clinic users create NAME --role admin", file=out)
        return EXIT_OK
    print(f"{'name':<24} {'role':<6} {'active':<8} last login", file=out)
    for account in accounts:
        login = account.last_login_at
        when = f"{login:%Y-%m-%d %H:%M} UTC" if login else "never"
        active = "yes" if account.active else "no"
        print(f"{account.name:<24} {account.role:<6} {active:<8} {when}", file=out)
    return EXIT_OK


def _users_change(
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    done: str,
    active: bool | None = None,
    password: str | None = None,
) -> int:
    """Disables the account ``args.name`` or sets its password; audited as in the console."""
    from clinic.console.accounts import AccountError, find_user, update_user
    from clinic.console.queries import audit

    upgrade(args.database_url)
    engine = make_engine(args.database_url)
    sessions = make_session_factory(engine)
    try:
        account = find_user(sessions, args.name)
        if account is None:
            print(f"error: there is no staff user named {args.name!r}", file=err)
            return EXIT_REFUSED
        try:
            account = update_user(sessions, account.id, active=active, password=password)
        except AccountError as exc:
            print(f"error: {exc}", file=err)
            return EXIT_REFUSED
        audit(sessions, _operator(), "change_user", account.name, _change_detail(active))
    finally:
        engine.dispose()
    print(f"{done} {account.role} {account.name!r}", file=out)
    return EXIT_OK


def _change_detail(active: bool | None) -> str:
    """What changed, as the console's audit rows say it (never the password itself)."""
    return f"active={active}" if active is not None else "password"


def _users_disable(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    return _users_change(args, out, err, "disabled", active=False)


def _users_set_password(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from clinic.console.accounts import AccountError, check_password_rules

    try:
        password = read_password(stdin)
        check_password_rules(password)
    except (AccountError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_REFUSED
    return _users_change(args, out, err, "new password for", password=password)


def _tracker_url() -> str:
    return os.environ.get("TRACKER_STORE_URL") or DEFAULT_TRACKER_STORE_URL


def _purge(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from clinic.console.retention import preview, purge, tracker_engine
    from clinic.settings import PROJECT_ROOT, load_clinic

    days = args.days or load_clinic().retention_days
    upgrade(args.database_url)
    engine = make_engine(args.database_url)
    tracker = tracker_engine(_tracker_url(), PROJECT_ROOT)
    try:
        run = preview if args.dry_run else purge
        result = run(make_session_factory(engine), tracker, days)
    finally:
        engine.dispose()
        tracker.dispose()
    print(
        f"{'would delete' if args.dry_run else 'deleted'} {result.conversations} conversations "
        f"({result.events} events) and {result.bookings} booking requests older than {days} "
        f"days (before {result.cutoff:%Y-%m-%d %H:%M} UTC)"
        + ("; nothing was deleted (--dry-run)" if args.dry_run else ""),
        file=out,
    )
    return EXIT_OK


def _write_export(path: Path, content: str) -> None:
    """A new file only the owner can read: it holds the person's messages and details."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)


def _confirmed(stdin: TextIO, out: TextIO) -> bool:
    print("Delete all of this for good? [y/N] ", end="", file=out, flush=True)
    return stdin.readline().strip().lower() in ("y", "yes")


def _forget(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from clinic.console import data_rights
    from clinic.console.retention import tracker_engine
    from clinic.settings import PROJECT_ROOT, load_clinic

    kind = next(kind for kind in data_rights.SELECTORS if getattr(args, kind) is not None)
    try:
        selector = data_rights.parse_selector(kind, getattr(args, kind), load_clinic().phone_region)
    except data_rights.SelectorError as exc:
        print(f"error: {exc}; nothing was deleted", file=err)
        return EXIT_USAGE
    export = Path(args.export) if args.export else None
    if export is not None and (export.exists() or not export.parent.is_dir()):
        problem = "already exists" if export.exists() else "is in a folder that does not exist"
        print(f"error: the export file {export} {problem}; nothing was deleted", file=err)
        return EXIT_USAGE
    upgrade(args.database_url)
    engine = make_engine(args.database_url)
    tracker = tracker_engine(_tracker_url(), PROJECT_ROOT)
    sessions = make_session_factory(engine)
    try:
        found = data_rights.find(sessions, tracker, selector)
        if selector.kind == "reference" and not found.rows["bookings"]:
            print(
                f"error: no booking or call-back request has the reference {selector.value}; "
                "nothing was deleted",
                file=err,
            )
            return EXIT_USAGE
        if found.empty:
            print(f"nothing is stored for {selector.kind} {selector.value}", file=out)
            return EXIT_OK
        print(f"stored for {selector.kind} {selector.value}:", file=out)
        for table, count in sorted(found.counts().items()):
            print(f"  {table}: {count}", file=out)
        print(f"  references: {', '.join(found.references) or 'none'}", file=out)
        print(f"  conversations: {', '.join(found.conversation_ids) or 'none'}", file=out)
        if export is not None:
            _write_export(export, data_rights.export_json(found))
            print(f"exported to {export}", file=out)
        if not args.yes and not _confirmed(stdin, out):
            print("nothing was deleted", file=out)
            return EXIT_REFUSED
        deleted = data_rights.forget(sessions, tracker, found, _operator())
    finally:
        engine.dispose()
        tracker.dispose()
    print(f"deleted {deleted} rows; the audit log names the references and counts", file=out)
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
    users_commands.add_parser(
        "list", help="every account: name, role, active, last login"
    ).set_defaults(run=_users_list)
    disable = users_commands.add_parser(
        "disable", help="disable an account and end its sessions (the last active admin stays)"
    )
    disable.add_argument("name")
    disable.set_defaults(run=_users_disable)
    set_password = users_commands.add_parser(
        "set-password", help="a new password, read from stdin; ends the account's sessions"
    )
    set_password.add_argument("name")
    set_password.set_defaults(run=_users_set_password)
    purge = commands.add_parser(
        "purge", help="delete conversations and booking requests older than retention_days"
    )
    purge.add_argument("--days", type=int, default=None, help="instead of clinic.yml's")
    purge.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted; delete nothing"
    )
    purge.set_defaults(run=_purge)
    forget = commands.add_parser(
        "forget",
        help="find everything stored about one person (bookings, conversations, the "
        "console's notes), export it, and delete it, audited",
    )
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone", help="as the patient gave it; matched in E.164")
    who.add_argument("--email", help="matched whatever its case")
    who.add_argument("--reference", help="a booking reference, RC-XXXXXX")
    who.add_argument("--conversation", help="a conversation id (Rasa's sender id)")
    forget.add_argument("--yes", action="store_true", help="delete without asking")
    forget.add_argument(
        "--export", metavar="FILE", help="first write everything found to FILE (JSON, new file)"
    )
    forget.set_defaults(run=_forget)
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
