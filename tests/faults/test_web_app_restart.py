"""The web app (``python -m clinic.web``) stopped and started again.

A visitor's conversation is keyed by their cookie alone (the Rasa sender id is a hash
of it, the transcript comes from the tracker store), so it survives a restart. Staff
sessions are rows keyed by an HMAC under ``STAFF_SECRET_KEY``: with the key set they
survive; with the random per-process default, staff log in again.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from dataclasses import dataclass
from typing import Iterator

import httpx
import pytest

from bench.stack import start_again

from ..servers import ROOT
from ..web.staff import log_in
from .conftest import ORIGIN, FaultStack, bot_text

STAFF_PAGE = "/staff/bookings"


def test_a_visitors_cookie_keeps_their_conversation_across_a_web_app_restart(
    faults: FaultStack,
):
    visitor = faults.visitor()
    assert visitor.say("i'd like to book an appointment")[-1] == bot_text("utter_ask_patient_name")
    assert visitor.say("Di Ross") == [bot_text("utter_ask_phone")]
    before = visitor.history()
    assert [m["text"] for m in before if m["sender"] == "user"][-1] == "Di Ross"

    faults.gateway = start_again(faults.gateway)
    assert visitor.history() == before
    assert visitor.say("(202) 555-0166") == [bot_text("utter_ask_email")]
    assert faults.slots(visitor.sender)["patient_name"] == "Di Ross"


@dataclass
class StaffBrowser:
    client: httpx.Client
    name: str
    password: str

    def log_in(self) -> None:
        log_in(self.client, self.name, self.password)

    def logged_in(self) -> bool:
        """A staff page opens (200), or sends to the login page (303)."""
        response = self.client.get(STAFF_PAGE, follow_redirects=False)
        assert response.status_code in (200, 303), response.status_code
        if response.status_code == 303:
            assert response.headers["location"].startswith("/staff/login")
        return response.status_code == 200


@pytest.fixture
def staff(faults: FaultStack) -> Iterator[StaffBrowser]:
    """A staff member's browser, with an account made by ``python -m clinic users create``."""
    name, password = f"staff{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    created = subprocess.run(
        [sys.executable, "-m", "clinic", "users", "create", name, "--role", "staff"],
        input=password + "\n",
        cwd=ROOT,
        env=faults.gateway_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    client = httpx.Client(base_url=faults.gateway.url, headers={"Origin": ORIGIN}, timeout=30)
    try:
        yield StaffBrowser(client, name, password)
    finally:
        client.close()


def test_staff_stay_logged_in_across_a_restart_when_staff_secret_key_is_set(
    faults: FaultStack, staff: StaffBrowser
):
    assert faults.gateway.env.get("STAFF_SECRET_KEY")
    staff.log_in()
    assert staff.logged_in()

    faults.gateway = start_again(faults.gateway)
    assert staff.logged_in()


def test_staff_log_in_again_after_a_restart_with_the_random_per_process_key(
    faults: FaultStack, staff: StaffBrowser
):
    no_key = {k: v for k, v in faults.gateway_env.items() if k != "STAFF_SECRET_KEY"}
    try:
        faults.gateway = start_again(faults.gateway, env=no_key)
        staff.log_in()
        assert staff.logged_in()

        faults.gateway = start_again(faults.gateway)  # the same settings: a new random key
        assert not staff.logged_in()
        staff.log_in()  # and logging in again works
        assert staff.logged_in()
    finally:
        faults.restore()
