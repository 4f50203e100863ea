"""The widget in headless Chromium, with the chat gateway's answers faked per test
(Playwright's page.route) or Rasa down: rendering, safety, focus, sizes, motion."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List

import pytest
from playwright.sync_api import expect

from clinic.settings import ClinicProfile

from ..web_server import WebApp
from .conftest import DialogWatch
from .widget import (
    ACKNOWLEDGE,
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

pytestmark = pytest.mark.browser

HOSTILE_BOT_TEXT = (
    "**Bold words** then <img src=x onerror=alert(1)> and <script>alert(2)</script>, "
    "[click me](javascript:alert(3)), [data](data:text/html,<b>x</b>) and "
    "[our privacy page](https://example.org/privacy)."
)


def answer_with(page: Any, messages: List[Dict[str, Any]], status: int = 200) -> List[Any]:
    """Answers every POST /api/chat with ``messages``; returns the requests' bodies."""
    bodies: List[Any] = []

    def handle(route: Any) -> None:
        bodies.append(json.loads(route.request.post_data or "{}"))
        route.fulfill(status=status, json={"messages": messages})

    page.route("**/api/chat", handle)
    return bodies


def bot(text: str, buttons: List[Dict[str, str]] | None = None, urgent: bool = False):
    return {"text": text, "buttons": buttons or [], "urgent": urgent}


def test_the_notice_comes_first_and_is_acknowledged_before_chatting(
    page: Any, offline_web: WebApp, clinic: ClinicProfile
):
    page.goto(offline_web.url)
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    launcher(page).click()
    notice = page.get_by_role("note")
    expect(notice).to_contain_text("not a diagnosis")
    expect(notice).to_contain_text(f"call {clinic.emergency_number}")
    expect(notice.get_by_role("link")).to_have_attribute("href", f"{offline_web.url}/privacy")
    acknowledge = page.get_by_role("button", name=ACKNOWLEDGE)
    expect(acknowledge).to_be_focused()
    expect(textbox(page)).to_be_disabled()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    acknowledge.click()
    expect(notice).to_be_hidden()
    expect(textbox(page)).to_be_enabled()
    expect(textbox(page)).to_be_focused()
    expect(chat_log(page)).to_have_attribute("aria-live", "polite")
    page.reload()  # still open, and acknowledged once per browser session
    expect(textbox(page)).to_be_enabled()
    expect(page.get_by_role("note")).to_be_hidden()
    textbox(page).press("Escape")
    launcher(page).click()
    expect(textbox(page)).to_be_focused()


def test_bot_text_shows_bold_and_https_links_only_and_runs_nothing(
    page: Any, offline_web: WebApp, dialogs: DialogWatch
):
    answer_with(page, [bot(HOSTILE_BOT_TEXT)])
    open_chat(page, offline_web.url)
    send(page, "hello")
    wait_for_bot_messages(page, 1)
    message = bot_messages(page).first
    expect(message.locator("strong")).to_have_text("Bold words")
    links = message.get_by_role("link")
    expect(links).to_have_count(1)
    expect(links).to_have_text("our privacy page")
    expect(links).to_have_attribute("href", "https://example.org/privacy")
    expect(links).to_have_attribute("rel", "noopener noreferrer")
    expect(message).to_contain_text("<img src=x onerror=alert(1)>")
    expect(message).to_contain_text("[click me](javascript:alert(3))")
    page.wait_for_timeout(500)  # time for an onerror or a script to fire, if one existed
    assert page.locator("img").count() == 0
    assert page.locator(".cw-root script").count() == 0
    assert dialogs.messages == []


def test_an_urgent_message_is_an_alert_and_looks_different(page: Any, offline_web: WebApp):
    answer_with(page, [bot("Call 911 **now**.", urgent=True), bot("An ordinary answer.")])
    open_chat(page, offline_web.url)
    send(page, "crushing chest pain")
    alert = page.get_by_role("alert").filter(has_text="Call 911")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Urgent")
    urgent_style = alert.locator(".cw-bubble").evaluate("e => getComputedStyle(e).borderLeftColor")
    plain = bot_messages(page).nth(1).locator(".cw-bubble")
    plain_style = plain.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert urgent_style != plain_style
    expect(bot_messages(page).nth(1)).not_to_have_attribute("role", "alert")


def test_a_quick_reply_sends_its_payload_and_shows_its_title(page: Any, offline_web: WebApp):
    buttons = [{"title": "Will I be sore?", "payload": "/ask_soreness"}]
    bodies = answer_with(page, [bot("Generally safe.", buttons)])
    open_chat(page, offline_web.url)
    send(page, "is dry needling safe?")
    replies = page.get_by_role("group", name="Suggested replies")
    replies.get_by_role("button", name="Will I be sore?").click()
    wait_for_bot_messages(page, 2)
    assert bodies == [{"message": "is dry needling safe?"}, {"message": "/ask_soreness"}]
    expect(user_messages(page)).to_have_text(["is dry needling safe?", "Will I be sore?"])
    expect(page.get_by_role("group", name="Suggested replies")).to_have_count(1)  # the new ones
    expect(textbox(page)).to_be_focused()


def test_the_typing_indicator_shows_while_the_answer_is_on_its_way(page: Any, offline_web: WebApp):
    pending: List[Any] = []
    page.route("**/api/chat", lambda route: pending.append(route))  # answered below
    open_chat(page, offline_web.url)
    send(page, "hello")
    typing = page.get_by_role("status").filter(has_text="typing")
    expect(typing).to_be_visible()
    expect(page.locator(".cw-typing .cw-dots")).to_be_visible()
    pending[0].fulfill(status=200, json={"messages": [bot("Hi!")]})
    wait_for_bot_messages(page, 1)
    expect(page.locator(".cw-typing")).to_be_hidden()


def test_with_rasa_down_the_visitor_gets_the_apology_with_the_phone_number(
    page: Any, offline_web: WebApp, clinic: ClinicProfile
):
    open_chat(page, offline_web.url)
    send(page, "is dry needling safe?")
    wait_for_bot_messages(page, 1)
    expect(bot_messages(page).first).to_contain_text(clinic.phone)


def test_with_the_web_app_unreachable_the_widget_gives_the_apology_with_the_phone_number(
    page: Any, offline_web: WebApp, clinic: ClinicProfile
):
    """The web app down (killed, restarting under make run): the request never gets an
    answer, and the widget says the apology it loaded with its texts."""
    open_chat(page, offline_web.url)
    page.route("**/api/chat", lambda route: route.abort("connectionrefused"))
    send(page, "is dry needling safe?")
    wait_for_bot_messages(page, 1)
    expect(bot_messages(page).first).to_contain_text(clinic.phone)


def test_a_refused_message_is_given_back_with_the_reason(page: Any, offline_web: WebApp):
    slow_down = "You're sending messages faster than I can answer. Please wait 12 seconds."
    page.route(
        "**/api/chat",
        lambda route: route.fulfill(
            status=429, json={"error": slow_down}, headers={"Retry-After": "12"}
        ),
    )
    open_chat(page, offline_web.url)
    send(page, "one more question")
    expect(page.get_by_role("alert")).to_have_text(slow_down)
    expect(textbox(page)).to_have_value("one more question")
    expect(user_messages(page)).to_have_count(0)


def test_a_message_over_2000_characters_is_stopped_in_the_browser(page: Any, offline_web: WebApp):
    bodies = answer_with(page, [bot("Hi")])
    open_chat(page, offline_web.url)
    send(page, "x" * 2001)
    expect(page.get_by_role("alert")).to_contain_text("under 2,000 characters")
    assert len(textbox(page).input_value()) == 2001
    assert bodies == []


def test_escape_closes_the_chat_and_focus_returns_to_the_launcher(page: Any, offline_web: WebApp):
    page.goto(offline_web.url)
    launcher(page).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=ACKNOWLEDGE)).to_be_focused()
    page.keyboard.press("Enter")
    expect(textbox(page)).to_be_focused()
    page.keyboard.press("Escape")
    expect(chat_log(page)).to_be_hidden()
    expect(launcher(page)).to_be_focused()
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(textbox(page)).to_be_focused()
    page.get_by_role("button", name="Close").click()
    expect(launcher(page)).to_be_focused()


def test_keyboard_focus_is_visible(page: Any, offline_web: WebApp):
    open_chat(page, offline_web.url)
    page.keyboard.press("Tab")  # from the textbox to Send
    send_button = page.get_by_role("button", name="Send", exact=True)
    expect(send_button).to_be_focused()
    style = send_button.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert style[0] == "solid" and float(style[1].rstrip("px")) >= 2


def test_motion_stops_when_the_visitor_prefers_reduced_motion(chromium: Any, offline_web):
    for preference, expected in (("no-preference", "cw-rise"), ("reduce", "none")):
        context = chromium.new_context(reduced_motion=preference)
        try:
            page = context.new_page()
            page.goto(offline_web.url)
            launcher(page).click()
            panel = page.get_by_role("dialog")
            assert panel.evaluate("e => getComputedStyle(e).animationName") == expected
        finally:
            context.close()


def test_at_phone_width_the_open_chat_fills_the_screen_without_sideways_scrolling(
    phone_page: Any, offline_web: WebApp
):
    page = phone_page
    page.goto(offline_web.url)
    box = launcher(page).bounding_box()
    assert box and box["x"] + box["width"] <= 375 and box["y"] + box["height"] <= 740
    open_chat(page, offline_web.url)
    send(page, "hello")
    wait_for_bot_messages(page, 1)
    panel = page.get_by_role("dialog").bounding_box()
    assert panel == {"x": 0, "y": 0, "width": 375, "height": 740}
    for control in (textbox(page), page.get_by_role("button", name="Send", exact=True)):
        expect(control).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_axe_finds_no_wcag_21_aa_violations_before_chatting(page: Any, offline_web: WebApp):
    page.goto(offline_web.url)
    expect(launcher(page)).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    launcher(page).click()  # the notice
    expect(page.get_by_role("note")).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], describe(violations)


def test_the_privacy_page_has_the_widget_too_and_passes_axe(page: Any, offline_web: WebApp):
    page.goto(f"{offline_web.url}/privacy")
    expect(launcher(page)).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], describe(violations)


def test_nothing_is_requested_from_another_address(page: Any, offline_web: WebApp):
    requested: List[str] = []
    page.on("request", lambda request: requested.append(request.url))
    open_chat(page, offline_web.url)
    send(page, "hello")
    wait_for_bot_messages(page, 1)
    others = [url for url in requested if not re.match(re.escape(offline_web.url) + "/", url)]
    assert others == []
