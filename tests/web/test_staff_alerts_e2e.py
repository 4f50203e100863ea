"""Staff alerts through the real stack: a whole booking and a red flag run through the real
Rasa server and action server (``real_conversations``); the web app, started on copies of
their databases, e-mails each once to a real SMTP server, without the patient's details."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Callable, Tuple

import pytest
from starlette.testclient import TestClient

from clinic.alerts.smtp import parse_smtp_url
from clinic.web.app import create_app
from clinic.web.settings import WebSettings

from ..smtp_sink import SmtpSink
from ..test_staff_alerts import CONSOLE, STAFF, wait_for
from .conftest import RealConversations

pytestmark = pytest.mark.e2e

# what the booking conversation and the red-flag conversation typed (tests/web/conftest.py)
PERSONAL = ("Nora", "Quill", "555-0177", "5550177", "nora.quill", "stiff neck", "chest pain")


def test_a_real_booking_and_a_real_red_flag_each_email_staff_once_with_nothing_personal(
    make_settings: Callable[..., WebSettings],
    console_dbs: Tuple[Path, Path],
    real_conversations: RealConversations,
    clinic,
):
    tracker, app_db = console_dbs
    with sqlite3.connect(app_db) as db:
        [(reference,)] = db.execute(
            "SELECT reference FROM bookings WHERE conversation_id = ?",
            (real_conversations.booking,),
        ).fetchall()
    sink = SmtpSink()
    settings = make_settings(
        clinic=clinic.copy(update={"staff_alerts": STAFF}),
        tracker_store_url=f"sqlite:///{tracker}",
        database_url=f"sqlite:///{app_db}",
        alert_interval_s=0.2,
        smtp=parse_smtp_url(sink.url),
        console_url=CONSOLE,
    )
    expected = [f"Booking request: {reference}", f"Red flag: {real_conversations.red_flag}"]

    def subjects() -> list[str]:
        return [m["Subject"] for m in sink.messages if m["Subject"] in expected]

    try:
        with TestClient(create_app(settings)):
            assert wait_for(lambda: len(subjects()) >= 2, seconds=20)
            time.sleep(1.0)  # five more runs of the sender: nothing is sent again
    finally:
        sink.stop()
    assert sorted(subjects()) == sorted(expected)
    for message in sink.messages:
        for detail in PERSONAL:
            assert detail.lower() not in message.as_string().lower(), detail
