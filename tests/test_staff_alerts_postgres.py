"""Staff alerts on PostgreSQL: the migration, the alert saved with the booking, rival senders
sending each alert once (``postgres`` of tests/conftest.py: a throw-away server)."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from bench.services import create_database
from clinic.db.engine import make_engine, make_session_factory
from clinic.db.migrate import upgrade
from clinic.db.repository import BookingRequest, save_request

from .smtp_sink import SmtpSink
from .test_staff_alerts import STAFF, alerts, make_sender, wait_for


def test_on_postgresql_each_booking_alert_is_saved_with_it_and_sent_once(postgres, clinic):
    url = create_database(postgres, "alerts")
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    start = datetime(2026, 11, 24, 14, 0, tzinfo=ZoneInfo("America/New_York"))
    request = BookingRequest("booking", "Ann Lee", "+12025550123", "c1", preferred_start=start)
    references = {save_request(sessions, request, f"key-{n}")[0] for n in range(4)}
    assert {a.reference for a in alerts(sessions)} == references
    sink = SmtpSink()
    try:
        staff_clinic = clinic.copy(update={"staff_alerts": STAFF})
        senders = [make_sender(sessions, staff_clinic, sink.url) for _ in range(3)]
        threads = [threading.Thread(target=s.run_once) for s in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wait_for(lambda: len(sink.messages) >= 4)
        assert sorted(m["Subject"] for m in sink.messages) == sorted(
            f"Booking request: {r}" for r in references
        )
        assert {a.status for a in alerts(sessions)} == {"sent"}
    finally:
        sink.stop()
        engine.dispose()
