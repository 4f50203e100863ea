"""``python -m clinic backup DIR``: SQLite's online backup of the app database and the
tracker store while both are being written, pg_dump's command for PostgreSQL, and bad
input refused with one line and nothing written.

The backup of the real running stack (``make run``), restored and read back, is in
``tests/faults/test_supervised_run.py``."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, List
from zoneinfo import ZoneInfo

import pytest

from clinic.backup import BackupError, backup
from clinic.cli import EXIT_OK, EXIT_REFUSED, main
from clinic.db.engine import make_engine, make_session_factory
from clinic.db.migrate import upgrade
from clinic.db.repository import BookingRequest, save_request

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2030, 3, 4, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def book(app_url: str, count: int) -> List[str]:
    """``count`` booking requests saved as the action server saves them; their references."""
    engine = make_engine(app_url)
    try:
        factory = make_session_factory(engine)
        return [
            save_request(
                factory,
                BookingRequest("booking", f"Pat Lee {n}", "+12025550100", f"c-{n}", None, START),
                f"key-{n}",
            )[0]
            for n in range(count)
        ]
    finally:
        engine.dispose()


def tracker(path: Path) -> sqlite3.Connection:
    """A tracker store with Rasa's ``events`` columns that matter here."""
    db = sqlite3.connect(path, timeout=30, check_same_thread=False)
    db.execute(
        "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id TEXT,"
        " type_name TEXT, data TEXT)"
    )
    db.commit()
    return db


@pytest.fixture
def stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Both databases in ``tmp_path/live`` through the environment, as ``make run`` sets them."""
    live = tmp_path / "live"
    live.mkdir()
    app_url = f"sqlite:///{live / 'clinic.db'}"
    monkeypatch.setenv("DATABASE_URL", app_url)
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{live / 'tracker.db'}")
    upgrade(app_url)
    tracker(live / "tracker.db").close()
    yield live


def wait_for(condition: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the writer thread stalled"
        time.sleep(0.01)


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), io.StringIO(), out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_backup_taken_while_both_databases_are_written_holds_a_consistent_state(
    stores: Path, tmp_path: Path
):
    references = book(os.environ["DATABASE_URL"], 3)
    live = tracker(stores / "tracker.db")
    stop = threading.Event()
    written: List[int] = []

    def conversations() -> None:  # Rasa writing: one transaction per turn, two rows each
        n = 0
        while not stop.is_set():
            live.executemany(
                "INSERT INTO events (sender_id, type_name, data) VALUES (?, ?, ?)",
                [(f"s-{n}", "user", "{}"), (f"s-{n}", "bot", "{}")],
            )
            live.commit()
            written.append(n)
            n += 1

    writer = threading.Thread(target=conversations)
    writer.start()
    try:
        wait_for(lambda: len(written) >= 200)
        backups = tmp_path / "backups"
        backups.mkdir()
        code, out, err = run_cli("backup", str(backups))
        after = len(written)
        wait_for(lambda: len(written) > after + 20)  # and the writer went on
    finally:
        stop.set()
        writer.join()
        live.close()
    assert (code, err) == (EXIT_OK, "")
    [folder] = backups.iterdir()
    assert f"backup written to {folder}" in out
    assert sorted(p.name for p in folder.iterdir()) == ["clinic.db", "tracker.db"]
    with sqlite3.connect(folder / "clinic.db") as copy:
        rows = copy.execute("SELECT reference FROM bookings ORDER BY id").fetchall()
        assert [r for (r,) in rows] == references
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone()
    with sqlite3.connect(folder / "tracker.db") as copy:
        kinds = copy.execute("SELECT type_name FROM events ORDER BY id").fetchall()
    assert 400 <= len(kinds) < 2 * len(written) + 2  # a state the writer passed through
    assert [k for (k,) in kinds] == ["user", "bot"] * (len(kinds) // 2)  # no turn half copied


def test_restoring_a_backup_gives_back_every_booking_and_event(stores: Path, tmp_path: Path):
    references = book(os.environ["DATABASE_URL"], 2)
    with tracker(stores / "tracker.db") as db:
        db.execute("INSERT INTO events (sender_id, type_name, data) VALUES ('a', 'user', '{}')")
    backups = tmp_path / "backups"
    backups.mkdir()
    result = backup(backups)
    assert result.folder is not None
    book(os.environ["DATABASE_URL"], 1)  # written after the backup: gone after the restore

    for name in ("clinic.db", "tracker.db"):  # the README's restore, the assistant stopped
        (stores / name).write_bytes((result.folder / name).read_bytes())
    with sqlite3.connect(stores / "clinic.db") as db:
        rows = db.execute("SELECT reference FROM bookings ORDER BY id").fetchall()
        assert [r for (r,) in rows] == references
    with sqlite3.connect(stores / "tracker.db") as db:
        assert db.execute("SELECT sender_id FROM events").fetchall() == [("a",)]


def _nothing_written(*folders: Path) -> bool:
    return all(not any(folder.iterdir()) for folder in folders if folder.is_dir())


def test_a_missing_folder_is_refused_with_one_line_and_not_created(stores: Path, tmp_path: Path):
    code, out, err = run_cli("backup", str(tmp_path / "nowhere"))
    assert code == EXIT_REFUSED and out == ""
    assert err == f"error: backup folder {tmp_path / 'nowhere'} does not exist: create it first\n"
    assert not (tmp_path / "nowhere").exists()


def test_a_file_in_place_of_the_folder_is_refused(stores: Path, tmp_path: Path):
    target = tmp_path / "backup.txt"
    target.write_text("notes")
    code, _, err = run_cli("backup", str(target))
    assert code == EXIT_REFUSED and err.count("\n") == 1 and "is not a folder" in err
    assert target.read_text() == "notes"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_an_unwritable_folder_is_refused(stores: Path, tmp_path: Path):
    target = tmp_path / "locked"
    target.mkdir()
    target.chmod(0o500)
    try:
        code, _, err = run_cli("backup", str(target))
    finally:
        target.chmod(0o700)
    assert code == EXIT_REFUSED and err.count("\n") == 1 and "is not writable" in err
    assert _nothing_written(target)


def test_a_folder_on_a_read_only_file_system_is_refused_even_for_root(stores: Path):
    target = Path("/proc/self")  # a folder nobody can create files in
    with pytest.raises(BackupError, match="is not writable"):
        backup(target)


def test_a_missing_database_file_is_refused_before_anything_is_written(
    stores: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'none' / 'tracker.db'}")
    backups = tmp_path / "backups"
    backups.mkdir()
    code, _, err = run_cli("backup", str(backups))
    assert code == EXIT_REFUSED and err.count("\n") == 1
    assert "tracker store" in err and "does not exist" in err
    assert _nothing_written(backups)
    assert not (tmp_path / "none").exists()


def test_postgresql_gets_the_pg_dump_command_without_its_password(
    stores: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("DATABASE_URL", "postgresql://clinic:s3cret@127.0.0.1:5432/clinic")
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql+psycopg2://rasa:pw2@db.local/rasa")
    backups = tmp_path / "backups"
    backups.mkdir()
    code, out, err = run_cli("backup", str(backups))
    assert (code, err) == (EXIT_OK, "")
    lines = out.splitlines()
    assert len(lines) == 2 and all("pg_dump --format=custom" in line for line in lines)
    assert "postgresql://clinic:***@127.0.0.1:5432/clinic" in lines[0]
    assert "postgresql://rasa:***@db.local/rasa" in lines[1]
    assert "s3cret" not in out and "pw2" not in out
    assert _nothing_written(backups)


def test_a_postgresql_tracker_store_beside_a_sqlite_app_database(
    stores: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://rasa@127.0.0.1/rasa")
    backups = tmp_path / "backups"
    backups.mkdir()
    result = backup(backups)
    assert result.folder is not None
    assert [p.name for p in result.folder.iterdir()] == ["clinic.db"]
    assert "pg_dump" in result.lines[1] and "tracker.dump" in result.lines[1]


def test_the_command_line_runs_as_a_module(stores: Path, tmp_path: Path):
    backups = tmp_path / "backups"
    backups.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "clinic", "backup", str(backups)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "backup written to" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "clinic", "backup", str(tmp_path / "no")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
