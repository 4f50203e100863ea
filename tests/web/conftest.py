"""Fixtures of the web app's tests: settings, a stand-in for Rasa, the running stack, a browser."""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

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


# --- the staff console ------------------------------------------------------------

STAFF_PASSWORD = "correct horse battery staple"
ADMIN_PASSWORD = "admin password of the clinic"


@dataclass
class RealConversations:
    """Conversations run through the real Rasa server; their tracker and app databases."""

    tracker_db: Path
    app_db: Path
    red_flag: str
    unsure: str
    plain: str
    booking: str
    senders_in_order: List[str]


def _run(assistant: Assistant, sender: str, texts: List[str]) -> None:
    for text in texts:
        assistant.replies(sender, text)


def booking_messages(when: str) -> List[str]:
    """A whole booking by Nora Quill at ``when`` (one request per slot: give each test its
    own), confirmed at the summary."""
    return [
        "i'd like to book an appointment",
        "Nora Quill",
        "(202) 555-0177",
        "nora.quill@example.org",
        when,
        "stiff neck from working at a desk",
        "no",
        "no",
        "yes",
        "no",
        "yes",
    ]


@pytest.fixture(scope="session")
def real_conversations(assistant: Assistant) -> RealConversations:
    """Four conversations through Rasa: a red flag, one it cannot understand, two plain
    questions, and a whole booking (saved by the action server)."""
    tag = uuid.uuid4().hex[:8]
    plain, red, unsure, booking = (f"staff-{k}-{tag}" for k in ("plain", "red", "unsure", "book"))
    _run(assistant, plain, ["is dry needling safe?", "will i be sore afterwards?"])
    _run(assistant, red, ["hello", "i have crushing chest pain spreading to my left arm"])
    _run(assistant, unsure, ["blorp fizzle wug zonk", "qqqq wwww"])
    _run(assistant, booking, booking_messages("next thursday at 11am"))  # no other test's slot
    return RealConversations(
        tracker_db=assistant.tracker_db,
        app_db=assistant.app_db,
        red_flag=red,
        unsure=unsure,
        plain=plain,
        booking=booking,
        senders_in_order=[plain, red, unsure, booking],
    )


def copy_sqlite(source: Path, target: Path) -> Path:
    """A consistent copy of a SQLite database another process may be writing."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


@pytest.fixture
def console_dbs(real_conversations: RealConversations, tmp_path: Path) -> Tuple[Path, Path]:
    """Copies of the real tracker store and app database (with one admin, one staff)."""
    tracker = copy_sqlite(real_conversations.tracker_db, tmp_path / "tracker.db")
    app_db = copy_sqlite(real_conversations.app_db, tmp_path / "clinic.db")
    add_staff_users(f"sqlite:///{app_db}")
    return tracker, app_db


def add_staff_users(url: str) -> None:
    from clinic.console.accounts import create_user
    from clinic.db.engine import make_engine, make_session_factory
    from clinic.db.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    create_user(sessions, "admin", "admin", ADMIN_PASSWORD)
    create_user(sessions, "sam", "staff", STAFF_PASSWORD)
    engine.dispose()
