"""Rasa's SQL tracker store configured by one URL (``TRACKER_STORE_URL``).

``endpoints.yml`` names this class; Rasa passes the ``url`` value as ``host``.
The URL is split into the keyword arguments ``SQLTrackerStore`` expects, so the
same setting works for SQLite (``sqlite:///var/tracker.db``) and PostgreSQL
(``postgresql://user:secret@127.0.0.1:5432/rasa``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.engine.url import make_url


def sql_store_kwargs(url: str) -> Dict[str, Any]:
    """The ``SQLTrackerStore`` arguments that a database URL stands for."""
    parsed = make_url(url)
    kwargs: Dict[str, Any] = {
        "dialect": parsed.drivername,
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
        "query": dict(parsed.query) or None,
    }
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database:
            raise ValueError(f"the SQLite tracker store URL '{url}' names no file")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return kwargs


class UrlSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose connection comes from a single URL."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        if not host:
            raise ValueError("the tracker store needs a URL (set TRACKER_STORE_URL)")
        super().__init__(
            domain=domain, event_broker=event_broker, **sql_store_kwargs(host), **kwargs
        )
