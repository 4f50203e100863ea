"""The chat gateway (/api/chat): origin, size and rate limits, the session cookie,
Rasa failures answered with an apology, quick-reply payloads. Rasa is replaced by a
stand-in on httpx's ASGI transport, or is down (a closed port)."""

from __future__ import annotations

import json
import re
import socket
import time
from typing import Any, Callable, Dict, Iterator, List

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from clinic.settings import ClinicProfile
from clinic.web.app import create_app
from clinic.web.sessions import sender_id
from clinic.web.settings import RateLimit, WebSettings

from .conftest import ORIGIN

SAFETY_REPLY = [
    {
        "recipient_id": "x",
        "text": "Dry needling is generally **safe** with sterile needles.",
        "buttons": [
            {"title": "Will I be sore?", "payload": "/ask_soreness"},
            {"title": "Book a consultation", "payload": "/book_appointment"},
        ],
    }
]
URGENT_REPLY = [
    {"recipient_id": "x", "text": "Please call 911 now."},
    {"recipient_id": "x", "custom": {"urgent": True}},
    {"recipient_id": "x", "text": "Take care."},
]


class FakeRasa:
    """Answers on /webhooks/rest/webhook like Rasa's REST channel; records what it got."""

    def __init__(self, answer: Callable[[str], Response] | None = None) -> None:
        self.received: List[Dict[str, str]] = []
        self.answer = answer or (lambda text: JSONResponse(SAFETY_REPLY))

    async def webhook(self, request: Request) -> Response:
        body = await request.json()
        self.received.append(body)
        return self.answer(body["message"])

    def transport(self) -> httpx.ASGITransport:
        app = Starlette(routes=[Route("/webhooks/rest/webhook", self.webhook, methods=["POST"])])
        return httpx.ASGITransport(app=app)


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(make_settings, rasa: FakeRasa) -> Iterator[TestClient]:
    app = create_app(make_settings(rasa_url="http://rasa.test"), rasa_transport=rasa.transport())
    with TestClient(app, base_url=ORIGIN) as test_client:
        yield test_client


def post(client: TestClient, message: Any, origin: str | None = ORIGIN) -> httpx.Response:
    headers = {"Origin": origin} if origin else {}
    return client.post("/api/chat", json={"message": message}, headers=headers)


# --- the session cookie ----------------------------------------------------------


def test_first_message_gets_rasas_answer_and_an_httponly_samesite_strict_session_cookie(
    client: TestClient, rasa: FakeRasa
):
    response = post(client, "is dry needling safe?")
    assert response.status_code == 200
    assert response.json()["messages"][0]["buttons"][0] == {
        "title": "Will I be sore?",
        "payload": "/ask_soreness",
    }
    cookie = response.headers["set-cookie"]
    name, token = cookie.split(";")[0].split("=", 1)
    assert name == "clinic_chat"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # secrets.token_urlsafe(32)
    flags = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert not any(f.startswith(("max-age", "expires")) for f in flags)  # gone with the browser
    assert "secure" not in flags  # plain http on 127.0.0.1
    assert rasa.received == [{"sender": sender_id(token), "message": "is dry needling safe?"}]
    assert token not in rasa.received[0]["sender"]


def test_the_cookie_is_secure_when_the_page_is_served_over_https(make_settings, rasa: FakeRasa):
    settings = make_settings(rasa_url="http://rasa.test")
    settings.clinic.allowed_origins.append("https://clinic.example")
    try:
        app = create_app(settings, rasa_transport=rasa.transport())
        with TestClient(app, base_url="https://clinic.example") as client:
            response = post(client, "hello", origin="https://clinic.example")
    finally:
        settings.clinic.allowed_origins.remove("https://clinic.example")
    assert "secure" in response.headers["set-cookie"].lower()


def test_later_messages_keep_the_session_and_its_rasa_sender(client: TestClient, rasa: FakeRasa):
    post(client, "hello")
    second = post(client, "is it safe?")
    assert "set-cookie" not in second.headers
    assert rasa.received[0]["sender"] == rasa.received[1]["sender"]
    assert rasa.received[0]["sender"].startswith("web-")


def test_a_malformed_cookie_is_replaced_by_a_new_session(client: TestClient, rasa: FakeRasa):
    client.cookies.set("clinic_chat", "guessable")
    response = post(client, "hello")
    assert response.status_code == 200
    token = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    assert token != "guessable" and len(token) == 43
    assert rasa.received[0]["sender"] == sender_id(token)


def test_two_visitors_get_different_sessions_and_senders(client: TestClient, rasa: FakeRasa):
    first_cookie = post(client, "hello").headers["set-cookie"]
    client.cookies.clear()  # another browser
    second_cookie = post(client, "hello").headers["set-cookie"]
    assert first_cookie != second_cookie
    first, second = (message["sender"] for message in rasa.received)
    assert first != second


# --- the origin check ------------------------------------------------------------


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://127.0.0.1:8001", "null", None], ids=str
)
def test_messages_from_other_origins_are_refused_with_403_and_a_clear_message(
    client: TestClient, rasa: FakeRasa, clinic: ClinicProfile, origin: str | None
):
    response = post(client, "hello", origin=origin)
    assert response.status_code == 403
    refusal = f"This chat only takes messages from {clinic.name}'s own website."
    assert response.json() == {"error": refusal}
    assert rasa.received == []
    assert "set-cookie" not in response.headers


def test_the_transcript_is_refused_to_another_origin(client: TestClient):
    response = client.get("/api/chat/history", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "error" in response.json()


# --- the size limit --------------------------------------------------------------


def test_a_message_of_2000_characters_is_sent_and_2001_is_refused_with_413(
    client: TestClient, rasa: FakeRasa
):
    assert post(client, "a" * 2000).status_code == 200
    response = post(client, "a" * 2001)
    assert response.status_code == 413
    assert response.json() == {
        "error": "That message is too long for me. Please keep it under 2,000 characters."
    }
    assert len(rasa.received) == 1


def test_a_huge_body_is_refused_with_413_before_it_is_read(client: TestClient, rasa: FakeRasa):
    body = json.dumps({"message": "x" * 200_000})
    response = client.post(
        "/api/chat", content=body, headers={"Origin": ORIGIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "too long" in response.json()["error"]
    assert rasa.received == []


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", '{"text": "hi"}', '{"message": 42}', '{"message": "   "}'],
    ids=["not json", "a list", "no message", "a number", "only spaces"],
)
def test_a_body_that_is_not_a_message_gets_400_and_a_clear_message(
    client: TestClient, rasa: FakeRasa, body: str
):
    response = client.post("/api/chat", content=body, headers={"Origin": ORIGIN})
    assert response.status_code == 400
    assert response.json()["error"] in (
        "Please type a message first.",
        "Sorry, I couldn't read that message. Please try again.",
    )
    assert rasa.received == []


# --- the rate limits -------------------------------------------------------------


def test_the_21st_message_in_30_seconds_of_one_session_gets_429_with_retry_after(
    client: TestClient, rasa: FakeRasa
):
    for _ in range(20):
        assert post(client, "hello").status_code == 200
    response = post(client, "hello")
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 30
    assert response.json() == {
        "error": f"You're sending messages faster than I can answer. Please wait {retry_after} "
        "seconds, then try again."
    }
    assert len(rasa.received) == 20


def test_one_address_is_limited_across_sessions(make_settings, rasa: FakeRasa):
    settings = make_settings(rasa_url="http://rasa.test", address_limit=RateLimit(5, 30.0))
    with TestClient(create_app(settings, rasa_transport=rasa.transport()), base_url=ORIGIN) as c:
        statuses = []
        for _ in range(6):
            c.cookies.clear()  # a new session every time: only the address limit applies
            statuses.append(post(c, "hello").status_code)
    assert statuses == [200] * 5 + [429]


def test_the_default_limits_are_20_per_session_and_60_per_address_in_30_seconds(clinic):
    settings = WebSettings(clinic=clinic)
    assert settings.session_limit == RateLimit(20, 30.0)
    assert settings.address_limit == RateLimit(60, 30.0)
    assert settings.max_message_chars == 2000


# --- Rasa failures ---------------------------------------------------------------


def test_rasa_down_gets_an_apology_with_the_clinics_phone_number(make_settings, clinic):
    with TestClient(create_app(make_settings()), base_url=ORIGIN) as client:
        response = post(client, "is dry needling safe?")
    assert response.status_code == 503
    body = response.json()
    text = body["messages"][0]["text"]
    assert clinic.phone in text and clinic.name in text
    assert body["error"] == text
    assert "Traceback" not in response.text and "ConnectError" not in response.text
    assert "clinic_chat=" in response.headers["set-cookie"]  # the session goes on


def _raise_timeout(text: str) -> Response:
    raise httpx.ReadTimeout("Rasa took too long")


FAILURES: Dict[str, Callable[[str], Response]] = {
    "HTTP 500": lambda text: PlainTextResponse("Internal Server Error", status_code=500),
    "not JSON": lambda text: PlainTextResponse("<html>oops</html>"),
    "no message (an action failed)": lambda text: JSONResponse([]),
    "only custom data": lambda text: JSONResponse([{"custom": {"urgent": True}}]),
    "a timeout": _raise_timeout,
}


@pytest.mark.parametrize("answer", FAILURES.values(), ids=FAILURES.keys())
def test_a_failing_rasa_gets_an_apology_never_a_blank_or_a_stack_trace(
    make_settings, clinic: ClinicProfile, answer
):
    rasa = FakeRasa(answer)
    app = create_app(make_settings(rasa_url="http://rasa.test"), rasa_transport=rasa.transport())
    with TestClient(app, base_url=ORIGIN) as client:
        response = post(client, "hello")
    assert response.status_code == 503
    assert clinic.phone in response.json()["messages"][0]["text"]
    assert "Traceback" not in response.text


def test_a_rasa_that_never_answers_gets_an_apology_after_the_timeout(
    make_settings, clinic: ClinicProfile
):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings = make_settings(rasa_url=url, rasa_timeout_s=0.5)
        with TestClient(create_app(settings), base_url=ORIGIN) as client:
            started = time.monotonic()
            response = post(client, "hello")
            waited = time.monotonic() - started
    assert response.status_code == 503
    assert clinic.phone in response.json()["error"]
    assert waited < 5


# --- what Rasa says, as the widget gets it ---------------------------------------


def test_an_urgent_custom_message_marks_the_text_before_it_as_urgent(make_settings):
    rasa = FakeRasa(lambda text: JSONResponse(URGENT_REPLY))
    app = create_app(make_settings(rasa_url="http://rasa.test"), rasa_transport=rasa.transport())
    with TestClient(app, base_url=ORIGIN) as client:
        messages = post(client, "crushing chest pain").json()["messages"]
    assert messages == [
        {"text": "Please call 911 now.", "buttons": [], "urgent": True},
        {"text": "Take care.", "buttons": [], "urgent": False},
    ]


def test_a_typed_intent_payload_is_read_as_text_unless_the_bot_offered_it(
    client: TestClient, rasa: FakeRasa
):
    post(client, '/book_appointment{"time": "now"}')  # nothing offered yet
    post(client, "is it safe?")  # offers /ask_soreness and /book_appointment
    post(client, "/ask_soreness")
    post(client, "/restart")
    sent = [message["message"] for message in rasa.received]
    assert sent == ['book_appointment{"time": "now"}', "is it safe?", "/ask_soreness", "restart"]


# --- headers ---------------------------------------------------------------------


def test_api_answers_are_not_cached_and_carry_the_security_headers(client: TestClient):
    response = post(client, "hello")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
