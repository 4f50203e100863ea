"""The action proxy: Rasa's calls to the action server, bounded in time, always answered.

``python -m clinic action-proxy`` (a program of ``make run``) listens on
127.0.0.1:``ACTION_PROXY_PORT`` (default 5056), where ``endpoints.yml``'s
``action_endpoint`` points, and forwards ``POST /webhook`` (and ``GET /health``,
``GET /actions``) to the action server at ``ACTION_SERVER_URL`` (default
``http://127.0.0.1:$ACTION_PORT``). Connecting, sending and each wait for data give up
after ``ACTION_TIMEOUT`` seconds (default 4): Rasa's own bound is 300 s and
``endpoints.yml`` has no setting for it.

When the action server refuses the connection, stays silent past the bound or answers
with an HTTP 5xx, the proxy answers Rasa itself with a valid action server response
(Rasa's action server API: ``{"events": [...], "responses": [...]}``) and logs one
line (which action, why):

- ``action_session_start``: what Rasa's default session start does (``session_started``,
  the slots carried over when the domain says so, ``action_listen``), so the conversation
  starts as usual; the clinic_* slots are filled by ClinicFactsPolicy;
- a form's validation (``validate_<form>``, ``action_validate_slot_mappings``): the
  apology, and the slots it was asked to validate set back to empty, so the form asks for
  them again instead of keeping a value nobody checked;
- any other action: the apology, response ``utter_action_server_unavailable`` (the chat
  gateway's words, with the clinic's phone), and no events.

ActionServerUnavailablePolicy then makes Rasa listen. A 4xx (a form's
``ActionExecutionRejection``, status 400) is an answer: it is passed on unchanged.

After a failure, the next call first asks the action server's ``/health`` with a short
bound (1 s): while that fails too, Rasa gets the fallback at once instead of a second
full wait within the same message; once ``/health`` answers, calls go through again.
"""

from __future__ import annotations

import json
import logging
import math
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Dict, List, Mapping

import httpx
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)

DEFAULT_ACTION_TIMEOUT_S = 4.0
DEFAULT_PROXY_PORT = 5056
DEFAULT_ACTION_PORT = 5055
PROBE_TIMEOUT_S = 1.0
UNAVAILABLE_RESPONSE = "utter_action_server_unavailable"
SESSION_START = "action_session_start"
SLOT_MAPPINGS_VALIDATION = "action_validate_slot_mappings"
REQUESTED_SLOT = "requested_slot"
FORWARDED_HEADERS = ("content-type", "authorization")


class ActionProxySettingsError(ValueError):
    """``ACTION_TIMEOUT``, ``ACTION_PROXY_PORT`` or ``ACTION_SERVER_URL`` is wrong."""


@dataclass(frozen=True)
class ProxySettings:
    port: int
    action_server_url: str
    timeout_s: float


def action_timeout_s(environ: Mapping[str, str]) -> float:
    """``ACTION_TIMEOUT`` in seconds (default 4)."""
    raw = environ.get("ACTION_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_ACTION_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        message = f"ACTION_TIMEOUT={raw!r} is not a number of seconds"
        raise ActionProxySettingsError(message) from None
    if not 0 < seconds < math.inf:
        raise ActionProxySettingsError(f"ACTION_TIMEOUT={raw!r} must be greater than 0")
    return seconds


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ActionProxySettingsError(f"{name}={raw!r} is not a port number (1-65535)")
    return int(raw)


def load_settings(environ: Mapping[str, str]) -> ProxySettings:
    """The proxy's settings from the environment (the Makefile's defaults)."""
    timeout_s = action_timeout_s(environ)
    port = _port(environ, "ACTION_PROXY_PORT", DEFAULT_PROXY_PORT)
    url = environ.get("ACTION_SERVER_URL", "").strip()
    if not url:
        url = f"http://127.0.0.1:{_port(environ, 'ACTION_PORT', DEFAULT_ACTION_PORT)}"
    if not url.startswith(("http://", "https://")):
        raise ActionProxySettingsError(f"ACTION_SERVER_URL={url!r} is not an http(s) URL")
    return ProxySettings(port, url.rstrip("/"), timeout_s)


def _is_validation(action: str) -> bool:
    return action.startswith("validate_") or action == SLOT_MAPPINGS_VALIDATION


def fallback(request: Mapping[str, Any]) -> Dict[str, List[Dict[str, Any]]]:
    """The action server's answer to ``request`` (Rasa's call) when it cannot give one."""
    action = str(request.get("next_action", ""))
    tracker = Tracker.from_dict(request.get("tracker") or {"sender_id": "", "events": []})
    if action == SESSION_START:
        session = (request.get("domain") or {}).get("session_config") or {}
        carried = [
            SlotSet(name, value)
            for name, value in tracker.slots.items()
            if session.get("carry_over_slots_to_new_session", True)
            and value is not None
            and name != "session_started_metadata"  # Rasa sets it from the new session's
        ]
        return {"events": [SessionStarted(), *carried, ActionExecuted("action_listen")]}
    events = []
    if _is_validation(action):  # requested_slot stays: emptied, the form would end
        checked = set(tracker.slots_to_validate()) - {REQUESTED_SLOT}
        events = [SlotSet(name, None) for name in sorted(checked)]
    return {"events": events, "responses": [{"response": UNAVAILABLE_RESPONSE}]}


class ActionProxy:
    """Forwards to the action server at ``url``; answers for it when it cannot."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.timeout = httpx.Timeout(timeout_s)  # connect, write, each read, pool
        self.probe_timeout = httpx.Timeout(min(PROBE_TIMEOUT_S, timeout_s))
        self.client = httpx.AsyncClient()
        self.failing = False  # the last call failed: probe /health before the next

    async def _answers_health(self) -> bool:
        try:
            health = await self.client.get(f"{self.url}/health", timeout=self.probe_timeout)
        except httpx.HTTPError:
            return False
        return health.status_code == 200

    async def webhook(self, request: Request) -> Response:
        body = await request.body()
        try:
            call = json.loads(body)
        except ValueError:
            call = None
        call = call if isinstance(call, dict) else {}
        action = str(call.get("next_action", "?"))
        if self.failing and not await self._answers_health():
            return self._answer_for(call, action, "its /health still does not answer")
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_HEADERS}
        try:
            answer = await self.client.post(
                f"{self.url}/webhook",
                content=body,
                params=request.query_params,  # Rasa's token, if any
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.TimeoutException:
            reason = f"no answer within {self.timeout.read:g} s"
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        else:
            if answer.status_code < 500:  # an answer, a form's 400 rejection included
                self.failing = False
                return _passed_on(answer)
            reason = f"HTTP {answer.status_code}"
        self.failing = True
        return self._answer_for(call, action, reason)

    def _answer_for(self, call: Mapping[str, Any], action: str, reason: str) -> Response:
        answer = fallback(call)
        said = "the session start" if action == SESSION_START else "the apology"
        log.warning("action server failed on %s (%s): answered with %s", action, reason, said)
        return JSONResponse(answer)

    async def forward_get(self, request: Request) -> Response:
        try:
            answer = await self.client.get(f"{self.url}{request.url.path}", timeout=self.timeout)
        except httpx.HTTPError as exc:
            return JSONResponse({"error": f"action server: {type(exc).__name__}"}, 503)
        return _passed_on(answer)


def _passed_on(answer: httpx.Response) -> Response:
    media_type = answer.headers.get("content-type")
    return Response(answer.content, status_code=answer.status_code, media_type=media_type)


def create_app(proxy: ActionProxy) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await proxy.client.aclose()

    return Starlette(
        routes=[
            Route("/webhook", proxy.webhook, methods=["POST"]),
            Route("/health", proxy.forward_get, methods=["GET"]),
            Route("/actions", proxy.forward_get, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def serve(settings: ProxySettings) -> None:
    """Runs the proxy with uvicorn on 127.0.0.1 (loopback only) until stopped."""
    import uvicorn

    from clinic.logs import configure_logging

    configure_logging()  # logging.yml: JSON lines, no visitor data
    log.info(
        "action proxy on 127.0.0.1:%d for %s (ACTION_TIMEOUT %g s)",
        settings.port,
        settings.action_server_url,
        settings.timeout_s,
    )
    uvicorn.run(
        create_app(ActionProxy(settings.action_server_url, settings.timeout_s)),
        host="127.0.0.1",
        port=settings.port,
        ws="none",
        server_header=False,
        access_log=False,  # Rasa's calls, several a message: failures are logged above
        log_level="info",
        log_config=None,
    )
