"""Booking requests are stored once, atomically, in a real SQLite file migrated by Alembic."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from clinic.db import repository
from clinic.db.engine import (
    DatabaseLocationError,
    check_writable,
    database_url,
    make_engine,
    make_session_factory,
)
from clinic.db.migrate import upgrade
from clinic.db.models import Base, Booking
from clinic.db.repository import (
    REFERENCE_ALPHABET,
    BookingRequest,
    BookingStoreError,
    count_requests_at,
    new_reference,
    save_request,
    taken_counts,
)

NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 24, 14, 0, tzinfo=NY)
CONTRACT_COLUMNS = {
    "reference",
    "patient_name",
    "phone",
    "email",
    "preferred_start",
    "concern",
    "new_patient",
    "status",
    "conversation_id",
    "created_at",
}


def request(**changes) -> BookingRequest:
    fields = dict(
        kind="booking",
        patient_name="Jane Doe",
        phone="+12025550143",
        email="jane@example.com",
        preferred_start=START,
        concern="lower back pain",
        new_patient=True,
        pregnant=False,
        blood_thinners=None,
        needle_fear=True,
        conversation_id="sender-1",
    )
    fields.update(changes)
    return BookingRequest(**fields)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.engine.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return make_session_factory(engine)


def rows(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.select(Booking.__table__)).mappings().all()


def test_the_migration_creates_bookings_with_the_contract_columns(engine):
    inspector = sa.inspect(engine)
    columns = {column["name"] for column in inspector.get_columns("bookings")}
    assert CONTRACT_COLUMNS <= columns
    assert {"id", "kind", "callback_time", "idempotency_key", "pregnant"} <= columns
    unique = {tuple(item["column_names"]) for item in inspector.get_unique_constraints("bookings")}
    assert {("reference",), ("idempotency_key",)} <= unique
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def test_the_models_and_the_migrations_agree(engine):
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_upgrading_twice_changes_nothing(db_url: str, engine):
    upgrade(db_url)
    assert sa.inspect(engine).has_table("bookings")


def test_sqlite_connections_enforce_foreign_keys_and_wait_when_busy(engine):
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_the_status_must_be_one_of_the_contract_values(engine):
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.insert(Booking.__table__).values(
                reference="RC-AAAAAA",
                kind="booking",
                patient_name="Jane",
                phone="+12025550143",
                preferred_start="2026-11-24T14:00:00-05:00",
                status="maybe",
                idempotency_key="k",
                created_at=datetime.now(timezone.utc),
            )
        )


def test_save_stores_one_row_with_the_normalised_fields(sessions, engine):
    reference, created = save_request(sessions, request(), "sender-1:1")
    assert created
    [row] = rows(engine)
    assert row["reference"] == reference
    assert row["preferred_start"] == "2026-11-24T14:00:00-05:00"
    assert (row["kind"], row["status"], row["phone"]) == ("booking", "requested", "+12025550143")
    assert (row["new_patient"], row["pregnant"], row["blood_thinners"], row["needle_fear"]) == (
        True,
        False,
        None,
        True,
    )
    assert row["conversation_id"] == "sender-1" and row["idempotency_key"] == "sender-1:1"
    age = datetime.now(timezone.utc) - row["created_at"].replace(tzinfo=timezone.utc)
    assert 0 <= age.total_seconds() < 60  # stored in UTC


def test_saving_twice_with_the_same_key_makes_one_row(sessions, engine):
    first = save_request(sessions, request(), "sender-1:1")
    again = save_request(sessions, request(concern="changed my mind"), "sender-1:1")
    assert again == (first[0], False)
    assert len(rows(engine)) == 1
    other = save_request(sessions, request(), "sender-1:2")
    assert other[1] and other[0] != first[0]
    assert len(rows(engine)) == 2


def test_a_callback_needs_no_start(sessions, engine):
    callback = request(kind="callback", preferred_start=None, callback_time="after 5pm today")
    save_request(sessions, callback, "sender-2:1")
    [row] = rows(engine)
    assert (row["kind"], row["preferred_start"], row["callback_time"]) == (
        "callback",
        None,
        "after 5pm today",
    )


def test_a_booking_without_a_start_or_key_is_a_programming_error(sessions, engine):
    with pytest.raises(ValueError, match="preferred start"):
        save_request(sessions, request(preferred_start=None), "k")
    with pytest.raises(ValueError, match="idempotency key"):
        save_request(sessions, request(), "")
    assert rows(engine) == []


def test_references_are_short_and_have_no_ambiguous_characters():
    references = {new_reference() for _ in range(500)}
    assert len(references) == 500
    for reference in references:
        assert reference.startswith("RC-") and len(reference) == 9
        assert set(reference[3:]) <= set(REFERENCE_ALPHABET)
    assert not set("01OILU") & set(REFERENCE_ALPHABET)


def test_a_reference_collision_is_drawn_again(sessions, engine, monkeypatch):
    save_request(sessions, request(), "first")
    taken = rows(engine)[0]["reference"]
    draws = iter([taken, taken, "RC-NEWONE"])
    monkeypatch.setattr(repository, "new_reference", lambda: next(draws))
    assert save_request(sessions, request(), "second") == ("RC-NEWONE", True)
    assert len(rows(engine)) == 2


def test_a_reference_that_always_collides_raises_and_leaves_no_row(sessions, engine, monkeypatch):
    save_request(sessions, request(), "first")
    taken = rows(engine)[0]["reference"]
    monkeypatch.setattr(repository, "new_reference", lambda: taken)
    with pytest.raises(BookingStoreError, match="no free reference"):
        save_request(sessions, request(), "second")
    assert [row["idempotency_key"] for row in rows(engine)] == ["first"]


def test_a_read_only_database_raises_and_leaves_no_row(db_url: str, engine):
    read_only = make_engine(f"sqlite:///file:{engine.url.database}?mode=ro&uri=true")
    try:
        with pytest.raises(BookingStoreError, match="readonly database"):
            save_request(make_session_factory(read_only), request(), "sender-1:1")
    finally:
        read_only.dispose()
    assert rows(engine) == []


def test_an_unmigrated_database_raises_booking_store_error(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    sessions = make_session_factory(engine)
    with pytest.raises(BookingStoreError):
        save_request(sessions, request(), "k")
    with pytest.raises(BookingStoreError):
        count_requests_at(sessions, START)
    engine.dispose()


def test_count_requests_at_counts_requested_and_confirmed_bookings_at_that_start(sessions, engine):
    for number, status in enumerate(["requested", "confirmed", "cancelled", "requested"]):
        start = START if number < 3 else START.replace(hour=15)
        save_request(sessions, request(preferred_start=start), f"k{number}")
        with engine.begin() as connection:
            connection.execute(
                sa.update(Booking.__table__)
                .where(Booking.__table__.c.idempotency_key == f"k{number}")
                .values(status=status)
            )
    save_request(sessions, request(kind="callback", preferred_start=START), "callback")
    assert count_requests_at(sessions, START) == 2
    assert count_requests_at(sessions, START.replace(hour=15)) == 1
    assert count_requests_at(sessions, START.replace(hour=16)) == 0
    assert taken_counts(sessions, date(2026, 11, 24), date(2026, 11, 24)) == {
        START: 2,
        START.replace(hour=15): 1,
    }
    assert taken_counts(sessions, date(2026, 11, 25), date(2026, 12, 31)) == {}


def test_a_relative_sqlite_url_lands_under_the_project_root():
    from clinic.settings import PROJECT_ROOT

    url = database_url("sqlite:///var/clinic.db")
    assert url.database == str(PROJECT_ROOT / "var" / "clinic.db")
    assert database_url("sqlite:////tmp/x.db").database == "/tmp/x.db"
    assert database_url("postgresql://u:p@127.0.0.1/clinic").database == "clinic"


def test_database_url_comes_from_the_environment(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'sub' / 'env.db'}")
    assert database_url().database == str(tmp_path / "sub" / "env.db")
    assert (tmp_path / "sub").is_dir()  # the folder is created


def test_a_shorter_busy_timeout_can_be_asked_for(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'short.db'}", busy_timeout_ms=1500)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1500
    engine.dispose()


def test_a_writable_location_passes_the_check_with_its_folder_made_and_nothing_left(
    tmp_path: Path,
):
    check_writable(f"sqlite:///{tmp_path / 'new' / 'clinic.db'}", "DATABASE_URL")
    assert list((tmp_path / "new").iterdir()) == []
    check_writable("postgresql://u:p@127.0.0.1:1/clinic", "DATABASE_URL")  # not checked here


def test_a_file_where_the_folder_should_be_fails_the_check_naming_both(tmp_path: Path):
    (tmp_path / "var").write_text("not a folder")
    database = tmp_path / "var" / "sub" / "clinic.db"
    with pytest.raises(DatabaseLocationError) as raised:
        check_writable(f"sqlite:///{database}", "DATABASE_URL")
    assert str(raised.value) == (
        f"DATABASE_URL names {database}, but {tmp_path / 'var'} is a file, not a folder"
    )


def test_a_database_path_that_cannot_be_opened_for_writing_fails_the_check(tmp_path: Path):
    (tmp_path / "clinic.db").mkdir()  # anyone, root too, is refused a folder opened as a file
    with pytest.raises(DatabaseLocationError, match="clinic.db, which is not writable"):
        check_writable(f"sqlite:///{tmp_path / 'clinic.db'}", "TRACKER_STORE_URL")


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root")
def test_a_read_only_folder_fails_the_check(tmp_path: Path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(DatabaseLocationError, match="is not writable: Permission denied"):
            check_writable(f"sqlite:///{folder / 'clinic.db'}", "DATABASE_URL")
    finally:
        folder.chmod(0o755)
