"""Engine and session factory of the app database, from ``DATABASE_URL``.

Nothing connects at import time: callers build an engine with ``make_engine``
at start-up. A relative SQLite path (the default ``sqlite:///var/clinic.db``)
is taken from the project root, and its folder is created.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from clinic.settings import PROJECT_ROOT

DEFAULT_DATABASE_URL = "sqlite:///var/clinic.db"


def database_url(url: str | None = None) -> URL:
    """``url``, else ``DATABASE_URL``, else the default; SQLite paths made absolute."""
    parsed = make_url(url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    if parsed.get_backend_name() != "sqlite":
        return parsed
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return parsed
    path = Path(database)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return parsed.set(database=str(path))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")  # ms to wait for another writer
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine for the app database; SQLite gets foreign keys and a busy timeout."""
    resolved = database_url(url)
    engine = create_engine(resolved, future=True, pool_pre_ping=True)
    if resolved.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)
