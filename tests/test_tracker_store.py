"""The tracker store is configured by one URL (TRACKER_STORE_URL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinic.tracker_store import UrlSQLTrackerStore, sql_store_kwargs


def test_a_sqlite_url_names_the_file_and_creates_its_folder(tmp_path: Path):
    db = tmp_path / "var" / "tracker.db"
    kwargs = sql_store_kwargs(f"sqlite:///{db}")
    assert kwargs["dialect"] == "sqlite"
    assert kwargs["db"] == str(db)
    assert db.parent.is_dir()


def test_a_postgresql_url_is_split_into_the_store_arguments():
    kwargs = sql_store_kwargs("postgresql://rasa:s3cret@127.0.0.1:5433/tracker?sslmode=disable")
    assert kwargs == {
        "dialect": "postgresql",
        "host": "127.0.0.1",
        "port": 5433,
        "db": "tracker",
        "username": "rasa",
        "password": "s3cret",
        "query": {"sslmode": "disable"},
    }


def test_a_sqlite_url_without_a_file_is_refused():
    with pytest.raises(ValueError, match="names no file"):
        sql_store_kwargs("sqlite://")


def test_the_store_without_a_url_says_which_setting_is_missing():
    with pytest.raises(ValueError, match="TRACKER_STORE_URL"):
        UrlSQLTrackerStore(host=None)


async def test_the_store_writes_and_reads_a_conversation_in_sqlite(tmp_path: Path):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = UrlSQLTrackerStore(domain=Domain.empty(), host=f"sqlite:///{tmp_path / 't.db'}")
    tracker = DialogueStateTracker.from_events("visitor-1", [UserUttered("is it safe?")])
    await store.save(tracker)
    stored = await store.retrieve("visitor-1")
    assert [e.text for e in stored.events] == ["is it safe?"]
