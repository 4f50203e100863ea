"""The web app's factory: ``create_app(settings)``.

Clients are built in the lifespan (start-up), not at import: the HTTP client to
Rasa's REST channel and the read-only engine of the tracker store.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from typing import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.templating import Jinja2Templates

from .history import TrackerHistory
from .ratelimit import SlidingWindowLimiter
from .routes import (
    assets,
    chat,
    health,
    pages,
    staff,
    staff_admin,
    staff_bookings,
    staff_conversations,
)
from .security import SecurityHeadersMiddleware
from .settings import WEB_ROOT, WebSettings
from .state import WebState
from .texts import load_texts

log = logging.getLogger(__name__)


def create_app(
    settings: WebSettings, rasa_transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """The ASGI app. ``rasa_transport`` lets tests answer in Rasa's place."""
    web = WebState(
        settings=settings,
        texts=load_texts(settings.messages_file, settings.clinic),
        templates=Jinja2Templates(directory=str(WEB_ROOT / "templates")),
        session_limiter=SlidingWindowLimiter(settings.session_limit),
        address_limiter=SlidingWindowLimiter(settings.address_limit),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own_origin = f"http://{settings.host}:{settings.port}"
        if own_origin not in settings.allowed_origins:
            log.warning(
                "%s is not in clinic.yml's allowed_origins: the widget on this address "
                "will be refused; add it there",
                own_origin,
            )
        timeout = httpx.Timeout(settings.rasa_timeout_s, connect=5.0)
        async with httpx.AsyncClient(
            base_url=settings.rasa_url, timeout=timeout, transport=rasa_transport
        ) as client:
            history = TrackerHistory(settings.tracker_store_url, settings.project_root)
            web.rasa, web.history = client, history
            console = await start_console(web)
            try:
                yield
            finally:
                await stop_console(web, console)
                history.close()

    middleware = [
        Middleware(SecurityHeadersMiddleware),
        # widget embedded on another allowed origin of the same site (e.g. www. and chat.)
        Middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        ),
    ]
    app = Starlette(
        routes=[
            *pages.routes,
            *health.routes,
            *assets.routes,
            *chat.routes,
            *staff.routes,
            *staff_bookings.routes,
            *staff_conversations.routes,
            *staff_admin.routes,
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.web = web
    return app


class _Console:
    """What the staff console built at start-up, to close at shut-down."""

    def __init__(self) -> None:
        self.engines: list = []
        self.tasks: list[asyncio.Task] = []


async def start_console(web: WebState) -> _Console:
    """The staff console's database (migrated), the tracker store's conversation index
    and, when ``retention_interval_s`` is set, the daily retention task; when
    ``alert_interval_s`` is set, the staff-alert sender."""
    from starlette.concurrency import run_in_threadpool

    from clinic.console.index import ConversationIndexer
    from clinic.db.engine import make_engine, make_session_factory
    from clinic.db.migrate import upgrade

    from .history import make_read_only_engine

    console = _Console()
    settings = web.settings
    if settings.database_url is None:
        return console
    await run_in_threadpool(upgrade, settings.database_url)
    engine = make_engine(settings.database_url)
    tracker = make_read_only_engine(settings.tracker_store_url, settings.project_root)
    console.engines += [engine, tracker]
    web.console_sessions = make_session_factory(engine)
    web.indexer = ConversationIndexer(web.console_sessions, tracker)
    if settings.retention_interval_s:
        console.tasks.append(
            asyncio.create_task(_retention_loop(web, settings.retention_interval_s))
        )
    if settings.alert_interval_s:
        console.tasks.append(asyncio.create_task(_alert_loop(web, settings.alert_interval_s)))
    return console


async def stop_console(web: WebState, console: _Console) -> None:
    for task in console.tasks:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
    for engine in console.engines:
        engine.dispose()


async def _retention_loop(web: WebState, interval_s: float) -> None:
    """``python -m clinic purge`` once per ``interval_s`` (first one a minute after start)."""
    from starlette.concurrency import run_in_threadpool

    from clinic.console.retention import purge, tracker_engine

    await asyncio.sleep(min(60.0, interval_s))
    while True:
        settings = web.settings
        tracker = tracker_engine(settings.tracker_store_url, settings.project_root)
        try:
            assert web.console_sessions is not None
            result = await run_in_threadpool(
                purge, web.console_sessions, tracker, settings.clinic.retention_days
            )
            log.info(
                "retention: deleted %d conversations and %d booking requests",
                result.conversations,
                result.bookings,
            )
        except Exception:
            log.exception("retention run failed; trying again at the next interval")
        finally:
            tracker.dispose()
        await asyncio.sleep(interval_s)


async def _alert_loop(web: WebState, interval_s: float) -> None:
    """Every ``interval_s``: brings the conversation index up to date (which queues the
    alerts of new red-flag conversations), then sends the staff alerts that are due. Both
    run in a worker thread: a slow SMTP server holds up alerts, never a chat reply."""
    from starlette.concurrency import run_in_threadpool

    from clinic.alerts.sender import AlertSender

    settings = web.settings
    assert web.console_sessions is not None
    sender = AlertSender(
        web.console_sessions,
        settings.clinic,
        settings.smtp,
        settings.console_url or f"http://{settings.host}:{settings.port}",
        web.texts.alerts,
    )
    waiting = settings.smtp is None and bool(settings.clinic.staff_alerts)
    log.log(logging.WARNING if waiting else logging.INFO, "%s", sender.describe())
    while True:
        try:
            if web.indexer is not None:
                await run_in_threadpool(web.indexer.sync)
            await run_in_threadpool(sender.run_once)
        except Exception:
            log.exception("staff alerts: run failed; trying again in %g s", interval_s)
        await asyncio.sleep(interval_s)
