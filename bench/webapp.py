"""Runs the web app (``clinic.web.create_app``) for the bench: ``python -m bench.webapp``.

The same app as ``python -m clinic.web``, with two differences a load test needs:
its own address is the allowed origin, and the per-address rate limit is lifted
(all the bench's simulated visitors come from 127.0.0.1, which the real limit of
60 messages per 30 s would turn away). Everything else (origin check, cookie,
size limits, the httpx client to Rasa) is what visitors get.
"""

from __future__ import annotations

from dataclasses import replace

import uvicorn

from clinic.web.settings import RateLimit, load_settings
from tests.web_server import web_settings

UNLIMITED = RateLimit(limit=1_000_000, window_s=1.0)


def main() -> None:
    settings = load_settings()
    settings = replace(
        web_settings(settings, settings.port), session_limit=UNLIMITED, address_limit=UNLIMITED
    )
    from clinic.web.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="none",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
