"""The web app's factory: ``create_app(settings)``.

Clients are built in the lifespan (start-up), not at import: the HTTP client to
Rasa's REST channel and the read-only engine of the tracker store.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.templating import Jinja2Templates

from .history import TrackerHistory
from .ratelimit import SlidingWindowLimiter
from .routes import assets, chat, pages
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
            try:
                yield
            finally:
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
        routes=[*pages.routes, *assets.routes, *chat.routes],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.web = web
    return app
