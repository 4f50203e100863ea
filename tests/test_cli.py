"""``python -m clinic users create NAME --role admin|staff``: password from stdin, clear errors."""

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
