"""Runs the web app (or another ASGI app: the action proxy) in a thread on a free loopback
port, and launches Debian's Chromium.

Used by the browser tests (tests/web/), tests/test_action_proxy.py and
scripts/screenshots.py.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, List

import uvicorn

from clinic.web.app import create_app
from clinic.web.settings import WebSettings

from .servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
# Playwright cannot download its own browsers here: it drives Debian's chromium.
CHROMIUM_ARGS: List[str] = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class WebApp:
    """A running web app."""

    url: str
    settings: WebSettings
    server: uvicorn.Server
    thread: threading.Thread


def web_settings(settings: WebSettings, port: int) -> WebSettings:
    """``settings`` on ``port``, with that address as the one allowed origin."""
    origin = f"http://127.0.0.1:{port}"
    clinic = settings.clinic.copy(update={"allowed_origins": [origin]})
    return replace(settings, clinic=clinic, host="127.0.0.1", port=port)


def serve_in_thread(
    app: Any, port: int, name: str, deadline_s: float = 20, forwarded_allow_ips: str = "127.0.0.1"
) -> tuple[uvicorn.Server, threading.Thread]:
    """Runs the ASGI ``app`` with uvicorn on 127.0.0.1:``port`` in a thread; returns once
    it accepts connections. Like ``python -m clinic.web``, X-Forwarded-* headers are
    trusted from ``forwarded_allow_ips`` only."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws="none",  # no websockets; the websockets that Rasa pins is too old for uvicorn's
        log_level="warning",
        lifespan="on",
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"{name}-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + deadline_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the {name} did not start on port {port}")
        time.sleep(0.05)
    return server, thread


def stop_server_thread(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=15)


def start_web_app(
    settings: WebSettings, deadline_s: float = 20, forwarded_allow_ips: str = "127.0.0.1"
) -> WebApp:
    """Starts ``create_app(settings)`` with uvicorn on a free port of 127.0.0.1."""
    port = free_port()
    settings = web_settings(settings, port)
    server, thread = serve_in_thread(
        create_app(settings), port, "web app", deadline_s, forwarded_allow_ips
    )
    return WebApp(url=f"http://127.0.0.1:{port}", settings=settings, server=server, thread=thread)


def stop_web_app(app: WebApp) -> None:
    stop_server_thread(app.server, app.thread)


def launch_chromium(playwright: Any) -> Any:
    """Debian's headless Chromium through Playwright."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
