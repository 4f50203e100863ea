"""The web app's security promises, each proven: the security headers on every route
and every kind of answer (errors, 404, 405, 500, static files), CORS and Origin limited
to clinic.yml's allowed_origins on every /api route, one visitor never reading another's
conversation, secrets only from the environment with a one-line start-up error, and
Rasa's HTTP API switched off (every endpoint, not just the tracker).

Gateway tests that already prove a part (tests/web/test_gateway.py: 403 for foreign
origins on POST /api/chat and GET /api/chat/history, the cookie's flags;
test_history.py: the cookie's own transcript) are not repeated here."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator, List, Tuple

import httpx
import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from clinic.settings import ClinicProfile
from clinic.web import sessions
from clinic.web.app import create_app
from clinic.web.sessions import new_session_id, sender_id
from clinic.web.settings import WebSettings

from ..servers import ROOT, Assistant
from .conftest import ORIGIN
from .test_history import conversation, store_conversation

FOREIGN = "https://evil.example"
PATH_PARAMETERS = {"{booking_id:int}": "1", "{user_id:int}": "1", "{sender}": "web-abc"}


@pytest.fixture
def settings(make_settings: Callable[..., WebSettings], tmp_path: Path) -> WebSettings:
    """Rasa down, an empty tracker store, the staff console on a fresh app database."""
    return make_settings(database_url=f"sqlite:///{tmp_path / 'clinic.db'}")


@pytest.fixture
def app(settings: WebSettings) -> Starlette:
    return create_app(settings)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url=ORIGIN, raise_server_exceptions=False) as test_client:
        yield test_client


def every_route(app: Starlette) -> List[Tuple[str, str]]:
    """(method, path) of every route of the app, path parameters filled in."""
    found = []
    for route in app.routes:
        assert isinstance(route, Route), f"a {type(route).__name__} is not covered here"
        path = route.path
        for parameter, value in PATH_PARAMETERS.items():
            path = path.replace(parameter, value)
        assert "{" not in path, f"fill in the parameter of {route.path}"
        found += [(method, path) for method in sorted(route.methods or [])]
    return found


def assert_security_headers(response: httpx.Response, what: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None, f"{what}: no script-src in {csp!r}"
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, what
    assert directives.get("frame-ancestors") == ["'none'"], f"{what}: {csp!r}"
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("referrer-policy") == "same-origin", what
    assert response.headers.get("x-frame-options") == "DENY", what


# --- security headers ------------------------------------------------------------


def test_every_route_and_method_of_the_app_answers_with_the_security_headers(
    app: Starlette, client: TestClient
):
    routes = every_route(app)
    assert ("GET", "/widget.js") in routes and ("POST", "/api/chat") in routes
    for method, path in routes:
        response = client.request(method, path, headers={"Origin": ORIGIN}, follow_redirects=False)
        assert_security_headers(response, f"{method} {path} -> {response.status_code}")


@pytest.mark.parametrize(
    "method,path,status",
    [
        ("GET", "/no-such-page", 404),
        ("GET", "/api/no-such-route", 404),
        ("DELETE", "/", 405),
        ("POST", "/widget.js", 405),
        ("GET", "/api/chat", 405),
        ("POST", "/api/chat/config", 405),
    ],
)
def test_error_answers_carry_the_security_headers_too(
    client: TestClient, method: str, path: str, status: int
):
    response = client.request(method, path, headers={"Origin": ORIGIN})
    assert response.status_code == status
    assert_security_headers(response, f"{method} {path}")


def test_an_unexpected_error_answers_500_with_the_security_headers_and_no_traceback(
    app: Starlette,
):
    async def broken(request: Request) -> None:
        raise RuntimeError("a bug with a secret in its message")

    app.router.routes.append(Route("/broken", broken))
    with TestClient(app, base_url=ORIGIN, raise_server_exceptions=False) as client:
        response = client.get("/broken")
    assert response.status_code == 500
    assert_security_headers(response, "500")
    assert "secret" not in response.text and "Traceback" not in response.text


def test_the_api_errors_say_why_as_json(client: TestClient):
    for method, path in [("GET", "/api/chat"), ("PUT", "/api/chat/history")]:
        response = client.request(method, path, headers={"Origin": ORIGIN})
        assert response.status_code == 405
        assert response.json()["error"]
        assert response.headers["allow"] in ("POST", "GET, HEAD")
    response = client.post(
        "/api/chat", content=b"message=hi", headers={"Origin": ORIGIN, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


# --- CORS and Origin ---------------------------------------------------------------


def api_routes(app: Starlette) -> List[Tuple[str, str]]:
    return [(m, p) for m, p in every_route(app) if p.startswith("/api/") and m != "OPTIONS"]


def test_a_foreign_origin_gets_no_cors_permission_on_any_api_route(app: Starlette, client):
    assert {path for _, path in api_routes(app)} == {
        "/api/chat",
        "/api/chat/history",
        "/api/chat/config",
    }
    for method, path in api_routes(app):
        preflight = client.options(
            path,
            headers={
                "Origin": FOREIGN,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert "access-control-allow-origin" not in preflight.headers, f"preflight {method} {path}"
        assert preflight.status_code >= 400, f"preflight {method} {path}"
        answer = client.request(method, path, headers={"Origin": FOREIGN})
        assert "access-control-allow-origin" not in answer.headers, f"{method} {path}"


def test_an_allowed_origin_gets_cors_permission_for_its_own_origin_only(
    app: Starlette, client: TestClient, clinic: ClinicProfile
):
    for origin in clinic.allowed_origins:
        preflight = client.options(
            "/api/chat",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        assert preflight.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize("origin", [FOREIGN, "null", ORIGIN + ".evil.example", None], ids=str)
def test_no_state_changing_api_request_from_a_foreign_or_missing_origin_is_accepted(
    app: Starlette, client: TestClient, origin: str | None
):
    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    for method, path in api_routes(app):
        if method in ("GET", "HEAD"):
            continue
        response = client.request(method, path, content=b'{"message": "hi"}', headers=headers)
        assert response.status_code in (403, 405), f"{method} {path}: {response.status_code}"
        if method == "POST" and path == "/api/chat":
            assert response.status_code == 403
            assert "set-cookie" not in response.headers


# --- one visitor never reads another's conversation ----------------------------------


def test_session_ids_are_256_random_bits_from_the_secrets_module(monkeypatch):
    token = new_session_id()
    assert len(base64.urlsafe_b64decode(token + "=")) * 8 >= 128
    assert len({new_session_id() for _ in range(10_000)}) == 10_000
    monkeypatch.setattr(sessions.secrets, "token_urlsafe", lambda n: f"from-secrets-{n}")
    assert new_session_id() == f"from-secrets-{sessions.TOKEN_BYTES}"
    assert sessions.TOKEN_BYTES * 8 >= 128


def test_the_rasa_sender_id_is_a_one_way_hash_that_never_contains_the_cookie():
    token = new_session_id()
    sender = sender_id(token)
    assert re.fullmatch(r"web-[0-9a-f]{32}", sender)
    assert token not in sender and token[:8] not in sender
    assert sender_id(token) == sender != sender_id(new_session_id())


def altered(token: str) -> str:
    """The token with its first character changed (still well-formed)."""
    return ("A" if token[0] != "A" else "B") + token[1:]


@pytest.mark.parametrize(
    "cookie",
    [
        lambda victim: new_session_id(),  # forged: well-formed, never issued
        altered,
        lambda victim: victim[:-1],  # truncated: malformed
        lambda victim: victim + "x",
        lambda victim: sender_id(victim),  # the sender id from the tracker store
        lambda victim: sender_id(victim)[4:],
    ],
    ids=["forged", "altered", "truncated", "extended", "sender id", "sender hash"],
)
async def test_a_forged_or_altered_cookie_never_reveals_a_transcript(
    make_settings, tmp_path: Path, cookie
):
    victim = new_session_id()
    tracker_db = tmp_path / "tracker.db"
    await store_conversation(tracker_db, sender_id(victim), conversation())
    app = create_app(make_settings(tracker_store_url=f"sqlite:///{tracker_db}"))
    with TestClient(app, base_url=ORIGIN) as client:
        client.cookies.set("clinic_chat", victim)
        assert client.get("/api/chat/history").json()["messages"]  # the victim's own
        client.cookies.clear()
        client.cookies.set("clinic_chat", cookie(victim))
        response = client.get("/api/chat/history")
    assert response.status_code == 200
    assert response.json() == {"messages": []}
    assert "is dry needling safe?" not in response.text


# --- secrets only from the environment ------------------------------------------------


def run_web_app(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("STAFF_SECRET_KEY", "CLINIC_ENV")}
    return subprocess.run(
        [sys.executable, "-m", "clinic.web"],
        cwd=ROOT,
        env={**clean, "PORT": "1", "HOST": "127.0.0.1", **env},  # never reached: no server
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "env,named",
    [
        ({"CLINIC_ENV": "production"}, "STAFF_SECRET_KEY is required when CLINIC_ENV=production"),
        ({"CLINIC_ENV": "production", "STAFF_SECRET_KEY": "short"}, "at least 32 characters"),
        ({"PORT": "eighty"}, "PORT='eighty' is not a number"),
    ],
    ids=["production without a key", "a short key", "a wrong port"],
)
def test_python_m_clinic_web_stops_with_one_clear_line_not_a_stack_trace(env: dict, named: str):
    result = run_web_app(env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_no_secret_is_written_in_the_code_or_the_settings_files():
    keyed = re.compile(
        r"(secret|password|token)[_a-z]*\s*[:=]\s*['\"][A-Za-z0-9_\-]{16,}['\"]", re.I
    )
    checked = 0
    for path in [*ROOT.glob("clinic/**/*.py"), *ROOT.glob("*.yml"), *ROOT.glob("clinic/**/*.yml")]:
        checked += 1
        assert not keyed.search(path.read_text(encoding="utf-8")), path
    assert checked > 20


# --- Rasa's HTTP API --------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/status"),
        ("GET", "/version"),
        ("POST", "/model/parse"),
        ("GET", "/domain"),
        ("POST", "/conversations/someone/messages"),
        ("POST", "/conversations/someone/trigger_intent"),
        ("PUT", "/model"),
    ],
)
def test_no_endpoint_of_rasas_http_api_answers(assistant: Assistant, method: str, path: str):
    # tests/test_rest_channel.py covers GET /conversations/{id}/tracker
    response = requests.request(method, assistant.rasa_url + path, json={"text": "hi"}, timeout=10)
    assert response.status_code in (404, 405)
    assert "version" not in response.text.lower() or response.status_code == 404
