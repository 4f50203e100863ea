"""The widget in headless Chromium against the real stack: web app + Rasa server +
action server (started once per test run)."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
from playwright.sync_api import expect

from clinic.settings import ClinicProfile

from ..web_server import WebApp
from .conftest import DialogWatch
from .widget import (
    axe_violations,
    bot_messages,
    chat_log,
    describe,
    launcher,
    open_chat,
    send,
    textbox,
    user_messages,
    wait_for_bot_messages,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_a_visitor_asks_clicks_a_quick_reply_and_keeps_the_conversation_across_pages(
    page: Any, live_web: WebApp
):
    open_chat(page, live_web.url)
    send(page, "is dry needling safe?")
    wait_for_bot_messages(page, 1)
    expect(bot_messages(page).first).to_contain_text("sterile")
    replies = page.get_by_role("group", name="Suggested replies")
    replies.get_by_role("button", name="Will I be sore?").click()
    expect(bot_messages(page).last).to_contain_text("day or two", timeout=30_000)
    expect(user_messages(page)).to_have_text(["is dry needling safe?", "Will I be sore?"])
    transcript = chat_log(page).inner_text()

    cookie = next(c for c in page.context.cookies() if c["name"] == "clinic_chat")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["expires"] == -1  # a browser-session cookie

    page.reload()  # same session, transcript restored from Rasa's tracker store
    expect(user_messages(page)).to_have_text(["is dry needling safe?", "Will I be sore?"])
    expect(bot_messages(page)).to_have_count(2)
    assert chat_log(page).inner_text() == transcript
    # the last answer's quick replies are back, and still work
    expect(page.get_by_role("group", name="Suggested replies")).to_have_count(1)

    page.get_by_role("link", name="Privacy").first.click()  # navigation within the site
    expect(page).to_have_url(re.compile(r"/privacy$"))
    expect(user_messages(page)).to_have_text(["is dry needling safe?", "Will I be sore?"])
    same = next(c for c in page.context.cookies() if c["name"] == "clinic_chat")
    assert same["value"] == cookie["value"]


def test_a_red_flag_message_is_shown_as_an_urgent_alert(
    page: Any, live_web: WebApp, clinic: ClinicProfile
):
    open_chat(page, live_web.url)
    send(page, "I have crushing chest pain spreading to my left arm")
    alert = page.locator(".cw-msg[role=alert]")
    expect(alert.first).to_be_visible(timeout=30_000)
    expect(alert.first).to_contain_text(clinic.emergency_number)
    expect(alert.first).to_contain_text("Urgent")


def test_a_factual_answer_shows_its_source_article_below_it_also_after_a_reload(
    page: Any, live_web: WebApp
):
    open_chat(page, live_web.url)
    send(page, "who invented dry needling?")
    wait_for_bot_messages(page, 2)  # the answer, then the next step
    answer = bot_messages(page).first
    expect(answer).to_contain_text("Janet Travell")
    source = answer.locator(".cw-source")
    expect(source).to_have_text(
        "Source: Dry Needling: An Alternative Approach to Alleviating Back Pain"
    )
    expect(source).to_be_visible()
    send(page, "how many needles do you use?")  # not in the articles: no source line
    wait_for_bot_messages(page, 3)
    expect(bot_messages(page).last).to_contain_text("practitioner")
    expect(chat_log(page).locator(".cw-source")).to_have_count(1)

    page.reload()  # the source line comes back with the transcript
    expect(chat_log(page).locator(".cw-source")).to_have_count(1)
    expect(bot_messages(page).first.locator(".cw-source")).to_contain_text("Back Pain")


def test_user_text_with_html_or_a_javascript_link_runs_nothing(
    page: Any, live_web: WebApp, dialogs: DialogWatch
):
    hostile = ["<img src=x onerror=alert(1)>", "[click me](javascript:alert(1))"]
    open_chat(page, live_web.url)
    for count, text in enumerate(hostile, start=1):
        send(page, text)
        wait_for_bot_messages(page, count)
    expect(user_messages(page)).to_have_text(hostile)
    page.wait_for_timeout(500)  # time for an onerror to fire, if an image existed
    assert page.locator("img").count() == 0
    assert chat_log(page).locator("a[href^='javascript']").count() == 0
    assert user_messages(page).locator("a").count() == 0
    assert dialogs.messages == []
    page.reload()  # and nothing runs when the transcript comes back either
    expect(user_messages(page)).to_have_text(hostile)
    page.wait_for_timeout(300)
    assert page.locator("img").count() == 0
    assert dialogs.messages == []


def test_axe_finds_no_wcag_21_aa_violations_with_the_chat_open_and_a_conversation(
    page: Any, phone_page: Any, live_web: WebApp
):
    for current in (page, phone_page):
        open_chat(current, live_web.url)
        send(current, "hello")
        wait_for_bot_messages(current, 1)
        send(current, "is dry needling safe?")
        wait_for_bot_messages(current, 2)
        expect(current.get_by_role("group", name="Suggested replies")).to_be_visible()
        violations = axe_violations(current)
        assert violations == [], describe(violations)
    expect(launcher(page)).to_be_hidden()
    expect(textbox(page)).to_be_visible()


def answer_and_wait(page: Any, text: str) -> str:
    """Sends ``text`` and returns the text of the bot's newest message once it arrives."""
    before = bot_messages(page).count()
    send(page, text)
    page.wait_for_function(
        "n => document.querySelectorAll('.cw-msg--bot').length > n", arg=before, timeout=30_000
    )
    page.wait_for_timeout(300)  # the rest of a multi-message reply
    return bot_messages(page).last.inner_text()


def test_a_visitor_completes_a_short_booking_in_the_widget(
    page: Any, live_web: WebApp, assistant: Any
):
    open_chat(page, live_web.url)
    steps = [
        ("I'd like to book an appointment", "full name"),
        ("Ann Widget", "phone number"),
        ("202 555 0123", "email"),
        ("no", "When would you like to come in"),
        # a slot no other test books: each start takes max_bookings_per_slot requests
        ("next wednesday at 10am", "what would you like help with"),
        ("lower back pain", "been to"),
        ("no", "pregnant"),
        ("no", "blood thinners"),
        ("no", "afraid of needles"),
        ("no", "Here is your request"),
    ]
    for text, expected in steps:
        assert expected.lower() in answer_and_wait(page, text).lower()
    summary = bot_messages(page).last
    expect(summary).to_contain_text("Ann Widget")
    expect(summary).to_contain_text("+12025550123")
    done = answer_and_wait(page, "yes")
    reference = re.search(r"RC-[A-Z0-9]{6}", done)
    assert reference, done
    with sqlite3.connect(assistant.app_db) as db:
        rows = db.execute(
            "SELECT patient_name, phone, status FROM bookings WHERE reference = ?",
            (reference.group(0),),
        ).fetchall()
    assert rows == [("Ann Widget", "+12025550123", "requested")]
