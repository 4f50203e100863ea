"""Staff alerts: SMTP_URL and staff_alerts checked, the outbox written with the booking,
e-mails through a real SMTP server on 127.0.0.1 (tests/smtp_sink.py), exactly once, with
nothing personal in them, delayed but not lost while the server is down."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import ssl
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Callable, List

import pytest
from rasa_sdk.executor import CollectingDispatcher
from starlette.testclient import TestClient

from actions import booking
from actions.booking import ActionSubmitBooking, ActionSubmitCallback
from clinic.alerts import outbox
from clinic.alerts.sender import AlertSender
from clinic.alerts.smtp import SmtpTarget, SmtpUrlError, parse_smtp_url, send_message
from clinic.console.index import ConversationIndexer
from clinic.console.retention import purge, tracker_engine
from clinic.db.engine import make_engine, make_session_factory
from clinic.db.migrate import upgrade
from clinic.db.models import StaffAlert
from clinic.settings import ClinicProfile, ClinicSettingsError, parse_clinic
from clinic.web.app import create_app
from clinic.web.history import make_read_only_engine
from clinic.web.settings import WEB_ROOT, WebSettings, WebSettingsError, load_settings
from clinic.web.texts import load_texts

from .conftest import ROOT, make_tracker
from .servers import free_port
from .smtp_sink import SilentServer, SmtpSink, TlsSmtpServer
from .test_booking_actions import BOOKING_SLOTS, NOW

STAFF = ["front-desk@riverside-chiro.example", "owner@riverside-chiro.example"]
PERSONAL = ("Ann Lee", "+12025550123", "2025550123", "ann.lee@mail.example", "lower back pain")
CONSOLE = "https://console.riverside-chiro.example"


# --- SMTP_URL and staff_alerts --------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", SmtpTarget("plain", "127.0.0.1", 2525)),
        ("smtp://mail.example", SmtpTarget("plain", "mail.example", 25)),
        (
            "smtp+starttls://alerts:s3cr%40t@mail.example:587",
            SmtpTarget("starttls", "mail.example", 587, "alerts", "s3cr@t"),
        ),
        ("smtp+starttls://u:p@mail.example", SmtpTarget("starttls", "mail.example", 587, "u", "p")),
        ("smtps://u:p@mail.example:465", SmtpTarget("tls", "mail.example", 465, "u", "p")),
        ("SMTPS://u:p@mail.example", SmtpTarget("tls", "mail.example", 465, "u", "p")),
    ],
)
def test_each_smtp_url_scheme_parses_to_its_security_host_port_and_login(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "SMTP_URL is empty"),
        ("mail.example:25", "is not a URL"),
        ("http://mail.example", "scheme 'http'"),
        ("smtp+ssl://mail.example", "scheme 'smtp+ssl'"),
        ("smtp://:25", "names no host"),
        ("smtp://mail.example:port", "port 'port' is not a number"),
        ("smtp://mail.example:70000", "is not a number 1-65535"),
        ("smtp://mail.example:0", "port 0"),
        ("smtps://user@mail.example", "both a user and a password"),
        ("smtp://u:p@mail.example", "password over plain smtp://"),
        ("smtp://mail.example/alerts", "no path"),
    ],
)
def test_a_bad_smtp_url_is_refused_with_a_message_naming_the_problem(url, problem):
    with pytest.raises(SmtpUrlError, match=re.escape(problem)):
        parse_smtp_url(url)


def test_a_bad_smtp_url_stops_the_web_settings_and_the_password_never_shows():
    with pytest.raises(WebSettingsError, match="scheme 'imap'"):
        load_settings({"SMTP_URL": "imap://mail.example"})
    target = parse_smtp_url("smtps://alerts:hunter2@mail.example")
    assert "hunter2" not in f"{target} {target!r}"
    assert load_settings({}).smtp is None


def test_staff_alerts_in_clinic_yml_are_checked_and_a_bad_address_is_named():
    text = (ROOT / "clinic.yml").read_text(encoding="utf-8")
    good = parse_clinic(text + f"\nstaff_alerts: [{STAFF[0]}, ' {STAFF[1]} ']\n")
    assert good.staff_alerts == STAFF
    with pytest.raises(ClinicSettingsError, match="staff_alerts: 'front desk' is not an e-mail"):
        parse_clinic(text + "\nstaff_alerts: [owner@riverside-chiro.example, front desk]\n")
    with pytest.raises(ClinicSettingsError, match="staff_alerts: must be a list"):
        parse_clinic(text + "\nstaff_alerts: owner@riverside-chiro.example\n")


# --- TLS and logging in, against a real server ---------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1: (certificate, key) files."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize("scheme", ["smtps", "smtp+starttls"])
async def test_a_tls_smtp_url_logs_in_over_tls_and_delivers_the_alert(
    sessions, staff_clinic, certificate, scheme
):
    cert, key = certificate
    mode = "tls" if scheme == "smtps" else "starttls"
    server = TlsSmtpServer(mode, cert, key, "alerts", "s3cr@t pw")
    trusting = partial(send_message, context=ssl.create_default_context(cafile=cert))
    url = f"{scheme}://alerts:s3cr%40t%20pw@127.0.0.1:{server.port}"
    try:
        reference = await submit_booking()
        assert make_sender(sessions, staff_clinic, url, send=trusting).run_once().sent == 1
        assert [m["Subject"] for m in server.messages] == [f"Booking request: {reference}"]
    finally:
        server.stop()


async def test_a_wrong_smtp_password_or_an_untrusted_certificate_leaves_the_alert_pending(
    sessions, staff_clinic, certificate
):
    cert, key = certificate
    server = TlsSmtpServer("starttls", cert, key, "alerts", "right")
    trusting = partial(send_message, context=ssl.create_default_context(cafile=cert))
    url = f"smtp+starttls://alerts:wrong@127.0.0.1:{server.port}"
    try:
        await submit_booking()
        assert make_sender(sessions, staff_clinic, url, send=trusting).run_once().failed == 1
        assert "SMTPAuthenticationError 535" in alerts(sessions)[0].last_error
        clock = Clock()
        clock.now += timedelta(hours=1)
        right = url.replace("wrong", "right")  # the system's CAs do not know this certificate
        assert make_sender(sessions, staff_clinic, right, clock=clock).run_once().failed == 1
        assert "SSLCertVerificationError" in alerts(sessions)[0].last_error
        assert server.messages == []
        assert alerts(sessions)[0].status == "pending"
    finally:
        server.stop()


# --- the booking code path and the outbox ---------------------------------------------


@pytest.fixture
def sessions(booking_database: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(booking, "now", lambda: NOW)
    engine = make_engine(f"sqlite:///{booking_database}")
    upgrade(f"sqlite:///{booking_database}")
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def sink():
    server = SmtpSink()
    yield server
    server.stop()


@pytest.fixture
def staff_clinic(clinic: ClinicProfile) -> ClinicProfile:
    return clinic.copy(update={"staff_alerts": STAFF})


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc) + timedelta(seconds=1)  # alerts queued now are due

    def __call__(self) -> datetime:
        return self.now


def make_sender(sessions, clinic, url: str | None, **kwargs) -> AlertSender:
    target = parse_smtp_url(url) if url else None
    words = load_texts(WEB_ROOT / "messages.yml", clinic).alerts  # as the web app gives them
    return AlertSender(sessions, clinic, target, CONSOLE, words, **kwargs)


async def submit_booking(conversation: str = "visitor-7", attempt: str = "a1") -> str:
    dispatcher = CollectingDispatcher()
    slots = {**BOOKING_SLOTS, "email": "ann.lee@mail.example", "booking_attempt": attempt}
    tracker = make_tracker(slots=slots)
    tracker.sender_id = conversation
    events = await ActionSubmitBooking().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_booking_saved"
    return events[0]["value"]


def alerts(sessions) -> List[StaffAlert]:
    with sessions() as session:
        return list(session.query(StaffAlert).order_by(StaffAlert.id))


def web_settings(clinic: ClinicProfile, app_db: Path, tmp_path: Path, **changes) -> WebSettings:
    """The web app on ``app_db`` with an empty tracker store, Rasa down, alerts every 0.05 s."""
    return WebSettings(
        clinic=clinic,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        tracker_store_url=f"sqlite:///{tracker_db(tmp_path / 'tracker.db')}",
        database_url=f"sqlite:///{app_db}",
        alert_interval_s=0.05,
        console_url=CONSOLE,
        **changes,
    )


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


async def test_a_booking_sends_one_email_with_its_reference_time_and_link_and_nothing_personal(
    sessions, sink, staff_clinic
):
    reference = await submit_booking()
    report = make_sender(sessions, staff_clinic, sink.url).run_once()
    assert (report.sent, report.failed) == (1, 0)
    assert wait_for(lambda: len(sink.messages) == 1)
    message = sink.messages[0]
    body = message.get_payload(decode=True).decode()
    assert message["Subject"] == f"Booking request: {reference}"
    assert message["X-Envelope-To"] == ", ".join(STAFF)
    [(booking_id,)] = sqlite3.connect(sessions.kw["bind"].url.database).execute(
        "SELECT id FROM bookings"
    )
    link = f"{CONSOLE}/staff/bookings?q={reference}#booking-{booking_id}"
    assert f"Console: {link}" in body  # the list searched for it: found on any page
    assert f"Booking reference: {reference}" in body
    assert "(America/New_York)" in body
    whole = message.as_string()
    for detail in PERSONAL:
        assert detail not in whole, detail
    assert len(body.strip().splitlines()) == 4  # kind, reference, time, link: nothing else


async def test_a_callback_request_is_alerted_as_a_call_back(sessions, sink, staff_clinic):
    dispatcher = CollectingDispatcher()
    slots = {"booking_attempt": "c1", "patient_name": "Ann Lee", "phone": "+12025550123"}
    slots |= {"callback_time": "after 5pm", "concern": "lower back pain"}
    events = await ActionSubmitCallback().run(dispatcher, make_tracker(slots=slots), {})
    make_sender(sessions, staff_clinic, sink.url).run_once()
    assert wait_for(lambda: len(sink.messages) == 1)
    assert sink.messages[0]["Subject"] == f"Call-back request: {events[0]['value']}"
    assert "after 5pm" not in sink.messages[0].as_string()


async def test_the_alert_is_written_with_the_booking_and_a_repeat_submit_adds_neither(sessions):
    first = await submit_booking(attempt="a1")
    again = await submit_booking(attempt="a1")
    assert first == again
    [alert] = alerts(sessions)
    assert (alert.kind, alert.reference, alert.status) == ("booking", first, "pending")


async def test_with_the_smtp_server_hanging_the_booking_is_as_fast_and_the_email_comes_later(
    sessions, staff_clinic
):
    hung = SilentServer()
    clock = Clock()
    sender = make_sender(
        sessions,
        staff_clinic,
        f"smtp://127.0.0.1:{hung.port}",
        clock=clock,
        send=partial(send_message, timeout_s=0.5),
    )
    try:
        started = time.monotonic()
        reference = await submit_booking()
        assert time.monotonic() - started < 2.0  # a sender in the request would wait 10 s
        report = sender.run_once()
        assert (report.sent, report.failed) == (0, 1)
        [alert] = alerts(sessions)
        assert (alert.status, alert.attempts) == ("pending", 1)
        assert "SMTPServerDisconnected" in alert.last_error or "timeout" in alert.last_error
    finally:
        hung.stop()
    assert sender.run_once().sent == 0  # backing off: not due yet
    back = SmtpSink(hung.port)  # the server comes back on the same address
    try:
        clock.now += timedelta(seconds=outbox.backoff_s(1) + 1)
        assert sender.run_once().sent == 1
        assert wait_for(lambda: len(back.messages) == 1)
        assert reference in back.messages[0]["Subject"]
        [alert] = alerts(sessions)
        assert (alert.status, alert.attempts) == ("sent", 2)
    finally:
        back.stop()


async def test_with_the_smtp_server_down_alerts_wait_with_growing_backoff(sessions, staff_clinic):
    clock = Clock()
    sender = make_sender(sessions, staff_clinic, f"smtp://127.0.0.1:{free_port()}", clock=clock)
    await submit_booking()
    waits = []
    for _ in range(4):
        assert sender.run_once().failed == 1
        [alert] = alerts(sessions)
        waits.append((outbox.as_utc(alert.next_attempt_at) - clock.now).total_seconds())
        clock.now = outbox.as_utc(alert.next_attempt_at)
    assert waits == [30.0, 60.0, 120.0, 240.0]
    assert alerts(sessions)[0].status == "pending"  # never given up: delayed, not lost


async def test_the_outbox_never_sends_an_alert_twice_across_runs_and_rival_senders(
    sessions, sink, staff_clinic
):
    references = {await submit_booking(attempt=f"a{n}") for n in range(5)}
    senders = [make_sender(sessions, staff_clinic, sink.url) for _ in range(3)]
    threads = [threading.Thread(target=s.run_once) for s in senders for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sender in senders:
        assert sender.run_once().sent == 0
    assert wait_for(lambda: len(sink.messages) >= 5)
    time.sleep(0.3)
    subjects = sorted(message["Subject"] for message in sink.messages)
    assert subjects == sorted(f"Booking request: {r}" for r in references)
    assert {a.status for a in alerts(sessions)} == {"sent"}


async def test_without_smtp_url_alerts_stay_queued_and_the_web_app_logs_why(
    sessions, booking_database: Path, tmp_path: Path, staff_clinic, caplog
):
    await submit_booking()
    settings = web_settings(staff_clinic, booking_database, tmp_path, smtp=None)
    with caplog.at_level(logging.INFO), TestClient(create_app(settings)):
        time.sleep(0.5)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("staff alerts stay queued" in m and "SMTP_URL is not set" in m for m in warnings)
    assert [a.status for a in alerts(sessions)] == ["pending"]


async def test_with_no_staff_addresses_no_email_is_sent_and_nothing_piles_up(
    sessions, sink, clinic
):
    await submit_booking()
    sender = make_sender(sessions, clinic.copy(update={"staff_alerts": []}), sink.url)
    assert sender.run_once().skipped == 1
    time.sleep(0.2)
    assert sink.messages == []
    assert [a.status for a in alerts(sessions)] == ["skipped"]
    assert "off" in sender.describe()


async def test_retention_deletes_the_alerts_older_than_the_cutoff_and_keeps_newer_ones(
    sessions, tmp_path: Path
):
    await submit_booking()
    with sessions() as session:
        session.query(StaffAlert).update({"created_at": datetime(2020, 1, 1, tzinfo=timezone.utc)})
        session.commit()
    await submit_booking(attempt="a2")
    tracker = tracker_engine(f"sqlite:///{tracker_db(tmp_path / 'tracker.db')}", ROOT)
    purge(sessions, tracker, retention_days=30)
    tracker.dispose()
    assert len(alerts(sessions)) == 1


# --- red-flag conversations -----------------------------------------------------------


def tracker_db(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT,"
            " timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)"
        )
    return path


def add_user_message(path: Path, sender: str, text: str, red_flag: bool, at: float) -> None:
    entities = [{"entity": "red_flag", "value": "cardiac"}] if red_flag else []
    data = {"event": "user", "text": text, "parse_data": {"intent": {}, "entities": entities}}
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
            (sender, at, json.dumps(data)),
        )


def test_a_red_flag_conversation_gets_one_alert_however_many_flagged_messages(
    sessions, tmp_path: Path, sink, staff_clinic
):
    tracker = tracker_db(tmp_path / "tracker.db")
    ro = make_read_only_engine(f"sqlite:///{tracker}", ROOT)
    indexer = ConversationIndexer(sessions, ro)
    now = time.time()
    add_user_message(tracker, "calm-visitor", "my neck is stiff", False, now)
    add_user_message(tracker, "visitor/9", "crushing chest pain", True, now)
    indexer.sync()
    add_user_message(tracker, "visitor/9", "my left arm is numb too and i feel sick", True, now + 1)
    add_user_message(tracker, "visitor/9", "still chest pain", True, now + 2)
    indexer.sync()
    ro.dispose()
    assert [(a.kind, a.reference) for a in alerts(sessions)] == [("red_flag", "visitor/9")]
    make_sender(sessions, staff_clinic, sink.url).run_once()
    assert wait_for(lambda: len(sink.messages) == 1)
    message = sink.messages[0].as_string()
    assert "Red flag: visitor/9" in message
    assert f"{CONSOLE}/staff/conversations/visitor%2F9" in message
    assert "chest" not in message and "cardiac" not in message


def test_building_the_index_from_old_events_alerts_no_one_about_old_red_flags(
    sessions, tmp_path: Path
):
    tracker = tracker_db(tmp_path / "tracker.db")
    add_user_message(tracker, "last-month", "crushing chest pain", True, time.time() - 30 * 86400)
    ro = make_read_only_engine(f"sqlite:///{tracker}", ROOT)
    ConversationIndexer(sessions, ro).sync()
    ro.dispose()
    assert alerts(sessions) == []


# --- the web app runs the sender -------------------------------------------------------


async def test_the_web_app_sends_queued_alerts_on_its_own(
    sessions, booking_database: Path, tmp_path: Path, sink, staff_clinic
):
    reference = await submit_booking()
    settings = web_settings(staff_clinic, booking_database, tmp_path, smtp=parse_smtp_url(sink.url))
    with TestClient(create_app(settings)):
        assert wait_for(lambda: len(sink.messages) == 1)
    assert sink.messages[0]["Subject"] == f"Booking request: {reference}"
