"""The bad-input corpus through the web app's chat gateway (``POST /api/chat``) in front
of the real Rasa server: every text gets a reply, or a 4xx that says why; every
malformed request a 4xx that says why (or a reply); never a 5xx; each session still
answers afterwards. And the shipped rate limit still answers 429 with Retry-After."""

from __future__ import annotations

import re
from typing import Any, Dict, List

import httpx
import pytest

from clinic.web.sessions import sender_id
from clinic.web.settings import WebSettings

from ..servers import Assistant
from ..web_server import WebApp
from .corpus import QUESTION, RequestCase, TextCase, gateway_requests, texts
from .runner import (
    TIMEOUT,
    Outcome,
    bookings_of,
    error_problems,
    json_text_body,
    lanes,
    never_a_server_error,
    run_lanes,
    send,
    still_answers_problems,
    summary,
)

pytestmark = pytest.mark.e2e
CHAT = "/api/chat"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def usual_answer(domain: Dict[str, Any]) -> List[str]:
    return [variation["text"] for variation in domain["responses"]["utter_safety"]]


def reply_problems(response: httpx.Response) -> List[str]:
    """A reply is ``{"messages": [...]}`` with at least one message, each with text."""
    try:
        messages = response.json().get("messages")
    except (ValueError, AttributeError):
        return [f"not a JSON object: {response.text[:120]!r}"]
    if not messages:
        return ["no reply at all"]
    if not all(isinstance(m, dict) and str(m.get("text") or "").strip() for m in messages):
        return [f"a message without text: {messages!r:.200}"]
    return []


def has_words(text: str) -> bool:
    """Whether anything visible is left once the gateway drops the slashes of a payload
    the bot did not offer ("/" alone is no message)."""
    text = text.strip()
    text = text.lstrip("/") if text.startswith("/") else text
    return any(ch.isprintable() and not ch.isspace() for ch in text)


def text_problems(response: httpx.Response, case: TextCase, settings: WebSettings) -> List[str]:
    problems = never_a_server_error(response)
    status = response.status_code
    if len(case.text) > settings.max_message_chars:
        expected = {413}
    elif has_words(case.text):
        expected = {200}
    else:
        expected = {200, 400}
    if status not in expected:
        problems.append(f"expected {sorted(expected)}")
    problems += reply_problems(response) if status == 200 else error_problems(response)
    return problems


def client_for(app: WebApp) -> httpx.Client:
    return httpx.Client(base_url=app.url, timeout=TIMEOUT)


def text_lane(
    app: WebApp, cases: List[TextCase], expected: List[str], senders: List[str]
) -> List[Outcome]:
    """One visitor session: its share of the texts, then the plain question."""
    headers = {"Origin": app.url, "Content-Type": "application/json"}
    outcomes = []
    with client_for(app) as client:
        for case in cases:
            response = client.post(
                CHAT, content=json_text_body({"message": case.text}), headers=headers
            )
            problems = text_problems(response, case, app.settings)
            outcomes.append(
                Outcome(f"{case.category}: {case.name}", response.status_code, problems)
            )
        outcomes.append(still_answers(client, headers, expected, "the session afterwards"))
        senders.append(sender_id(client.cookies.get("clinic_chat") or ""))
    return outcomes


def still_answers(
    client: httpx.Client, headers: Dict[str, str], expected: List[str], name: str
) -> Outcome:
    response = client.post(CHAT, content=json_text_body({"message": QUESTION}), headers=headers)
    texts_ = []
    if response.status_code == 200:
        texts_ = [m["text"] for m in response.json()["messages"]]
    return Outcome(name, response.status_code, still_answers_problems(texts_, expected))


def request_problems(response: httpx.Response, case: RequestCase) -> List[str]:
    problems = never_a_server_error(response)
    status = response.status_code
    if status == 200:
        problems += reply_problems(response)
    elif 400 <= status < 500:
        problems += error_problems(response)
    else:
        problems.append("neither a reply nor a 4xx")
    if case.category == "wrong methods" and (status, response.headers.get("allow")) != (
        405,
        "POST",
    ):
        problems.append("another method than POST is not 405 with Allow: POST")
    declared = (case.content_type or "application/json").split(";")[0]
    if case.category == "wrong content type" and declared != "application/json" and status != 415:
        problems.append("a body declared as another type than JSON is not 415")
    if case.category == "session cookies":
        problems += cookie_problems(response, case.cookie or "")
    return problems


def cookie_problems(response: httpx.Response, sent: str) -> List[str]:
    """Any cookie gets a reply; one the gateway could not have issued is replaced by a
    fresh token, and a well-formed unknown one is a new, empty session of its own."""
    if response.status_code != 200:
        return ["a message with an unknown cookie got no reply"]
    issued = response.cookies.get("clinic_chat")
    if TOKEN.fullmatch(sent):
        return [] if issued is None else ["a well-formed cookie was replaced"]
    if issued is None or not TOKEN.fullmatch(issued) or issued == sent:
        return [f"a broken cookie was not replaced by a fresh token: {issued!r}"]
    return []


def request_lane(app: WebApp, cases: List[RequestCase], expected: List[str]) -> List[Outcome]:
    headers = {"Origin": app.url}
    outcomes = []
    with client_for(app) as session:
        session.post(CHAT, json={"message": "hello"}, headers=headers)  # the lane's session
        for case in cases:
            if case.cookie is not None:  # its own cookie, in a browser without ours
                with client_for(app) as stranger:
                    response = send(stranger, CHAT, case, headers)
            else:
                response = send(session, CHAT, case, headers)
            problems = request_problems(response, case)
            outcomes.append(
                Outcome(f"{case.category}: {case.name}", response.status_code, problems)
            )
        json_headers = {**headers, "Content-Type": "application/json"}
        outcomes.append(still_answers(session, json_headers, expected, "the session afterwards"))
    return outcomes


def test_every_corpus_text_through_the_gateway_gets_a_reply_or_a_4xx_saying_why_never_a_5xx(
    corpus_web: WebApp, assistant: Assistant, domain: Dict[str, Any]
):
    expected, senders = usual_answer(domain), []
    outcomes = run_lanes(
        [
            lambda cases=cases: text_lane(corpus_web, cases, expected, senders)
            for cases in lanes(texts())
        ]
    )
    assert len(outcomes) >= 500
    assert not any(o.problems for o in outcomes), summary(outcomes)
    assert {o.status for o in outcomes} == {200, 400, 413}  # all three outcomes were seen
    assert bookings_of(assistant.app_db, senders) == 0


def test_every_malformed_gateway_request_gets_a_4xx_saying_why_or_a_reply_never_a_5xx(
    corpus_web: WebApp, domain: Dict[str, Any]
):
    expected = usual_answer(domain)
    cases = gateway_requests()
    outcomes = run_lanes(
        [lambda part=part: request_lane(corpus_web, part, expected) for part in lanes(cases)]
    )
    assert not any(o.problems for o in outcomes), summary(outcomes)
    assert {400, 405, 413, 415} <= {o.status for o in outcomes}


def test_the_shipped_session_limit_still_answers_429_with_retry_after_in_front_of_real_rasa(
    shipped_limits_web: WebApp,
):
    limit = shipped_limits_web.settings.session_limit.limit
    headers = {"Origin": shipped_limits_web.url}
    with client_for(shipped_limits_web) as client:
        statuses = [
            client.post(CHAT, json={"message": "hi"}, headers=headers).status_code
            for _ in range(limit)
        ]
        refused = client.post(CHAT, json={"message": "hi"}, headers=headers)
    assert statuses == [200] * limit
    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= shipped_limits_web.settings.session_limit.window_s
    assert str(retry_after) in refused.json()["error"]
