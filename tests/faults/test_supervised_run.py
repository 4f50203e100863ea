"""``make run`` under supervisord: each process killed in turn, one hung, a backup taken.

``scripts/run.sh`` (what ``make run`` runs after training) is started as it is, on free
ports with its databases and supervisord's socket in a temporary folder. One stack for
the module, one visitor booking through the chat gateway across all of it:

- the action server, the Rasa server and the web app are each killed (SIGKILL, as a
  crash or the OOM killer would): supervisord starts it again within 5 s and logs it, the
  others keep serving, the chat answers with the apology and the clinic's phone while
  the process is missing (the action proxy answers for the action server; the gateway
  for Rasa), the killed one answers again once loaded, and the booking goes on where it
  was with every stored event still there;
- the action proxy killed: started again within 5 s, and conversations go on;
- the action server hung (SIGSTOP: alive, its port accepting, no answer): the apology
  within 10 s, not the gateway's 30, and normal service once it answers again (SIGCONT);
- ``python -m clinic backup`` while all of it runs; the backup restored and read back;
- SIGINT (Ctrl-C) stops supervisord and all four processes.

The tests run in file order on the one stack; each leaves all four processes running.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest
from supervisor.xmlrpc import SupervisorTransport

from clinic.web.history import TrackerHistory

from ..servers import ROOT, MakeRun, start_make_run, stop_make_run
from .conftest import (
    CLINIC,
    NO_LIMITS,
    Visitor,
    apology,
    bot_text,
    fill_booking_form,
    stored_events,
)

pytestmark = pytest.mark.e2e

RESTART_DEADLINE_S = 5.0  # supervisord spawns a killed process again within this
APOLOGY_DEADLINE_S = 10.0  # a hung action server: the visitor hears back within this
LOADED_DEADLINE_S = 300.0  # Rasa loading its model on a busy 2-core machine


class Supervised:
    """The running ``make run`` and supervisord's XML-RPC interface (supervisorctl's)."""

    def __init__(self, run: MakeRun) -> None:
        self.run = run
        self.workdir = run.log.parent
        self.env, self.web, self.rasa, self.actions = run.env, run.web, run.rasa, run.actions
        self.proxy = run.proxy
        socket_url = f"unix://{self.workdir / 'run' / 'supervisor.sock'}"
        self.rpc: Any = xmlrpc.client.ServerProxy(
            "http://127.0.0.1", transport=SupervisorTransport(None, None, socket_url)
        )

    def info(self, name: str) -> Dict[str, Any]:
        return self.rpc.supervisor.getProcessInfo(name)

    def pid(self, name: str) -> int:
        info = self.info(name)
        assert info["statename"] == "RUNNING", info
        return info["pid"]

    @property
    def app_db(self) -> Path:
        return self.workdir / "clinic.db"

    def events(self, sender: str) -> List[tuple]:
        """The sender's rows of the tracker store, as stored."""
        return stored_events(self.workdir / "tracker.db", sender)

    def log_text(self) -> str:
        return self.run.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supervised]:
    workdir = tmp_path_factory.mktemp("supervised")
    run = start_make_run(workdir, {**NO_LIMITS, "STAFF_SECRET_KEY": secrets.token_urlsafe(48)})
    try:
        yield Supervised(run)
    finally:
        stop_make_run(run)


@pytest.fixture(scope="module")
def visitor(supervised: Supervised) -> Iterator[Visitor]:
    """One visitor whose booking runs through every test of the module."""
    person = Visitor(supervised.web)
    try:
        yield person
    finally:
        person.close()


def up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def wait_up(url: str, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while not up(url):
        assert time.monotonic() < deadline, f"{url} did not answer within {deadline_s} s"
        time.sleep(0.5)


def kill(supervised: Supervised, name: str) -> tuple[int, float]:
    """SIGKILL to the process supervisord runs as ``name``: its pid and the time of death."""
    pid = supervised.pid(name)
    os.kill(pid, signal.SIGKILL)
    return pid, time.monotonic()


def respawned_within(supervised: Supervised, name: str, old_pid: int, killed_at: float) -> float:
    """Seconds from the kill until supervisord ran ``name`` again in a new process."""
    while True:
        info = supervised.info(name)
        elapsed = time.monotonic() - killed_at
        if info["pid"] not in (0, old_pid) and info["statename"] in ("STARTING", "RUNNING"):
            return elapsed
        assert elapsed < 30, f"{name} not started again: {info}"
        time.sleep(0.1)


def assert_apology(response: httpx.Response, status: int, *then: str) -> None:
    """The apology with the clinic's phone (then ``then``): status 200 when the action
    proxy gave it through Rasa, 503 when the gateway did for Rasa."""
    assert response.status_code == status, response.text
    said = [message["text"] for message in response.json()["messages"]]
    assert said == [apology(), *then]
    assert CLINIC.phone in said[0]


def rasa_answers(supervised: Supervised) -> bool:
    """Rasa's REST channel answers a question of another visitor."""
    response = httpx.post(
        f"{supervised.rasa}/webhooks/rest/webhook",
        json={"sender": f"other-{secrets.token_hex(4)}", "message": "is dry needling safe?"},
        timeout=60,
    )
    return response.status_code == 200 and bool(response.json())


def test_make_run_starts_the_four_processes_under_supervisord(supervised, visitor):
    states = {p["name"]: p["statename"] for p in supervised.rpc.supervisor.getAllProcessInfo()}
    assert states == dict.fromkeys(("actions", "proxy", "rasa", "web"), "RUNNING")
    assert visitor.say("i'd like to book an appointment")[-1] == bot_text("utter_ask_patient_name")
    assert visitor.say("Ann Lee") == [bot_text("utter_ask_phone")]


def test_a_killed_action_server_is_back_within_5_s_and_the_booking_goes_on(supervised, visitor):
    stored = supervised.events(visitor.sender)
    pid, killed_at = kill(supervised, "actions")
    # sent at once: nothing listens yet; the number, not checked, is asked for again
    assert_apology(visitor.post("(202) 555-0123"), 200, bot_text("utter_ask_phone"))
    assert up(f"{supervised.web}/api/chat/config") and rasa_answers(supervised)

    assert respawned_within(supervised, "actions", pid, killed_at) < RESTART_DEADLINE_S
    wait_up(f"{supervised.actions}/health", 60)
    assert visitor.say("(202) 555-0123") == [bot_text("utter_ask_email")]
    assert supervised.events(visitor.sender)[: len(stored)] == stored
    assert re.search(r"exited: actions \(terminated by SIGKILL", supervised.log_text())


def test_a_killed_rasa_server_is_back_within_5_s_and_the_booking_goes_on(supervised, visitor):
    before = visitor.history()
    stored = supervised.events(visitor.sender)
    pid, killed_at = kill(supervised, "rasa")
    assert respawned_within(supervised, "rasa", pid, killed_at) < RESTART_DEADLINE_S
    assert_apology(visitor.post("ann.lee@example.org"), 503)  # Rasa is loading its model
    assert up(f"{supervised.actions}/health")
    assert visitor.history() == before  # the web app reads the tracker store itself

    wait_up(f"{supervised.rasa}/", LOADED_DEADLINE_S)
    assert visitor.say("ann.lee@example.org") == [bot_text("utter_ask_preferred_start")]
    assert supervised.events(visitor.sender)[: len(stored)] == stored
    assert re.search(r"exited: rasa \(terminated by SIGKILL", supervised.log_text())


def test_a_killed_web_app_is_back_within_5_s_and_the_visitors_cookie_goes_on(supervised, visitor):
    before = visitor.history()
    pid, killed_at = kill(supervised, "web")
    assert rasa_answers(supervised) and up(f"{supervised.actions}/health")
    assert respawned_within(supervised, "web", pid, killed_at) < RESTART_DEADLINE_S
    wait_up(f"{supervised.web}/api/chat/config", 60)
    assert visitor.history() == before
    reply = visitor.say("next wednesday at 10am")[-1]
    assert reply == bot_text("utter_ask_concern")
    assert re.search(r"exited: web \(terminated by SIGKILL", supervised.log_text())
    assert len(re.findall(r"spawned: '(?:actions|rasa|web)' with pid", supervised.log_text())) == 6


def test_a_killed_action_proxy_is_back_within_5_s_and_conversations_go_on(supervised, visitor):
    before = visitor.history()
    stored = supervised.events(visitor.sender)
    pid, killed_at = kill(supervised, "proxy")
    assert up(f"{supervised.actions}/health") and up(f"{supervised.web}/api/chat/config")
    assert respawned_within(supervised, "proxy", pid, killed_at) < RESTART_DEADLINE_S
    wait_up(f"{supervised.proxy}/health", 60)
    assert visitor.history() == before
    newcomer = Visitor(supervised.web)  # a new conversation: session start, booking start
    try:
        assert newcomer.say("i'd like to book an appointment")[-1] == bot_text(
            "utter_ask_patient_name"
        )
    finally:
        newcomer.close()
    assert supervised.events(visitor.sender) == stored  # the visitor goes on in the next test
    assert re.search(r"exited: proxy \(terminated by SIGKILL", supervised.log_text())


def test_a_hung_action_server_gets_the_apology_within_10_s_and_service_when_it_answers(
    supervised, visitor
):
    newcomer = Visitor(supervised.web)  # a booking to start: two custom actions in a row
    pid = supervised.pid("actions")
    os.kill(pid, signal.SIGSTOP)  # alive, its port still accepting: it just never answers
    try:
        waited = []
        for person, text, then in [  # the form asks for the unchecked concern again
            (visitor, "stiff neck from working at a desk", [bot_text("utter_ask_concern")]),
            (newcomer, "i'd like to book an appointment", []),
        ]:
            started = time.monotonic()
            assert_apology(person.post(text, timeout=APOLOGY_DEADLINE_S), 200, *then)
            waited.append(round(time.monotonic() - started, 1))
        assert supervised.pid("actions") == pid  # not a crash: supervisord leaves it be
    finally:
        os.kill(pid, signal.SIGCONT)
    print(f"apologies after {waited} s with the action server hung")
    try:
        reply = visitor.say("stiff neck from working at a desk")[-1]
        assert reply == bot_text("utter_ask_visited_before")
        reply = newcomer.say("i'd like to book an appointment")[-1]
        assert reply == bot_text("utter_ask_patient_name")
    finally:
        newcomer.close()


def test_the_booking_is_saved_and_a_backup_taken_while_running_restores_it_all(supervised, visitor):
    last = fill_booking_form(visitor, bot_text("utter_ask_visited_before"))
    assert "Ann Lee" in last
    saved = visitor.say("yes")
    with sqlite3.connect(supervised.app_db) as db:
        [(reference, name, phone)] = db.execute(
            "SELECT reference, patient_name, phone FROM bookings WHERE conversation_id = ?",
            (visitor.sender,),
        ).fetchall()
    assert (name, phone) == ("Ann Lee", "+12025550123") and reference in saved[0]
    said = [m["text"] for m in visitor.history() if m["sender"] == "user"]
    assert said[:3] == ["i'd like to book an appointment", "Ann Lee", "(202) 555-0123"]

    backups = supervised.workdir / "backups"
    backups.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "clinic", "backup", str(backups)],
        cwd=ROOT,
        env=supervised.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert visitor.say("thank you")  # still serving
    [folder] = backups.iterdir()

    restored = supervised.workdir / "restored"  # the README's restore, into a fresh var/
    restored.mkdir()
    for name in ("clinic.db", "tracker.db"):
        shutil.copyfile(folder / name, restored / name)
    with sqlite3.connect(restored / "clinic.db") as db:
        rows = db.execute(
            "SELECT reference, patient_name, phone FROM bookings WHERE conversation_id = ?",
            (visitor.sender,),
        ).fetchall()
    assert rows == [(reference, "Ann Lee", "+12025550123")]
    history = TrackerHistory(f"sqlite:///{restored / 'tracker.db'}", ROOT)
    try:
        transcript = history.transcript(visitor.sender)
    finally:
        history.close()
    assert [m["text"] for m in transcript if m["sender"] == "user"] == said
    assert transcript[-1]["text"] == saved[-1]


def test_ctrl_c_stops_supervisord_and_all_four_processes(supervised):
    pids = [supervised.pid(name) for name in ("actions", "proxy", "rasa", "web")]
    os.killpg(supervised.run.process.pid, signal.SIGINT)  # the terminal's Ctrl-C
    assert supervised.run.process.wait(timeout=60) == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    first = re.search(r"waiting for ([a-z, ]+) to die", supervised.log_text())
    assert first and sorted(first.group(1).split(", ")) == ["actions", "proxy", "rasa", "web"]
