"""Shared fixtures: the clinic profile, Rasa SDK action fixtures, the live assistant, a
throw-away PostgreSQL server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bench.services import Postgres, postgres_bin, start_postgres, stop_postgres
from clinic.settings import ClinicProfile, load_clinic

from .servers import Assistant, start_assistant, stop_assistant

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def clinic() -> ClinicProfile:
    return load_clinic(ROOT / "clinic.yml")


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    text: str = "",
    intent: str = "",
    entities: list | None = None,
    slots: Dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest message is ``text`` with that intent and entities."""
    return Tracker(
        sender_id="test-sender",
        slots=slots or {},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": entities or [],
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture
def booking_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The actions' app database (``DATABASE_URL``): a real SQLite file in ``tmp_path``."""
    from actions import store

    db = tmp_path / "clinic.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    store._session_factory.cache_clear()
    yield db
    store._session_factory.cache_clear()


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A throw-away PostgreSQL server (``make scaleout-deps``); skipped without it, failed
    under CI."""
    if postgres_bin() is None:
        message = "PostgreSQL is not installed: run `make scaleout-deps`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    pg = start_postgres()
    try:
        yield pg
    finally:
        stop_postgres(pg)


@pytest.fixture
def tracker() -> Tracker:
    return make_tracker()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """The real Rasa server and action server over HTTP, started once per test run."""
    running = start_assistant(tmp_path_factory.mktemp("assistant"))
    try:
        yield running
    finally:
        stop_assistant(running)
