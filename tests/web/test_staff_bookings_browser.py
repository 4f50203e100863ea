"""The bookings search page in Debian's headless Chromium on 320 seeded requests: log in,
search by name, page to older requests and back, a bad date shows a message; axe-core
finds no WCAG 2.1 AA violation on any of those states."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from playwright.sync_api import expect

from clinic.db.engine import make_engine, make_session_factory

from ..booking_rows import seed
from ..web_server import WebApp, start_web_app, stop_web_app
from .conftest import STAFF_PASSWORD, add_staff_users
from .widget import assert_accessible

pytestmark = [pytest.mark.browser]


@pytest.fixture
def bookings_web(make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[WebApp]:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    add_staff_users(url)
    engine = make_engine(url)
    seed(make_session_factory(engine))
    engine.dispose()
    app = start_web_app(make_settings(database_url=url))
    try:
        yield app
    finally:
        stop_web_app(app)


def test_search_and_page_through_bookings_accessibly(page: Any, bookings_web: WebApp):
    page.goto(bookings_web.url + "/staff/bookings")
    page.get_by_label("Name").fill("sam")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Booking requests")).to_be_visible()
    assert_accessible(page, "bookings")

    page.get_by_label("Name, phone, e-mail or reference").fill("nora")
    page.get_by_label("Kind").select_option("booking")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(0)  # every Nora is a call-back in the seed
    page.get_by_label("Kind").select_option("")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("Nora Quill")
    assert_accessible(page, "bookings-search")

    newest = rows.first.locator(".ref").inner_text()
    page.get_by_role("link", name="Older").click()
    expect(rows).to_have_count(30)  # 80 Noras: 50, then 30
    expect(page.get_by_label("Name, phone, e-mail or reference")).to_have_value("nora")
    assert all("Nora Quill" in text for text in rows.all_inner_texts())
    assert_accessible(page, "bookings-older")
    page.get_by_role("link", name="Newer").click()
    expect(rows).to_have_count(50)
    expect(rows.first.locator(".ref")).to_have_text(newest)

    page.get_by_label("Received from").fill("2026-09-10")
    page.get_by_label("Received to").fill("2026-09-01")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("is after")
    expect(rows).to_have_count(0)
    assert_accessible(page, "bookings-bad-filter")
