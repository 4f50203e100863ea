"""Fixtures of the web app's tests: settings, a stand-in for Rasa, the running stack, a browser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from clinic.settings import ClinicProfile
from clinic.web.settings import RateLimit, WebSettings

from ..servers import Assistant, free_port
from ..web_server import CHROMIUM, WebApp, launch_chromium, start_web_app, stop_web_app

ORIGIN = "http://127.0.0.1:8000"  # in the shipped clinic.yml's allowed_origins


def closed_port_url() -> str:
    """An address where nothing listens: Rasa is down."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def make_settings(clinic: ClinicProfile, tmp_path: Path) -> Callable[..., WebSettings]:
    """WebSettings for a test: Rasa down and an empty tracker store unless changed."""

    def make(**changes: Any) -> WebSettings:
        values: Dict[str, Any] = {
            "clinic": clinic,
            "rasa_url": closed_port_url(),
            "tracker_store_url": f"sqlite:///{tmp_path / 'tracker.db'}",
            "rasa_timeout_s": 5.0,
            "session_limit": RateLimit(limit=20, window_s=30.0),
            "address_limit": RateLimit(limit=60, window_s=30.0),
        }
        values.update(changes)
        return WebSettings(**values)

    return make


# --- the browser -------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium, once per test run (`make browser-deps` installs it)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run `make browser-deps`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


class DialogWatch:
    """Records every JavaScript dialog (alert, confirm, prompt) a page opens."""

    def __init__(self) -> None:
        self.messages: List[str] = []

    def __call__(self, dialog: Any) -> None:
        self.messages.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def dialogs() -> DialogWatch:
    return DialogWatch()


def new_page(chromium: Any, dialogs: DialogWatch, **context_options: Any) -> Any:
    context = chromium.new_context(
        **{"viewport": {"width": 1280, "height": 800}, **context_options}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", dialogs)
    return page


@pytest.fixture
def page(chromium: Any, dialogs: DialogWatch) -> Iterator[Any]:
    """A fresh browser context (no cookies, no storage) at desktop size."""
    page = new_page(chromium, dialogs)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def phone_page(chromium: Any, dialogs: DialogWatch) -> Iterator[Any]:
    """A fresh browser context at phone size (375 x 740, touch)."""
    page = new_page(
        chromium,
        dialogs,
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        yield page
    finally:
        page.context.close()


# --- web apps ------------------------------------------------------------------


@pytest.fixture(scope="session")
def offline_web(
    clinic: ClinicProfile, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebApp]:
    """The web app with Rasa down: for tests that answer in Rasa's place (page.route)."""
    tmp = tmp_path_factory.mktemp("offline-web")
    settings = WebSettings(
        clinic=clinic,
        rasa_url=closed_port_url(),
        tracker_store_url=f"sqlite:///{tmp / 'tracker.db'}",
        rasa_timeout_s=5.0,
    )
    app = start_web_app(settings)
    try:
        yield app
    finally:
        stop_web_app(app)


@pytest.fixture(scope="session")
def live_web(clinic: ClinicProfile, assistant: Assistant) -> Iterator[WebApp]:
    """The web app in front of the real Rasa server and action server."""
    settings = WebSettings(
        clinic=clinic,
        rasa_url=assistant.rasa_url,
        tracker_store_url=f"sqlite:///{assistant.tracker_db}",
    )
    app = start_web_app(settings)
    try:
        yield app
    finally:
        stop_web_app(app)
