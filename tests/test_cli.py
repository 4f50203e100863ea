"""``python -m clinic users create NAME --role admin|staff``: password from stdin, clear errors;
``users list``, ``users disable``, ``users set-password`` and ``purge --dry-run``."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher

from clinic.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[1]
GOOD = "a long enough password"


def run(db: Path, *args: str, stdin: str = GOOD + "\n") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--database-url", f"sqlite:///{db}", *args], io.StringIO(stdin), out, err)
    return code, out.getvalue(), err.getvalue()


def test_creates_an_account_with_an_argon2id_hash(tmp_path: Path):
    db = tmp_path / "clinic.db"
    code, out, _ = run(db, "users", "create", "alice", "--role", "admin")
    assert code == EXIT_OK and "created admin 'alice'" in out
    with sa.create_engine(f"sqlite:///{db}").connect() as connection:
        role, hashed = connection.execute(
            sa.text("SELECT role, password_hash FROM staff_users WHERE name = 'alice'")
        ).one()
    assert role == "admin" and hashed.startswith("$argon2id$") and GOOD not in hashed
    assert PasswordHasher().verify(hashed, GOOD)


def test_refuses_a_taken_name_whatever_its_case(tmp_path: Path):
    db = tmp_path / "clinic.db"
    assert run(db, "users", "create", "alice", "--role", "staff")[0] == EXIT_OK
    code, _, err = run(db, "users", "create", "Alice", "--role", "staff")
    assert code == EXIT_REFUSED and "already exists" in err


def test_refuses_empty_and_short_passwords(tmp_path: Path):
    db = tmp_path / "clinic.db"
    code, _, err = run(db, "users", "create", "bob", "--role", "staff", stdin="\n")
    assert code == EXIT_REFUSED and "empty" in err
    code, _, err = run(db, "users", "create", "bob", "--role", "staff", stdin="eleven char\n")
    assert code == EXIT_REFUSED and "at least 12" in err


def test_refuses_an_unknown_role_and_wrong_usage(tmp_path: Path, capsys):
    db = tmp_path / "clinic.db"
    code, _, err = run(db, "users", "create", "bob", "--role", "root")
    assert code == EXIT_REFUSED and "admin, staff" in err
    try:
        run(db, "users", "create", "bob")
    except SystemExit as exc:
        assert exc.code == EXIT_USAGE
    assert "--role" in capsys.readouterr().err


def test_the_module_reads_the_password_from_a_pipe(tmp_path: Path):
    db = tmp_path / "clinic.db"
    command = [sys.executable, "-m", "clinic", "--database-url", f"sqlite:///{db}"]
    done = subprocess.run(
        [*command, "users", "create", "carol", "--role", "staff"],
        input=GOOD + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    again = subprocess.run(
        [*command, "users", "create", "carol", "--role", "staff"],
        input=GOOD + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert again.returncode == 1 and "already exists" in again.stderr


# --- users list, disable, set-password ---------------------------------------------------


def staff_row(db: Path, name: str) -> tuple:
    with sa.create_engine(f"sqlite:///{db}").connect() as connection:
        return connection.execute(
            sa.text("SELECT active, password_hash FROM staff_users WHERE name = :n"), {"n": name}
        ).one()


def audit_rows(db: Path) -> list[tuple]:
    with sa.create_engine(f"sqlite:///{db}").connect() as connection:
        query = sa.text("SELECT user_name, action, target, detail FROM staff_audit ORDER BY id")
        return [tuple(row) for row in connection.execute(query)]


def test_users_list_shows_name_role_active_and_last_login(tmp_path: Path):
    from clinic.console.accounts import authenticate
    from clinic.db.engine import make_engine, make_session_factory

    db = tmp_path / "clinic.db"
    assert run(db, "users", "list")[1].startswith("no staff users yet")
    run(db, "users", "create", "alice", "--role", "admin")
    run(db, "users", "create", "bob", "--role", "staff")
    engine = make_engine(f"sqlite:///{db}")
    assert authenticate(make_session_factory(engine), "alice", GOOD) is not None
    engine.dispose()
    run(db, "users", "disable", "bob")
    code, out, _ = run(db, "users", "list")
    header, alice, bob = out.splitlines()
    assert code == EXIT_OK and header.split() == ["name", "role", "active", "last", "login"]
    assert alice.split()[:3] == ["alice", "admin", "yes"] and alice.endswith(" UTC")
    assert bob.split() == ["bob", "staff", "no", "never"]


def test_users_disable_turns_the_account_off_ends_its_sessions_and_is_audited(tmp_path: Path):
    db = tmp_path / "clinic.db"
    run(db, "users", "create", "alice", "--role", "admin")
    run(db, "users", "create", "bob", "--role", "staff")
    with sa.create_engine(f"sqlite:///{db}").begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO staff_sessions (token_hash, user_id, created_at, last_seen_at)"
                " SELECT 'h', id, '2026-01-01', '2026-01-01' FROM staff_users WHERE name = 'bob'"
            )
        )
    code, out, _ = run(db, "users", "disable", "BOB")
    assert code == EXIT_OK and "disabled staff 'bob'" in out
    assert staff_row(db, "bob")[0] == 0 and staff_row(db, "alice")[0] == 1
    with sa.create_engine(f"sqlite:///{db}").connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM staff_sessions")).scalar() == 0
    assert audit_rows(db)[-1][1:] == ("change_user", "bob", "active=False")


def test_users_disable_refuses_an_unknown_name_and_the_last_active_admin(tmp_path: Path):
    db = tmp_path / "clinic.db"
    run(db, "users", "create", "alice", "--role", "admin")
    code, _, err = run(db, "users", "disable", "nobody")
    assert code == EXIT_REFUSED and "no staff user named 'nobody'" in err
    code, _, err = run(db, "users", "disable", "alice")
    assert code == EXIT_REFUSED and "last active admin" in err
    assert staff_row(db, "alice")[0] == 1 and audit_rows(db) == []


def test_users_set_password_reads_stdin_and_keeps_the_create_rules(tmp_path: Path):
    db = tmp_path / "clinic.db"
    run(db, "users", "create", "alice", "--role", "admin")
    old_hash = staff_row(db, "alice")[1]
    for weak, message in (("\n", "empty"), ("eleven char\n", "at least 12")):
        code, _, err = run(db, "users", "set-password", "alice", stdin=weak)
        assert code == EXIT_REFUSED and message in err
    assert staff_row(db, "alice")[1] == old_hash
    code, _, err = run(db, "users", "set-password", "ghost", stdin="another long password\n")
    assert code == EXIT_REFUSED and "no staff user named 'ghost'" in err
    code, out, _ = run(db, "users", "set-password", "alice", stdin="another long password\n")
    new_hash = staff_row(db, "alice")[1]
    assert code == EXIT_OK and "new password for admin 'alice'" in out
    assert PasswordHasher().verify(new_hash, "another long password")
    assert "another long password" not in repr(audit_rows(db))
    assert audit_rows(db)[-1][1:] == ("change_user", "alice", "password")


# --- purge --dry-run ---------------------------------------------------------------------


def test_purge_dry_run_deletes_nothing_and_reports_what_purge_then_deletes(
    tmp_path: Path, monkeypatch
):
    import asyncio

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from clinic.tracker_store import UrlSQLTrackerStore

    tracker, db = tmp_path / "tracker.db", tmp_path / "clinic.db"
    store = UrlSQLTrackerStore(domain=Domain.empty(), host=f"sqlite:///{tracker}")
    for sender in ("old-visitor", "new-visitor"):
        events = [UserUttered("hello"), BotUttered("hi"), UserUttered("bye")]
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    store.engine.dispose()
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tracker}")
    run(db, "users", "create", "alice", "--role", "admin")  # migrates the app database
    with sa.create_engine(f"sqlite:///{tracker}").begin() as connection:
        connection.execute(
            sa.text("UPDATE events SET timestamp = 1000 WHERE sender_id = 'old-visitor'")
        )
    with sa.create_engine(f"sqlite:///{db}").begin() as connection:
        for reference, created in (("RC-AAAAAA", "2000-01-01"), ("RC-BBBBBB", "2999-01-01")):
            connection.execute(
                sa.text(
                    "INSERT INTO bookings (reference, kind, patient_name, phone, status,"
                    " callback_time, idempotency_key, created_at) VALUES (:r, 'callback', 'X',"
                    " '+12025550143', 'requested', 'soon', :r, :c)"
                ),
                {"r": reference, "c": created},
            )

    def dump() -> tuple:
        with (
            sa.create_engine(f"sqlite:///{tracker}").connect() as t,
            sa.create_engine(f"sqlite:///{db}").connect() as a,
        ):
            events = t.execute(sa.text("SELECT sender_id, COUNT(*) FROM events GROUP BY 1"))
            bookings = a.execute(sa.text("SELECT reference FROM bookings ORDER BY 1"))
            return dict(list(events)), [row[0] for row in bookings]

    before = dump()
    code, preview, _ = run(db, "purge", "--days", "30", "--dry-run")
    assert code == EXIT_OK and dump() == before
    assert "would delete 1 conversations (3 events) and 1 booking requests" in preview
    assert "nothing was deleted" in preview
    code, done, _ = run(db, "purge", "--days", "30")
    assert code == EXIT_OK and "deleted 1 conversations (3 events) and 1 booking requests" in done
    assert dump() == ({"new-visitor": 3}, ["RC-BBBBBB"])
