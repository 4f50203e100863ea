"""Engine and session factory of the app database, from ``DATABASE_URL``.

Nothing connects at import time: callers build an engine with ``make_engine``
at start-up. A relative SQLite path (the default ``sqlite:///var/clinic.db``)
is taken from the project root, and its folder is created.

``check_writable`` is the start-up check of the web app, the action server and
``make run``: a SQLite file that cannot be written stops them with one line naming
the path. ``python -m clinic.db.engine`` runs it on ``DATABASE_URL`` and
``TRACKER_STORE_URL``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from clinic.settings import PROJECT_ROOT

DEFAULT_DATABASE_URL = "sqlite:///var/clinic.db"
DEFAULT_TRACKER_STORE_URL = "sqlite:///var/tracker.db"
BUSY_TIMEOUT_MS = 5000  # how long a SQLite connection waits for another writer


class DatabaseLocationError(RuntimeError):
    """The SQLite file a URL names cannot be created or written."""


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL (relative paths from the project root); None for other
    databases, in-memory ones and ``file:`` URIs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    return path if path.is_absolute() else PROJECT_ROOT / path


def database_url(url: str | None = None) -> URL:
    """``url``, else ``DATABASE_URL``, else the default; SQLite paths made absolute."""
    parsed = make_url(url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    path = sqlite_file(parsed)
    if path is None:
        return parsed
    path.parent.mkdir(parents=True, exist_ok=True)
    return parsed.set(database=str(path))


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _not_a_folder(folder: Path) -> Path | None:
    """The nearest existing ancestor of ``folder`` when it is not a folder."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def check_writable(url: str, variable: str) -> None:
    """Raises ``DatabaseLocationError`` (one line, naming the path) when the SQLite file
    of ``url`` cannot be created or written: its folder missing and not creatable, not
    writable (permissions, a read-only or full file system) or the file read-only.
    Creates the folder when it can; other databases are not checked."""
    path = sqlite_file(url)
    if path is None:
        return
    folder = path.parent
    blocker = _not_a_folder(folder)
    if blocker is not None:
        raise DatabaseLocationError(
            f"{variable} names {path}, but {blocker} is a file, not a folder"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".write-check-") as probe:
            probe.write(b"\0")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        raise DatabaseLocationError(
            f"{variable} names {path}, but the folder {folder} is not writable: {_reason(exc)}"
        ) from exc
    if path.exists():
        try:
            with path.open("r+b"):
                pass
        except OSError as exc:
            raise DatabaseLocationError(
                f"{variable} names {path}, which is not writable: {_reason(exc)}"
            ) from exc


def check_app_database(url: str | None = None) -> None:
    """``check_writable`` on ``url``, else ``DATABASE_URL``, else the default."""
    check_writable(url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL, "DATABASE_URL")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str | None = None, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """An engine for the app database; SQLite gets foreign keys and a busy timeout
    (milliseconds a connection waits for another writer before it gives up)."""
    resolved = database_url(url)
    if resolved.get_backend_name() != "sqlite":
        return create_engine(resolved, future=True, pool_pre_ping=True)
    engine = create_engine(
        resolved,
        future=True,
        pool_pre_ping=True,
        connect_args={"timeout": busy_timeout_ms / 1000},  # sqlite3's busy timeout, seconds
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def main() -> None:
    """``python -m clinic.db.engine``: checks ``DATABASE_URL`` and ``TRACKER_STORE_URL``."""
    env = os.environ
    try:
        check_app_database()
        check_writable(
            env.get("TRACKER_STORE_URL") or DEFAULT_TRACKER_STORE_URL, "TRACKER_STORE_URL"
        )
    except DatabaseLocationError as exc:
        sys.exit(f"the clinic assistant cannot start: {exc}")


if __name__ == "__main__":
    main()
