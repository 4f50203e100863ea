"""``clinic.action_proxy``: Rasa's calls forwarded, bounded, and answered when they fail.

The proxy runs with uvicorn on a loopback port (as ``make run`` runs it) in front of real
aiohttp servers on loopback: a working action server, a failing one (HTTP 500), one that
rejects (400, a form's ``ActionExecutionRejection``), a hung one (the kernel accepts the
connection, nothing answers) and a port where nothing listens. Rasa's own
``RemoteAction`` calls it too, so the fallback is proven to be an answer Rasa accepts.
The whole stack, the action server hung and killed, is in ``tests/faults/``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import socket
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from clinic import cli
from clinic.action_proxy import (
    DEFAULT_ACTION_TIMEOUT_S,
    UNAVAILABLE_RESPONSE,
    ActionProxy,
    ActionProxySettingsError,
    create_app,
    load_settings,
)
from clinic.settings import clinic_slots, load_clinic

from .servers import ROOT, free_port
from .web_server import serve_in_thread, stop_server_thread

BOUND_S = 0.5  # the proxy's ACTION_TIMEOUT in these tests
HANG_GUARD_S = 60  # turns a proxy that never gives up into a failure, not a hung run
APOLOGY = {"events": [], "responses": [{"response": UNAVAILABLE_RESPONSE}]}
ANSWER = {"events": [{"event": "slot", "name": "concern", "value": "neck"}], "responses": []}
REJECTION = {"action_name": "validate_booking_form", "error": "phone not extracted"}


def rasa_call(action: str, events: List[Dict[str, Any]] | None = None) -> Dict[str, Any]:
    """The body of Rasa's POST /webhook (the action server API), cut to what matters."""
    tracker_events = events or []
    slots: Dict[str, Any] = {}
    for event in tracker_events:
        if event["event"] == "slot":
            slots[event["name"]] = event["value"]
    return {
        "next_action": action,
        "sender_id": "visitor",
        "tracker": {"sender_id": "visitor", "slots": slots, "events": tracker_events},
        "domain": {"session_config": {"carry_over_slots_to_new_session": True}},
        "version": "3.6.21",
    }


class Upstream:
    """An aiohttp action server whose answers the test sets; it records what it got."""

    def __init__(self) -> None:
        self.status, self.body = 200, ANSWER
        self.health = 200
        self.calls: List[Dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_post("/webhook", self.webhook)
        self.app.router.add_get("/health", self.health_check)

    async def webhook(self, request: web.Request) -> web.Response:
        self.calls.append({"json": await request.json(), "token": request.query.get("token", "")})
        return web.json_response(self.body, status=self.status)

    async def health_check(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, status=self.health)


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    server = Upstream()
    test_server = TestServer(server.app, host="127.0.0.1")
    await test_server.start_server()
    try:
        yield server, str(test_server.make_url("")).rstrip("/")
    finally:
        await test_server.close()


@pytest.fixture
def hung_url() -> Iterator[str]:
    """A loopback port whose connections the kernel accepts and nobody ever answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def dead_url() -> str:
    """A loopback port where nothing listens: the connection is refused."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def proxy_for() -> Iterator[Callable[[str], str]]:
    """Starts the proxy (uvicorn on loopback) in front of an action server URL; its URL."""
    running: List[Any] = []

    def start(action_server_url: str) -> str:
        port = free_port()
        app = create_app(ActionProxy(action_server_url, BOUND_S))
        running.append(serve_in_thread(app, port, "action proxy"))
        return f"http://127.0.0.1:{port}"

    try:
        yield start
    finally:
        for server, thread in running:
            stop_server_thread(server, thread)


async def post(proxy_url: str, body: Dict[str, Any], **params: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        call = client.post(f"{proxy_url}/webhook", json=body, params=params)
        return await asyncio.wait_for(call, HANG_GUARD_S)


async def test_a_working_action_servers_answer_and_rasas_token_pass_through_unchanged(
    upstream, proxy_for
):
    server, url = upstream
    call = rasa_call("action_clinic_info", [{"event": "user", "text": "hours?"}])
    response = await post(proxy_for(url), call, token="secret")
    assert (response.status_code, response.json()) == (200, ANSWER)
    assert server.calls == [{"json": call, "token": "secret"}]


async def test_a_forms_400_rejection_is_an_answer_and_passes_through_unchanged(upstream, proxy_for):
    server, url = upstream
    server.status, server.body = 400, REJECTION
    response = await post(proxy_for(url), rasa_call("validate_booking_form"))
    assert (response.status_code, response.json()) == (400, REJECTION)


async def test_a_hung_action_server_gets_the_apology_after_the_bound(hung_url, proxy_for):
    response = await post(proxy_for(hung_url), rasa_call("action_start_booking"))
    assert (response.status_code, response.json()) == (200, APOLOGY)


async def test_a_refused_connection_gets_the_apology(dead_url, proxy_for):
    response = await post(proxy_for(dead_url), rasa_call("action_answer_facts"))
    assert (response.status_code, response.json()) == (200, APOLOGY)


async def test_an_http_500_gets_the_apology(upstream, proxy_for):
    server, url = upstream
    server.status, server.body = 500, {"error": "boom"}
    response = await post(proxy_for(url), rasa_call("action_submit_booking"))
    assert (response.status_code, response.json()) == (200, APOLOGY)
    assert len(server.calls) == 1


async def test_a_failed_session_start_starts_the_session_carrying_the_slots_over(
    dead_url, proxy_for
):
    call = rasa_call(
        "action_session_start",
        [
            {"event": "slot", "name": "patient_name", "value": "Ann Lee"},
            {"event": "slot", "name": "session_started_metadata", "value": {"a": 1}},
            {"event": "slot", "name": "email", "value": None},
        ],
    )
    response = await post(proxy_for(dead_url), call)
    assert response.status_code == 200
    assert [
        {k: v for k, v in event.items() if k in ("event", "name", "value")}
        for event in response.json()["events"]
    ] == [
        {"event": "session_started"},
        {"event": "slot", "name": "patient_name", "value": "Ann Lee"},
        {"event": "action", "name": "action_listen"},
    ]
    assert not response.json().get("responses")


async def test_a_failed_form_validation_apologises_and_empties_the_unchecked_slots(
    dead_url, proxy_for
):
    call = rasa_call(
        "validate_booking_form",
        [
            {"event": "slot", "name": "patient_name", "value": "Ann Lee"},  # checked before
            {"event": "user", "text": "(202) 555-0123"},
            {"event": "slot", "name": "requested_slot", "value": "phone"},  # the form's own
            {"event": "slot", "name": "phone", "value": "(202) 555-0123"},  # to be checked
        ],
    )
    response = await post(proxy_for(dead_url), call)
    assert response.status_code == 200
    assert response.json()["responses"] == APOLOGY["responses"]
    assert [(e["event"], e["name"], e["value"]) for e in response.json()["events"]] == [
        ("slot", "phone", None)
    ]


async def test_after_a_failure_calls_wait_for_health_before_reaching_the_action_server(
    upstream, proxy_for
):
    server, url = upstream
    proxy_url = proxy_for(url)
    server.status, server.health = 500, 503
    assert (await post(proxy_url, rasa_call("action_clinic_info"))).json() == APOLOGY
    assert (await post(proxy_url, rasa_call("action_clinic_info"))).json() == APOLOGY
    assert len(server.calls) == 1  # the second was answered at its failed /health

    server.status, server.health = 200, 200
    assert (await post(proxy_url, rasa_call("action_clinic_info"))).json() == ANSWER
    assert len(server.calls) == 2


async def test_each_failure_is_logged_on_one_line_with_the_action_and_why(
    dead_url, upstream, proxy_for, caplog
):
    server, url = upstream
    server.status = 503
    with caplog.at_level(logging.WARNING, logger="clinic.action_proxy"):
        await post(proxy_for(dead_url), rasa_call("action_start_booking"))
        await post(proxy_for(url), rasa_call("action_session_start"))
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    assert "action_start_booking (ConnectError" in lines[0] and "the apology" in lines[0]
    assert "action_session_start (HTTP 503)" in lines[1] and "the session start" in lines[1]


async def test_health_is_the_action_servers_and_503_when_it_cannot_be_reached(
    upstream, dead_url, proxy_for
):
    _, url = upstream
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{proxy_for(url)}/health")).json() == {"status": "ok"}
        assert (await client.get(f"{proxy_for(dead_url)}/health")).status_code == 503


async def test_rasa_accepts_the_apology_and_marks_it_for_the_listening_policy(dead_url, proxy_for):
    """Rasa's own RemoteAction, through the proxy to a dead action server: the apology
    in the clinic's words, tagged ``utter_action_server_unavailable``."""
    domain = Domain.load(ROOT / "domain.yml")
    facts = clinic_slots(load_clinic(ROOT / "clinic.yml"))
    tracker = DialogueStateTracker.from_events(
        "visitor",
        [
            *(SlotSet(name, value) for name, value in facts.items()),
            ActionExecuted("action_listen"),
            UserUttered("i'd like to book an appointment", {"name": "book_appointment"}),
        ],
        slots=domain.slots,
    )
    action = RemoteAction(
        "action_start_booking", EndpointConfig(url=f"{proxy_for(dead_url)}/webhook")
    )
    events = await action.run(
        CollectingOutputChannel(),
        TemplatedNaturalLanguageGenerator(domain.responses),
        tracker,
        domain,
    )
    [apology] = events
    assert isinstance(apology, BotUttered)
    assert apology.metadata["utter_action"] == UNAVAILABLE_RESPONSE
    assert facts["clinic_phone"] in apology.text and "{" not in apology.text


def test_settings_default_to_4_s_port_5056_and_the_action_server_on_action_port():
    settings = load_settings({"ACTION_PORT": "5155"})
    assert settings.timeout_s == DEFAULT_ACTION_TIMEOUT_S == 4.0
    assert settings.port == 5056
    assert settings.action_server_url == "http://127.0.0.1:5155"
    read = load_settings({"ACTION_TIMEOUT": " 2.5 ", "ACTION_SERVER_URL": "http://a:1/"})
    assert (read.timeout_s, read.action_server_url) == (2.5, "http://a:1")


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("ACTION_TIMEOUT", "soon"),
        ("ACTION_TIMEOUT", "0"),
        ("ACTION_TIMEOUT", "-1"),
        ("ACTION_TIMEOUT", "inf"),
        ("ACTION_TIMEOUT", "nan"),
        ("ACTION_PROXY_PORT", "70000"),
        ("ACTION_PROXY_PORT", "port"),
        ("ACTION_SERVER_URL", "127.0.0.1:5055"),
    ],
)
def test_a_wrong_setting_is_refused_with_its_name(name: str, raw: str):
    with pytest.raises(ActionProxySettingsError, match=name):
        load_settings({name: raw})


def test_the_command_refuses_to_start_with_a_wrong_action_timeout(monkeypatch):
    monkeypatch.setenv("ACTION_TIMEOUT", "soon")
    err = io.StringIO()
    assert cli.main(["action-proxy"], err=err) == cli.EXIT_REFUSED
    assert err.getvalue() == (
        "error: the action proxy cannot start: ACTION_TIMEOUT='soon' is not a number of seconds\n"
    )
