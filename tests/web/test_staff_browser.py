"""The staff console in Debian's headless Chromium, on real conversations: log in, filter,
open a transcript, tag, mark reviewed, export a story, change a booking status, log out;
axe-core finds no WCAG 2.1 AA violation on any page."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator, Tuple

import pytest
import yaml
from playwright.sync_api import expect

from ..web_server import WebApp, start_web_app, stop_web_app
from .conftest import ADMIN_PASSWORD, RealConversations
from .widget import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def console_web(
    make_settings: Callable[..., Any], console_dbs: Tuple[Path, Path]
) -> Iterator[WebApp]:
    tracker, app_db = console_dbs
    settings = make_settings(
        tracker_store_url=f"sqlite:///{tracker}", database_url=f"sqlite:///{app_db}"
    )
    app = start_web_app(settings)
    try:
        yield app
    finally:
        stop_web_app(app)


def test_a_shift_in_the_console(
    page: Any, console_web: WebApp, real_conversations: RealConversations
):
    page.goto(console_web.url + "/staff/bookings")
    expect(page).to_have_url(f"{console_web.url}/staff/login?next=%2Fstaff%2Fbookings")
    assert_accessible(page, "login")
    page.get_by_label("Name").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Booking requests")).to_be_visible()
    assert_accessible(page, "bookings")

    row = page.locator("tr", has_text="Nora Quill")
    row.get_by_role("button", name="Confirm").click()
    expect(page.locator("tr", has_text="Nora Quill").locator(".status")).to_have_text("Confirmed")

    page.get_by_role("link", name="Conversations").click()
    expect(page.locator("tbody tr").first).to_have_class("pinned")  # red flags first
    assert_accessible(page, "conversations")
    page.get_by_label("Red flag").check()
    page.get_by_role("button", name="Filter").click()
    # the shared Rasa server also holds other tests' red-flag conversations
    rows = page.locator("tbody tr")
    expect(rows.first).to_have_class("pinned")
    assert rows.count() == rows.filter(has=page.locator(".badge", has_text="Red flag")).count()
    assert_accessible(page, "conversations-filtered")

    page.locator(f"a[href$='/{real_conversations.red_flag}']").click()
    expect(page.get_by_text("crushing chest pain")).to_be_visible()
    assert_accessible(page, "transcript")
    page.get_by_label("Add a tag").fill("called back")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator(".tag-list")).to_contain_text("called back")
    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.get_by_text("Reviewed by admin")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export as test story").click()
    story = yaml.safe_load(Path(download.value.path()).read_text())
    assert story["stories"][0]["steps"][0]["intent"] == "greet"

    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_text("qqqq wwww")).to_be_visible()
    assert_accessible(page, "inbox")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="mark_reviewed").first).to_be_visible()
    assert_accessible(page, "audit")
    page.get_by_role("link", name="Accounts").click()
    assert_accessible(page, "users")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Staff log in")).to_be_visible()
    page.goto(console_web.url + "/staff/conversations")
    expect(page.get_by_role("heading", name="Staff log in")).to_be_visible()
