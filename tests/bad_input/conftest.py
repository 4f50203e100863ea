"""The web app in front of the shared real Rasa server, with room for the whole corpus."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from clinic.settings import ClinicProfile
from clinic.web.settings import RateLimit, WebSettings

from ..servers import Assistant
from ..web_server import WebApp, start_web_app, stop_web_app

# the corpus comes from one address in a few sessions: far above the shipped limits
CORPUS_LIMIT = RateLimit(limit=100_000, window_s=30.0)


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps its caches under .pytest_cache/ (ignored by git), not .hypothesis/."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(Path(config.rootpath) / ".pytest_cache" / "hypothesis")


def live_settings(clinic: ClinicProfile, assistant: Assistant) -> WebSettings:
    return WebSettings(
        clinic=clinic,
        rasa_url=assistant.rasa_url,
        tracker_store_url=f"sqlite:///{assistant.tracker_db}",
    )


@pytest.fixture(scope="module")
def corpus_web(clinic: ClinicProfile, assistant: Assistant) -> Iterator[WebApp]:
    """The gateway before the real Rasa, its rate limits raised for the corpus run."""
    settings = replace(
        live_settings(clinic, assistant), session_limit=CORPUS_LIMIT, address_limit=CORPUS_LIMIT
    )
    app = start_web_app(settings)
    try:
        yield app
    finally:
        stop_web_app(app)


@pytest.fixture(scope="module")
def shipped_limits_web(clinic: ClinicProfile, assistant: Assistant) -> Iterator[WebApp]:
    """The gateway before the real Rasa with the shipped rate limits."""
    app = start_web_app(live_settings(clinic, assistant))
    try:
        yield app
    finally:
        stop_web_app(app)
