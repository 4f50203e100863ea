"""``python -m clinic.web``: runs the web app with uvicorn on ``HOST``:``PORT``."""

from __future__ import annotations

import sys

import uvicorn

from clinic.db.engine import DatabaseLocationError, check_app_database
from clinic.logs import configure_logging
from clinic.settings import ClinicSettingsError

from .app import create_app
from .settings import WebSettingsError, load_settings
from .texts import TextsError


def main() -> None:
    configure_logging()  # logging.yml: JSON lines, no visitor data
    try:
        settings = load_settings()
        if settings.database_url is not None:  # staff console, migrated at start-up
            check_app_database(settings.database_url)
        app = create_app(settings)
    except (ClinicSettingsError, WebSettingsError, TextsError, DatabaseLocationError) as exc:
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
        log_config=None,  # uvicorn's records go through logging.yml too (access: no address)
    )


if __name__ == "__main__":
    main()
