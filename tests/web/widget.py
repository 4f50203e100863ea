"""Playwright steps the widget tests share: open the chat, send, read the log."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Dict, List

from playwright.sync_api import expect

LAUNCHER = re.compile("chat", re.IGNORECASE)
TEXTBOX = re.compile("message", re.IGNORECASE)
ACKNOWLEDGE = re.compile("I understand", re.IGNORECASE)
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def launcher(page: Any) -> Any:
    return page.get_by_role("button", name=LAUNCHER)


def textbox(page: Any) -> Any:
    return page.get_by_role("textbox", name=TEXTBOX)


def chat_log(page: Any) -> Any:
    return page.get_by_role("log")


def open_chat(page: Any, url: str, acknowledge: bool = True) -> Any:
    """Opens the page and the chat; acknowledges the notice; returns the textbox."""
    page.goto(url)
    launcher(page).click()
    if acknowledge:
        page.get_by_role("button", name=ACKNOWLEDGE).click()
        expect(textbox(page)).to_be_focused()
    return textbox(page)


def send(page: Any, text: str) -> None:
    box = textbox(page)
    box.fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def bot_messages(page: Any) -> Any:
    return page.locator(".cw-msg--bot")


def user_messages(page: Any) -> Any:
    return page.locator(".cw-msg--user .cw-bubble")


def wait_for_bot_messages(page: Any, count: int, timeout_ms: int = 30_000) -> None:
    expect(bot_messages(page)).to_have_count(count, timeout=timeout_ms)


def panel_settled(page: Any) -> None:
    """Waits until the chat panel's entry animation (a fade) is over."""
    page.wait_for_function(
        "() => { const p = document.querySelector('.cw-panel');"
        " return !p || p.getAnimations().length === 0; }"
    )


def axe_violations(page: Any) -> List[Dict[str, Any]]:
    """axe-core's WCAG 2.1 A + AA violations on the page as it is now (animations over)."""
    from axe_playwright_python.sync_playwright import Axe

    panel_settled(page)
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    return results.response["violations"]


def describe(violations: List[Dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"])
        for v in violations
    )


def assert_accessible(page: Any, name: str) -> None:
    """axe-core finds no violation on the page ``name``; with ``STAFF_SCREENSHOTS`` set (a
    folder), a screenshot of it is kept there."""
    violations = axe_violations(page)
    assert violations == [], f"{name}:\n{describe(violations)}"
    shots = os.environ.get("STAFF_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"staff-{name}.png"), full_page=True)
