"""The app database as the actions use it: migrated and connected on first use."""

from __future__ import annotations

import logging
import sys
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from clinic.db.engine import (
    DatabaseLocationError,
    check_app_database,
    make_engine,
    make_session_factory,
)
from clinic.db.migrate import upgrade
from clinic.db.repository import BookingStoreError

logger = logging.getLogger(__name__)

# A visitor waits for this while another connection holds the SQLite file locked; then
# they are told the request could not be saved and given the clinic's phone number.
BUSY_TIMEOUT_MS = 1500


@lru_cache(maxsize=1)
def _session_factory() -> sessionmaker[Session]:
    upgrade()
    return make_session_factory(make_engine(busy_timeout_ms=BUSY_TIMEOUT_MS))


def session_factory() -> sessionmaker[Session]:
    """Sessions of the app database (DATABASE_URL); BookingStoreError when unreachable."""
    try:
        return _session_factory()
    except BookingStoreError:
        raise
    except Exception as exc:  # a failed migration or connection: not cached, retried next time
        logger.error("app database unavailable: %s", type(exc).__name__)
        raise BookingStoreError(f"the app database is unavailable: {exc}") from exc


def require_writable_database() -> None:
    """The action server's start-up check (``rasa_sdk_plugins``): a SQLite DATABASE_URL
    that cannot be written stops it with one line naming the path. A database server
    that is down is not checked here: requests then get ``utter_booking_save_failed``."""
    try:
        check_app_database()
    except DatabaseLocationError as exc:
        sys.exit(f"the action server cannot start: {exc}")
