"""No visitor data in the logs: ``scripts/run.sh`` (what ``make run`` starts under
supervisord: action server, Rasa server, web app, each with logging.yml) carries a whole
booking with a name, a phone number and an e-mail address through the chat gateway, plus
a broken Rasa payload quoting the name straight into the REST channel; then ALL the
output of the three processes is searched for those and for every message text. The web
app's lines are JSON.

And clinic/logs.py on its own: the access log without address or query string, Rasa's
structured events and warnings without what the visitor wrote."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
from typing import Dict, Iterator, List

import httpx
import pytest

from clinic.logs import JsonFormatter, PrivateDataFilter

from .servers import ROOT, MakeRun, start_make_run, stop_make_run

NAME = "Margot Ellingham"
PHONE = "(202) 555-0199"
EMAIL = "margot.ellingham@example.org"
CONCERN = "my shoulder blade aches after gardening"
BOOKING = [
    "hello there",
    "is dry needling safe for someone like me?",
    "i'd like to book an appointment",
    NAME,
    PHONE,
    EMAIL,
    "next friday at 3pm",
    CONCERN,
    "no",  # been before
    "no",  # pregnant
    "yes",  # blood thinners
    "no",  # afraid of needles
    "yes",  # the summary is right
]
BROKEN_PAYLOAD = '/greet{"name": "' + NAME  # Rasa warns, quoting the line it could not parse
PRIVATE = [
    NAME,
    "Margot",
    "Ellingham",
    EMAIL,
    "margot.ellingham",
    PHONE,
    "555-0199",
    "5550199",
    CONCERN,
    "shoulder blade",
    *[text for text in BOOKING if len(text) >= 10],
]
ORIGIN = "http://127.0.0.1:8000"  # in clinic.yml's allowed_origins


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    """scripts/run.sh on free ports with its data in a temporary directory."""
    run = start_make_run(tmp_path_factory.mktemp("make-run"))
    try:
        yield run
    finally:
        stop_make_run(run)


@pytest.fixture(scope="module")
def conversation(make_run: MakeRun) -> Dict[str, object]:
    """The booking through the gateway, the broken payload into Rasa; then everything
    the three processes wrote, once they have stopped."""
    replies: List[str] = []
    with httpx.Client(base_url=make_run.web, timeout=60) as client:
        for text in BOOKING:
            response = client.post("/api/chat", json={"message": text}, headers={"Origin": ORIGIN})
            assert response.status_code == 200, response.text
            replies += [m["text"] for m in response.json()["messages"]]
        cookie = client.cookies["clinic_chat"]
    response = httpx.post(
        f"{make_run.rasa}/webhooks/rest/webhook",
        json={"sender": "log-test", "message": BROKEN_PAYLOAD},
        timeout=60,
    )
    assert response.status_code == 200
    os.killpg(make_run.process.pid, signal.SIGTERM)
    make_run.process.wait(timeout=60)
    return {"replies": replies, "cookie": cookie, "log": make_run.log.read_text()}


@pytest.mark.e2e
def test_the_booking_went_through_so_the_logs_saw_a_whole_conversation(conversation):
    assert re.search(r"RC-[A-Z0-9]{6}", " ".join(conversation["replies"]))
    log = conversation["log"]
    assert "Rasa server is up and running" in log
    assert "booking request saved" in log  # the action server's INFO record of it
    assert "Failed to parse arguments" in log  # Rasa's warning, through the filter


@pytest.mark.e2e
def test_no_name_phone_email_or_message_text_is_in_any_process_output(conversation):
    log = conversation["log"].lower()
    found = [value for value in [*PRIVATE, conversation["cookie"]] if value.lower() in log]
    assert found == []


@pytest.mark.e2e
def test_the_web_app_logs_json_lines_and_its_access_log_has_no_address(conversation):
    records = []
    for line in conversation["log"].splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))  # every JSON-looking line is whole JSON
    web = [r for r in records if r["logger"].startswith(("uvicorn", "clinic.web"))]
    access = [r for r in web if r["logger"] == "uvicorn.access"]
    chat = [r for r in access if (r["method"], r["path"]) == ("POST", "/api/chat")]
    assert len(chat) == len(BOOKING) and {r["status"] for r in chat} == {200}
    assert all(
        set(r) == {"time", "level", "logger", "message", "method", "path", "status"} for r in access
    )
    assert any(r["logger"].startswith(("rasa_sdk", "actions")) for r in records)
    assert '"POST /api/chat HTTP/1.1" 200' not in conversation["log"]  # uvicorn's own format


# --- clinic/logs.py on its own -------------------------------------------------------


def formatted(record: logging.LogRecord) -> Dict[str, object]:
    assert PrivateDataFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def record(name: str, msg: str, args: tuple = ()) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)


def test_the_access_log_keeps_method_path_and_status_without_address_or_query():
    entry = formatted(
        record(
            "uvicorn.access",
            '%s - "%s %s HTTP/%s" %d',
            ("203.0.113.9:50412", "GET", "/staff/conversations?q=Margot", "1.1", 200),
        )
    )
    assert entry["method"] == "GET" and entry["status"] == 200
    assert entry["path"] == "/staff/conversations"
    assert "203.0.113.9" not in json.dumps(entry) and "Margot" not in json.dumps(entry)


def test_rasas_structured_failure_event_loses_the_text_and_the_frames_locals():
    event = {
        "text": NAME,
        "event": "rest.message.received.failure",
        "level": "error",
        "exception": [
            {
                "exc_type": "KeyError",
                "exc_value": EMAIL,
                "frames": [{"name": "receive", "locals": {"text": NAME}}],
            }
        ],
    }
    entry = formatted(record("rasa.core.channels.rest", json.dumps(event)))
    assert entry["message"] == "rest.message.received.failure"
    assert entry["exception"][0]["exc_type"] == "KeyError"
    assert NAME not in json.dumps(entry) and EMAIL not in json.dumps(entry)


def test_warnings_go_through_logging_without_what_they_quote():
    """configure_logging() as python -m clinic.web calls it, in a process of its own."""
    program = (
        "import logging, warnings\n"
        "from clinic.logs import configure_logging\n"
        "configure_logging()\n"
        f"warnings.warn({f'Failed to parse arguments in line {BROKEN_PAYLOAD!r}.'!r})\n"
        "logging.getLogger('clinic.test').info('plain %s', 'message')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [line["logger"] for line in lines] == ["py.warnings", "clinic.test"]
    assert "Failed to parse arguments" in lines[0]["message"]
    assert NAME not in result.stderr and "Margot" not in result.stderr
    assert lines[1]["message"] == "plain message" and lines[1]["level"] == "INFO"
