"""``python -m clinic backup DIR``: both embedded databases copied while the assistant runs.

The app database (``DATABASE_URL``) and Rasa's tracker store (``TRACKER_STORE_URL``), when
they are SQLite files, are copied with SQLite's online backup API (Python's
``sqlite3.Connection.backup``): one step under a read lock, so the copy is one consistent
state of each file even while Rasa, the action server and the web app write to it. A
writer waits for that step (about 1.8 s for 300 MB; the README says when that matters).
In steps, SQLite would start the copy again after every write by another connection.
Copying the files with ``cp`` instead could catch a write half done.

Each run writes a new folder ``DIR/clinic-backup-YYYYMMDD-HHMMSS/`` holding ``clinic.db``
and ``tracker.db``; each is written under a temporary name, checked with
``PRAGMA quick_check`` and then renamed, so a file with its final name is a whole copy.
For PostgreSQL the backup is ``pg_dump``'s job: the command is printed, not run. Bad input
(``DIR`` missing, not a folder, not writable; a database URL that names no file) is
refused with one line before anything is written. The restore is in the README.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import List

from sqlalchemy.engine import make_url

from clinic.db.engine import DEFAULT_DATABASE_URL, DEFAULT_TRACKER_STORE_URL, sqlite_file


class BackupError(RuntimeError):
    """The backup cannot be made; the message is one line saying why."""


@dataclass(frozen=True)
class Database:
    """One of the two databases: what it is, its setting, its URL."""

    role: str  # "app database" or "tracker store"
    variable: str  # DATABASE_URL or TRACKER_STORE_URL
    url: str
    backup_name: str  # the file name inside the backup folder


@dataclass(frozen=True)
class BackupResult:
    folder: Path | None  # None when nothing was copied (PostgreSQL only)
    lines: List[str]  # what was done, one line per database


def databases(app_url: str | None, tracker_url: str | None) -> List[Database]:
    """The two databases from the given URLs, else the environment, else the defaults."""
    env = os.environ
    return [
        Database(
            "app database",
            "DATABASE_URL",
            app_url or env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            "clinic.db",
        ),
        Database(
            "tracker store",
            "TRACKER_STORE_URL",
            tracker_url or env.get("TRACKER_STORE_URL") or DEFAULT_TRACKER_STORE_URL,
            "tracker.db",
        ),
    ]


def _is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def _without_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def pg_dump_advice(database: Database, folder: Path) -> str:
    """The ``pg_dump`` command that backs up a PostgreSQL database into ``folder``."""
    parsed = make_url(database.url).set(drivername="postgresql")
    target = folder / f"{Path(database.backup_name).stem}.dump"
    shown = _without_password(str(parsed))
    return (
        f"{database.role} ({database.variable}) is PostgreSQL: back it up with "
        f"pg_dump --format=custom --file '{target}' '{shown}' "
        f"(password from PGPASSWORD or ~/.pgpass; restore with pg_restore --clean --dbname URL)"
    )


def check_target(target: Path) -> Path:
    """``target`` as an existing, writable folder, else ``BackupError``."""
    if not target.exists():
        raise BackupError(f"backup folder {target} does not exist: create it first")
    if not target.is_dir():
        raise BackupError(f"backup folder {target} is not a folder")
    try:  # permissions, a read-only file system (root passes os.access)
        with tempfile.TemporaryFile(dir=target, prefix=".backup-check-"):
            pass
    except OSError as exc:
        raise BackupError(
            f"backup folder {target} is not writable: {exc.strerror or type(exc).__name__}"
        ) from exc
    return target.resolve()


def _sources(dbs: List[Database]) -> List[tuple[Database, Path | None]]:
    """Each database with its SQLite file (None for PostgreSQL); ``BackupError`` for a
    URL that is neither a SQLite file nor PostgreSQL, or a SQLite file that is missing."""
    found: List[tuple[Database, Path | None]] = []
    for database in dbs:
        if _is_postgres(database.url):
            found.append((database, None))
            continue
        path = sqlite_file(database.url)
        if path is None:
            raise BackupError(
                f"{database.variable}={_without_password(database.url)} is neither a SQLite "
                "file nor PostgreSQL: back it up with that database's own tools"
            )
        if not path.is_file():
            raise BackupError(f"{database.role} {path} ({database.variable}) does not exist")
        found.append((database, path))
    return found


def copy_sqlite(source: Path, target: Path) -> None:
    """``source`` copied to ``target`` with SQLite's online backup API, then checked."""
    partial = target.with_name(f".{target.name}.partial")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # pages=-1: the whole file in one step, one consistent state
            (result,) = dst.execute("PRAGMA quick_check").fetchone()
        finally:
            dst.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    if result != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy of {source} failed SQLite's check: {result}")
    partial.replace(target)


def backup(
    target: Path,
    app_url: str | None = None,
    tracker_url: str | None = None,
    now: datetime | None = None,
) -> BackupResult:
    """Backs up both databases into a new folder under ``target``."""
    folder_root = check_target(target)
    sources = _sources(databases(app_url, tracker_url))
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    folder = folder_root / f"clinic-backup-{stamp}"
    lines: List[str] = []
    if not any(path is not None for _, path in sources):
        return BackupResult(None, [pg_dump_advice(db, folder_root) for db, _ in sources])
    try:
        folder.mkdir()
    except FileExistsError as exc:
        raise BackupError(f"{folder} exists already: wait a second and run it again") from exc
    except OSError as exc:
        raise BackupError(f"cannot create {folder}: {exc.strerror}") from exc
    try:
        for database, path in sources:
            if path is None:
                lines.append(pg_dump_advice(database, folder))
                continue
            copy = folder / database.backup_name
            copy_sqlite(path, copy)
            lines.append(f"{database.role}: {path} -> {copy} ({copy.stat().st_size:,} bytes)")
    except BaseException as exc:
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()
        if isinstance(exc, (OSError, sqlite3.Error)):
            raise BackupError(f"backup failed, nothing kept: {exc}") from exc
        raise
    return BackupResult(folder, lines)
