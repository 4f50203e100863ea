"""Brings the app database to the newest schema: ``alembic upgrade head`` in-process.

The app calls ``upgrade()`` at start-up (before serving); the tests call it on
a temporary SQLite file. From a shell: ``.venv/bin/python -m clinic.db.migrate``
or ``.venv/bin/alembic upgrade head``, both honouring ``DATABASE_URL``.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from clinic.settings import PROJECT_ROOT


def alembic_config(url: str | None = None) -> Config:
    """The project's ``alembic.ini``, aimed at ``url`` (else ``DATABASE_URL``)."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    # Passed as an attribute, not an ini option, so '%' in a password needs no escaping.
    config.attributes["database_url"] = url
    config.attributes["embedded"] = True  # leave the caller's logging alone
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Runs the migrations up to ``revision`` on the database ``url`` names."""
    command.upgrade(alembic_config(url), revision)


if __name__ == "__main__":
    upgrade()
