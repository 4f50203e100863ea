"""One real stack for the fault tests: action server, action proxy, Rasa server and the
web app as ``make run`` starts them (``python -m clinic.web``), on free loopback ports,
with their databases in a temporary folder. Started once for the package; a test that
stops or kills a process brings it back, and every test starts with all four running."""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest
import yaml

from bench.stack import (
    Server,
    Stack,
    start_again,
    start_gateway,
    start_stack,
    stop_server,
    stop_stack,
)
from clinic.settings import clinic_slots, load_clinic
from clinic.web.sessions import sender_id
from clinic.web.settings import WEB_ROOT
from clinic.web.texts import load_texts

from ..servers import ROOT, newest_model

CLINIC = load_clinic(ROOT / "clinic.yml")
ORIGIN = CLINIC.allowed_origins[0]  # the gateway only takes messages from these
COOKIE = "clinic_chat"
RESPONSES: Dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))[
    "responses"
]
NO_LIMITS = {"CHAT_SESSION_LIMIT": "100000/1", "CHAT_ADDRESS_LIMIT": "100000/1"}


def bot_text(response: str, **values: str) -> str:
    """What the assistant says for a domain response: clinic facts and ``values`` filled in."""
    template: str = RESPONSES[response][0]["text"]
    return template.format(**{**clinic_slots(CLINIC), **values})


def apology() -> str:
    """The gateway's apology, from messages.yml with clinic.yml's facts; the action
    proxy's (``utter_action_server_unavailable``) says the same."""
    return load_texts(WEB_ROOT / "messages.yml", CLINIC).say("apology")


class Visitor:
    """A browser's view of the chat: the gateway's cookie, kept across requests."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, headers={"Origin": ORIGIN}, timeout=60)

    def post(self, text: str, timeout: float | None = None) -> httpx.Response:
        return self.client.post(
            "/api/chat", json={"message": text}, timeout=timeout or self.client.timeout
        )

    def say(self, text: str) -> List[str]:
        """The assistant's answer; anything but a normal answer fails the test."""
        response = self.post(text)
        assert response.status_code == 200, (text, response.status_code, response.text)
        return [message["text"] for message in response.json()["messages"]]

    def history(self) -> List[Dict[str, Any]]:
        response = self.client.get("/api/chat/history")
        assert response.status_code == 200, response.text
        return response.json()["messages"]

    @property
    def sender(self) -> str:
        """The Rasa sender id of this visitor's cookie."""
        return sender_id(self.client.cookies[COOKIE])

    def close(self) -> None:
        self.client.close()


def stored_events(tracker_db: Path, sender: str) -> List[tuple]:
    """The sender's rows of a SQLite tracker store (id, type, JSON), as stored, read-only."""
    with sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT id, type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()


@dataclass
class FaultStack:
    workdir: Path
    stack: Stack
    gateway: Server
    gateway_env: Dict[str, str]
    visitors: List[Visitor] = field(default_factory=list)

    @property
    def app_db(self) -> Path:
        return self.workdir / "clinic.db"

    @property
    def tracker_db(self) -> Path:
        return self.workdir / "tracker.db"

    def visitor(self) -> Visitor:
        visitor = Visitor(self.gateway.url)
        self.visitors.append(visitor)
        return visitor

    def restore(self) -> None:
        """Every process running again, the web app with its first environment."""
        if self.stack.actions is not None and self.stack.actions.process.poll() is not None:
            self.stack.actions = start_again(self.stack.actions)
        if self.stack.proxy is not None and self.stack.proxy.process.poll() is not None:
            self.stack.proxy = start_again(self.stack.proxy)
        for index, rasa in enumerate(self.stack.rasa):
            if rasa.process.poll() is not None:
                self.stack.rasa[index] = start_again(rasa)
        if self.gateway.process.poll() is not None or self.gateway.env != self.gateway_env:
            self.gateway = start_again(self.gateway, env=self.gateway_env)

    def slots(self, sender: str) -> Dict[str, Any]:
        """The sender's slots as Rasa stored them: its slot events in order."""
        slots: Dict[str, Any] = {}
        for _, type_name, data in stored_events(self.tracker_db, sender):
            if type_name == "slot":
                event = json.loads(data)
                slots[event["name"]] = event["value"]
        return slots

    def bookings(self, sender: str) -> List[Dict[str, Any]]:
        if not self.app_db.exists():
            return []
        with sqlite3.connect(self.app_db) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                "SELECT reference, patient_name, phone, preferred_start FROM bookings"
                " WHERE conversation_id = ? ORDER BY id",
                (sender,),
            ).fetchall()
        return [dict(row) for row in rows]


@pytest.fixture(scope="package")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    workdir = tmp_path_factory.mktemp("faults")
    stack = start_stack(workdir, newest_model(), extra_env=NO_LIMITS)
    try:
        assert stack.actions is not None
        env = {**stack.env, "STAFF_SECRET_KEY": secrets.token_urlsafe(48)}
        gateway = start_gateway(workdir, stack.rasa[0].url, env)
        running = FaultStack(workdir, stack, gateway, gateway.env)
        try:
            yield running
        finally:
            for visitor in running.visitors:
                visitor.close()
            stop_server(running.gateway)
    finally:
        stop_stack(stack)


@pytest.fixture
def faults(fault_stack: FaultStack) -> FaultStack:
    """The package's stack with every process running, whatever the test before did."""
    fault_stack.restore()
    return fault_stack


FORM_QUESTIONS = {
    bot_text(f"utter_ask_{slot}"): slot
    for slot in (
        "patient_name",
        "phone",
        "email",
        "preferred_start",
        "concern",
        "visited_before",
        "pregnant",
        "blood_thinners",
        "needle_fear",
    )
}
ANSWERS = {
    "patient_name": "Ann Lee",
    "phone": "(202) 555-0123",
    "email": "ann.lee@example.org",
    "concern": "stiff neck from working at a desk",
    "visited_before": "no",
    "pregnant": "no",
    "blood_thinners": "no",
    "needle_fear": "no",
}


def fill_booking_form(visitor: Visitor, reply: str, **answers: str) -> str:
    """Answers each question the booking form asks, starting from its question
    ``reply``, until it asks something else (the summary); returns that."""
    answers = {**ANSWERS, **answers}
    for _ in FORM_QUESTIONS:
        slot = FORM_QUESTIONS.get(reply)
        if slot is None:
            return reply
        reply = visitor.say(answers[slot])[-1]
    return reply


def summary(faults: FaultStack, sender: str) -> str:
    """The booking summary for the slots Rasa stored for ``sender``."""
    slots = faults.slots(sender)
    return bot_text(
        "utter_ask_booking_confirmed",
        **{
            name: str(slots[name])
            for name in ("patient_name", "phone", "email", "preferred_start_text", "concern")
        },
    )
