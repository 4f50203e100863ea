"""The bad-input corpus straight into the real Rasa server's REST channel
(``/webhooks/rest/webhook``, ``clinic/rest_channel.py``): every text gets a reply,
every malformed request a 4xx that says why (or a reply), never a 5xx, and each
conversation still answers afterwards. Nothing here books anything."""

from __future__ import annotations

import re
import uuid
from typing import Any, Dict, List

import httpx
import pytest

from clinic.rest_channel import DEFAULT_MAX_MESSAGE_CHARS, PROBLEMS, read_message

from ..servers import Assistant
from .corpus import QUESTION, RequestCase, TextCase, rest_requests, texts
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

WEBHOOK = "/webhooks/rest/webhook"


def reply_problems(response: httpx.Response, text: str) -> List[str]:
    """A reply is a JSON list of bot messages, each with a text or custom data; only a
    Rasa payload ("/restart") may get no message at all."""
    try:
        messages = response.json()
    except ValueError:
        return [f"not JSON: {response.text[:120]!r}"]
    if not isinstance(messages, list):
        return [f"not a list of messages: {response.text[:120]!r}"]
    if not messages and not text.startswith("/"):
        return ["no reply at all"]
    if not all(isinstance(m, dict) and (m.get("text") or m.get("custom")) for m in messages):
        return [f"a message without text: {messages!r:.200}"]
    return []


def usual_answer(domain: Dict[str, Any]) -> List[str]:
    return [variation["text"] for variation in domain["responses"]["utter_safety"]]


def text_lane(rasa_url: str, cases: List[TextCase], sender: str) -> List[Outcome]:
    outcomes = []
    with httpx.Client(base_url=rasa_url, timeout=TIMEOUT) as client:
        for case in cases:
            body = json_text_body({"sender": sender, "message": case.text})
            response = client.post(WEBHOOK, content=body)
            problems = never_a_server_error(response)
            if response.status_code != 200:
                problems.append(f"a text was refused: {response.text[:120]!r}")
            else:
                problems += reply_problems(response, case.text)
            outcomes.append(
                Outcome(f"{case.category}: {case.name}", response.status_code, problems)
            )
    return outcomes


def request_lane(rasa_url: str, cases: List[RequestCase]) -> List[Outcome]:
    outcomes = []
    with httpx.Client(base_url=rasa_url, timeout=TIMEOUT) as client:
        for case in cases:
            response = send(client, WEBHOOK, case, {})
            problems = never_a_server_error(response)
            if case.method == "OPTIONS":  # Rasa's CORS layer answers, allowing no origin
                if "access-control-allow-origin" in response.headers:
                    problems.append("OPTIONS allowed an origin")
            elif 400 <= response.status_code < 500:
                problems += error_problems(response)
            elif response.status_code == 200:
                problems += reply_problems(response, "")
            else:
                problems.append("neither a reply nor a 4xx")
            wrong_method = case.category == "wrong methods" and case.method != "OPTIONS"
            if wrong_method and response.status_code != 405:
                problems.append("another method than POST is not 405")
            outcomes.append(
                Outcome(f"{case.category}: {case.name}", response.status_code, problems)
            )
    return outcomes


def still_answers(rasa_url: str, sender: str, expected: List[str]) -> Outcome:
    response = httpx.post(
        rasa_url + WEBHOOK, json={"sender": sender, "message": QUESTION}, timeout=TIMEOUT
    )
    texts_ = [m.get("text", "") for m in response.json()] if response.status_code == 200 else []
    return Outcome(
        f"{sender} afterwards", response.status_code, still_answers_problems(texts_, expected)
    )


@pytest.mark.e2e
def test_every_corpus_text_gets_a_reply_from_the_rest_channel_and_each_conversation_goes_on(
    assistant: Assistant, domain: Dict[str, Any]
):
    run = uuid.uuid4().hex[:8]
    parts = lanes(texts())
    senders = [f"bad-input-{run}-{i}" for i in range(len(parts))]
    outcomes = run_lanes(
        [
            lambda cases=cases, sender=sender: text_lane(assistant.rasa_url, cases, sender)
            for cases, sender in zip(parts, senders, strict=True)
        ]
    )
    assert len(outcomes) >= 500
    outcomes += [still_answers(assistant.rasa_url, s, usual_answer(domain)) for s in senders]
    assert not any(o.problems for o in outcomes), summary(outcomes)
    assert bookings_of(assistant.app_db, senders) == 0


@pytest.mark.e2e
def test_every_malformed_rest_request_gets_a_4xx_saying_why_or_a_reply_never_a_5xx(
    assistant: Assistant, domain: Dict[str, Any]
):
    sender = f"bad-request-{uuid.uuid4().hex[:8]}"
    outcomes = run_lanes(
        [
            lambda cases=cases: request_lane(assistant.rasa_url, cases)
            for cases in lanes(rest_requests(sender))
        ]
    )
    refused = [o for o in outcomes if 400 <= o.status < 500]
    assert len(refused) >= len(outcomes) // 2  # most of them really are refused
    outcomes.append(still_answers(assistant.rasa_url, sender, usual_answer(domain)))
    assert not any(o.problems for o in outcomes), summary(outcomes)


# --- the channel's own checks, without a server -------------------------------------


@pytest.mark.parametrize(
    "body,problem",
    [
        (b"\xff", "not_json"),
        (b"[" * 5000, "not_json"),
        (b"[]", "not_object"),
        (b'{"sender": "x"}', "no_message"),
        (b'{"message": null}', "message_not_text"),
        (b'{"message": "hi", "sender": 5}', "sender_not_text"),
        (b'{"message": "hi", "sender": ""}', "sender_not_text"),
        (b'{"message": "hi", "input_channel": []}', "channel_not_text"),
        (b'{"message": "hi", "metadata": "x"}', "metadata_not_object"),
    ],
)
def test_a_body_that_is_not_a_rest_message_is_refused_with_its_reason(body: bytes, problem: str):
    with pytest.raises(ValueError, match=f"^{re.escape(PROBLEMS[problem])}$"):
        read_message(body, DEFAULT_MAX_MESSAGE_CHARS)


def test_a_long_message_is_cut_at_the_limit_and_lone_surrogates_become_replacement_characters():
    message = read_message(json_text_body({"message": "a\ud83d" + "b" * 5000}), 100)
    assert message.text == "a\ufffd" + "b" * 98
    assert message.sender == "default"  # Rasa's own default sender
