"""Properties of the chat gateway (``POST /api/chat``) for arbitrary input, with
Hypothesis: any text, any JSON body, any bytes, from any origin, get 200 or a 4xx
with an ``error`` text; 503 only when Rasa is down; and what reaches Rasa is always
readable text. Rasa is an ``httpx.MockTransport`` answering as its REST channel does
(the edge of the unit), the app runs in Starlette's TestClient."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Iterator, List

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from clinic.settings import ClinicProfile
from clinic.web.app import create_app
from clinic.web.settings import RateLimit, WebSettings

from .corpus import texts

ORIGIN = "http://127.0.0.1:8000"  # in the shipped clinic.yml's allowed_origins
EXAMPLES = settings(max_examples=300, deadline=None, database=None)  # no .hypothesis/
NO_LIMIT = RateLimit(limit=1_000_000, window_s=30.0)
ANSWERED = {200, 400, 403, 413, 429}


class RasaStandIn:
    """Answers like Rasa's REST channel and keeps every message it got; or is down."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.received: List[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        body = json.loads(request.content)
        self.received.append(body["message"])
        reply = {"recipient_id": body["sender"], "text": "Sorry, I didn't quite understand that."}
        return httpx.Response(200, json=[reply])


def client_for(clinic: ClinicProfile, tmp_path, rasa: RasaStandIn) -> TestClient:
    base = WebSettings(
        clinic=clinic,
        rasa_url="http://rasa.test",
        tracker_store_url=f"sqlite:///{tmp_path / 'tracker.db'}",
    )
    app = create_app(
        replace(base, session_limit=NO_LIMIT, address_limit=NO_LIMIT),
        rasa_transport=httpx.MockTransport(rasa),
    )
    return TestClient(app, base_url=ORIGIN)


@pytest.fixture(scope="module")
def rasa() -> RasaStandIn:
    return RasaStandIn()


@pytest.fixture(scope="module")
def client(clinic: ClinicProfile, tmp_path_factory, rasa: RasaStandIn) -> Iterator[TestClient]:
    with client_for(clinic, tmp_path_factory.mktemp("properties"), rasa) as test_client:
        yield test_client


def check(response: httpx.Response, allowed=frozenset(ANSWERED)) -> Any:
    """The status is allowed, the body JSON; a 4xx says why in ``error``."""
    assert response.status_code in allowed, response.text[:300]
    body = response.json()
    if 400 <= response.status_code < 500:
        assert isinstance(body["error"], str) and body["error"].strip()
    elif response.status_code == 200:
        assert body["messages"] and all(m["text"].strip() for m in body["messages"])
    return body


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=20,
)
# objects that look like messages more often than chance would make them
message_bodies = st.fixed_dictionaries(
    {"message": json_values | st.text()}, optional={"x": json_values}
)
origins = st.sampled_from([ORIGIN, "https://evil.example", "null", None])
corpus_texts = st.sampled_from([case.text for case in texts()])


@EXAMPLES
@given(text=st.text() | corpus_texts)
def test_any_text_gets_a_reply_or_a_4xx_and_rasa_only_ever_gets_readable_text(
    client: TestClient, rasa: RasaStandIn, text: str
):
    before = len(rasa.received)
    body = json.dumps({"message": text}).encode()  # ASCII escapes: lone surrogates too
    response = client.post(
        "/api/chat", content=body, headers={"Origin": ORIGIN, "Content-Type": "application/json"}
    )
    check(response, allowed={200, 400, 413})
    sent = rasa.received[before:]
    assert len(sent) == (1 if response.status_code == 200 else 0)
    for message in sent:
        message.encode("utf-8")  # no lone surrogates
        assert message.strip() and len(message) <= 2000
        assert not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in message)


@EXAMPLES
@given(value=json_values | message_bodies, origin=origins)
def test_any_json_body_from_any_origin_gets_a_reply_or_a_4xx_saying_why(
    client: TestClient, value: Any, origin: str | None
):
    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    response = client.post("/api/chat", content=json.dumps(value).encode(), headers=headers)
    check(response)
    if origin != ORIGIN:
        assert response.status_code == 403
    elif not isinstance(value, dict) or not isinstance(value.get("message"), str):
        assert response.status_code == 400


@EXAMPLES
@given(body=st.binary(max_size=4096), content_type=st.sampled_from(["application/json", None]))
def test_any_bytes_get_a_reply_or_a_4xx_never_a_5xx(
    client: TestClient, body: bytes, content_type: str | None
):
    headers = {"Origin": ORIGIN, **({"Content-Type": content_type} if content_type else {})}
    check(client.post("/api/chat", content=body, headers=headers))


@pytest.fixture(scope="module")
def rasa_down_client(clinic: ClinicProfile, tmp_path_factory) -> Iterator[TestClient]:
    with client_for(clinic, tmp_path_factory.mktemp("down"), RasaStandIn(down=True)) as down:
        yield down


@EXAMPLES
@given(value=json_values | message_bodies)
def test_with_rasa_down_only_a_real_message_gets_503_with_the_apology(
    rasa_down_client: TestClient, clinic: ClinicProfile, value: Any
):
    response = rasa_down_client.post(
        "/api/chat",
        content=json.dumps(value).encode(),
        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
    )
    body = check(response, allowed=ANSWERED | {503})
    if response.status_code == 503:
        assert isinstance(value, dict) and isinstance(value["message"], str)
        assert clinic.phone in body["error"]
    else:
        assert response.status_code == 400  # not a message, or no words in it
