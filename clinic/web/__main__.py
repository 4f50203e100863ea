"""``python -m clinic.web``: runs the web app with uvicorn on ``HOST``:``PORT``."""

from __future__ import annotations

import logging
import sys

import uvicorn

from clinic.settings import ClinicSettingsError

from .app import create_app
from .settings import WebSettingsError, load_settings
from .texts import TextsError


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s - %(message)s")
    try:
        settings = load_settings()
        app = create_app(settings)
    except (ClinicSettingsError, WebSettingsError, TextsError) as exc:
        sys.exit(f"the web app cannot start: {exc}")
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        ws="none",  # no websockets; the websockets that Rasa pins is too old for uvicorn's
        proxy_headers=True,  # client address and scheme from a reverse proxy on 127.0.0.1 only
        forwarded_allow_ips="127.0.0.1",
        server_header=False,
        log_level="info",
    )


if __name__ == "__main__":
    main()
