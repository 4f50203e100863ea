"""``GET /health`` and HSTS on the real web app (uvicorn on loopback), against small real
servers: a stand-in for Rasa's ``GET /``, the real action proxy (clinic/action_proxy.py)
in front of a stand-in action server, and SQLite files for both databases."""

from __future__ import annotations

import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest
import requests
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from bench.services import Postgres, create_database
from clinic.action_proxy import ActionProxy
from clinic.action_proxy import create_app as create_proxy_app
from clinic.web.security import STRICT_TRANSPORT_SECURITY
from clinic.web.settings import WebSettings

from ..servers import free_port
from ..web_server import WebApp, serve_in_thread, start_web_app, stop_server_thread, stop_web_app


def _rasa_stand_in() -> Starlette:
    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("Hello from Rasa: 3.6.21")

    return Starlette(routes=[Route("/", hello)])


def _action_server_stand_in() -> Starlette:
    async def health(request: Any) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/health", health)])


@dataclass
class Backends:
    rasa_url: str
    proxy_url: str
    tracker_store_url: str
    database_url: str
    stop_rasa: Callable[[], None]
    stop_actions: Callable[[], None]


@pytest.fixture
def backends(tmp_path: Path) -> Iterator[Backends]:
    """Rasa, the action proxy and the action server up; both databases readable."""
    running: List[Any] = []

    def serve(app: Any, name: str) -> tuple[str, Callable[[], None]]:
        port = free_port()
        server, thread = serve_in_thread(app, port, name)
        running.append((server, thread))
        return f"http://127.0.0.1:{port}", lambda: stop_server_thread(server, thread)

    rasa_url, stop_rasa = serve(_rasa_stand_in(), "rasa stand-in")
    actions_url, stop_actions = serve(_action_server_stand_in(), "action server stand-in")
    proxy_url, _ = serve(create_proxy_app(ActionProxy(actions_url, 2.0)), "action proxy")
    tracker = tmp_path / "tracker.db"
    with sqlite3.connect(tracker) as connection:
        connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, type_name TEXT)")
    try:
        yield Backends(
            rasa_url=rasa_url,
            proxy_url=proxy_url,
            tracker_store_url=f"sqlite:///{tracker}",
            database_url=f"sqlite:///{tmp_path / 'clinic.db'}",
            stop_rasa=stop_rasa,
            stop_actions=stop_actions,
        )
    finally:
        for server, thread in running:
            stop_server_thread(server, thread)


@pytest.fixture
def start(
    backends: Backends, make_settings: Callable[..., WebSettings]
) -> Iterator[Callable[..., WebApp]]:
    """Starts the web app against ``backends``; ``changes`` override its settings."""
    apps: List[WebApp] = []

    def start_app(forwarded_allow_ips: str = "127.0.0.1", **changes: Any) -> WebApp:
        values = {
            "rasa_url": backends.rasa_url,
            "action_proxy_url": backends.proxy_url,
            "tracker_store_url": backends.tracker_store_url,
            "database_url": backends.database_url,
            **changes,
        }
        app = start_web_app(make_settings(**values), forwarded_allow_ips=forwarded_allow_ips)
        apps.append(app)
        return app

    try:
        yield start_app
    finally:
        for app in apps:
            stop_web_app(app)


def _health(app: WebApp) -> requests.Response:
    return requests.get(f"{app.url}/health", timeout=10)


def test_health_is_200_ok_with_every_check_when_all_parts_answer(start: Callable[..., WebApp]):
    answer = _health(start())
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "checks": {
            "rasa": "ok",
            "action_server": "ok",
            "tracker_store": "ok",
            "app_database": "ok",
        },
    }


def test_health_is_503_naming_rasa_when_rasa_is_down(
    start: Callable[..., WebApp], backends: Backends
):
    app = start()
    backends.stop_rasa()
    answer = _health(app)
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert answer.json()["status"] == "failing"
    assert checks["rasa"] == "ConnectError"
    assert {name for name, result in checks.items() if result != "ok"} == {"rasa"}


def test_health_is_503_naming_the_action_server_when_it_is_down_behind_the_proxy(
    start: Callable[..., WebApp], backends: Backends
):
    app = start()
    backends.stop_actions()
    answer = _health(app)
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["action_server"] == "HTTP 503"  # the proxy answers, the server does not
    assert {name for name, result in checks.items() if result != "ok"} == {"action_server"}


def test_health_is_503_naming_the_tracker_store_when_its_file_is_missing(
    start: Callable[..., WebApp], tmp_path: Path
):
    missing = tmp_path / "nowhere" / "tracker.db"
    answer = _health(start(tracker_store_url=f"sqlite:///{missing}"))
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["tracker_store"] == "OperationalError"
    assert {name for name, result in checks.items() if result != "ok"} == {"tracker_store"}
    assert not missing.parent.exists()  # read-only: the check creates nothing
    assert str(tmp_path) not in answer.text  # no database location in the answer


def test_health_is_503_naming_the_app_database_when_it_becomes_unreadable(
    start: Callable[..., WebApp], backends: Backends, tmp_path: Path
):
    app = start()  # migrates clinic.db at start-up
    (tmp_path / "clinic.db").unlink()
    answer = _health(app)
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["app_database"] == "OperationalError"
    assert {name for name, result in checks.items() if result != "ok"} == {"app_database"}


def test_health_answer_holds_no_password_of_an_unreachable_postgres_url(
    start: Callable[..., WebApp],
):
    url = f"postgresql://clinic:s3cret-pw@127.0.0.1:{free_port()}/clinic"
    answer = _health(start(tracker_store_url=url))
    assert answer.status_code == 503
    assert answer.json()["checks"]["tracker_store"] == "OperationalError"
    assert "s3cret" not in answer.text and "postgresql" not in answer.text


def test_hsts_is_sent_when_a_trusted_proxy_says_the_request_came_over_https(
    start: Callable[..., WebApp],
):
    answer = requests.get(f"{start().url}/", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Strict-Transport-Security"] == STRICT_TRANSPORT_SECURITY
    assert STRICT_TRANSPORT_SECURITY == "max-age=31536000; includeSubDomains"


def test_hsts_is_absent_over_plain_http(start: Callable[..., WebApp]):
    answer = requests.get(f"{start().url}/", timeout=10)
    assert answer.status_code == 200
    assert "Strict-Transport-Security" not in answer.headers


def test_hsts_is_absent_when_x_forwarded_proto_comes_from_an_untrusted_address(
    start: Callable[..., WebApp],
):
    app = start(forwarded_allow_ips="192.0.2.1")  # the request comes from 127.0.0.1
    answer = requests.get(f"{app.url}/", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert answer.status_code == 200
    assert "Strict-Transport-Security" not in answer.headers


def test_a_part_that_never_answers_fails_its_check_within_2_s_without_delaying_the_others(
    start: Callable[..., WebApp],
):
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        app = start(rasa_url=url, action_proxy_url=url)
        began = time.monotonic()
        answer = _health(app)
        took = time.monotonic() - began
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["rasa"] == checks["action_server"] == "no answer within 2 s"
    assert checks["tracker_store"] == checks["app_database"] == "ok"
    assert took < 3.5  # the two 2-second waits ran at once


def test_health_is_200_with_both_databases_on_postgresql_and_503_for_a_missing_one(
    start: Callable[..., WebApp], postgres: Postgres
):
    app_url = create_database(postgres, "health_clinic")
    answer = _health(start(tracker_store_url=postgres.url, database_url=app_url))
    assert answer.status_code == 200, answer.text
    missing = postgres.url.rsplit("/", 1)[0] + "/no_such_database"
    answer = _health(start(tracker_store_url=missing, database_url=app_url))
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert {name for name, result in checks.items() if result != "ok"} == {"tracker_store"}
    assert "no_such_database" not in answer.text
