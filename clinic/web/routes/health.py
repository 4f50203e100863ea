"""``GET /health``: whether the web app can serve a chat and the staff console.

Four checks run concurrently, each bounded by ``HEALTH_TIMEOUT_S``: Rasa (``GET /`` on
``RASA_URL``; ``/status`` needs ``--enable-api``, which ``make run`` does not pass), the
action server through the action proxy (its ``/health`` forwards), and one trivial query
on each database, read-only (a missing SQLite file fails rather than being created).
200 ``{"status": "ok", "checks": {...}}`` when all pass, else 503 with each failing
check's short reason: an exception's class name or an HTTP status, never a URL (they
may hold a database password). No login: monitors call it; nothing personal is in it.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Dict, Tuple

import httpx
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..history import make_read_only_engine
from ..settings import WebSettings
from ..state import web_state

HEALTH_TIMEOUT_S = 2.0
OK = "ok"


async def _http_check(url: str) -> str:
    async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_S) as client:
        answer = await client.get(url)
    return OK if answer.status_code == 200 else f"HTTP {answer.status_code}"


def _query(url: str, settings: WebSettings) -> str:
    engine = make_read_only_engine(url, settings.project_root, connect_timeout_s=HEALTH_TIMEOUT_S)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    return OK


async def _bounded(check: Callable[[], Awaitable[str]]) -> str:
    try:
        return await asyncio.wait_for(check(), timeout=HEALTH_TIMEOUT_S)
    except (asyncio.TimeoutError, httpx.TimeoutException):  # whichever bound comes first
        return f"no answer within {HEALTH_TIMEOUT_S:g} s"
    except Exception as exc:  # the reason, without its message (it may name a URL)
        return type(exc).__name__


async def run_checks(settings: WebSettings) -> Dict[str, str]:
    """Each check's name and ``"ok"`` or why it failed."""
    checks: Dict[str, Callable[[], Awaitable[str]]] = {
        "rasa": lambda: _http_check(f"{settings.rasa_url}/"),
        "action_server": lambda: _http_check(f"{settings.action_proxy_url}/health"),
        "tracker_store": lambda: run_in_threadpool(_query, settings.tracker_store_url, settings),
    }
    if settings.database_url is not None:
        database_url = settings.database_url
        checks["app_database"] = lambda: run_in_threadpool(_query, database_url, settings)
    results: Tuple[str, ...] = tuple(
        await asyncio.gather(*(_bounded(check) for check in checks.values()))
    )
    return dict(zip(checks, results, strict=True))


async def health(request: Request) -> JSONResponse:
    checks = await run_checks(web_state(request).settings)
    healthy = all(result == OK for result in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "failing", "checks": checks},
        status_code=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )


routes = [Route("/health", health, methods=["GET"])]
