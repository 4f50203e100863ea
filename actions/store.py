"""The app database as the actions use it: migrated and connected on first use."""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from clinic.db.engine import make_engine, make_session_factory
from clinic.db.migrate import upgrade
from clinic.db.repository import BookingStoreError

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _session_factory() -> sessionmaker[Session]:
    upgrade()
    return make_session_factory(make_engine())


def session_factory() -> sessionmaker[Session]:
    """Sessions of the app database (DATABASE_URL); BookingStoreError when unreachable."""
    try:
        return _session_factory()
    except BookingStoreError:
        raise
    except Exception as exc:  # a failed migration or connection: not cached, retried next time
        logger.error("app database unavailable: %s", type(exc).__name__)
        raise BookingStoreError(f"the app database is unavailable: {exc}") from exc
