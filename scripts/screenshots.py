"""Screenshots of the chat widget with a short conversation, for the README.

    .venv/bin/python scripts/screenshots.py            # starts the whole stack itself
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000   # a running `make run`

Writes docs/widget-desktop.png (1280 x 800) and docs/widget-phone.png (375 x 740),
taken with Debian's headless Chromium (`make browser-deps`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from clinic.settings import load_clinic  # noqa: E402
from clinic.web.settings import WebSettings  # noqa: E402
from tests.servers import start_assistant, stop_assistant  # noqa: E402
from tests.web_server import launch_chromium, start_web_app, stop_web_app  # noqa: E402

SIZES = {"desktop": (1280, 800), "phone": (375, 740)}
CONVERSATION = ("is dry needling safe?", "Will I be sore?")  # a question, then a quick reply


def start_stack(stack: ExitStack) -> str:
    """Rasa server, action server and web app on free ports; returns the page's URL."""
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="screenshots-")))
    print("starting the Rasa server and the action server ...", flush=True)
    assistant = start_assistant(workdir)
    stack.callback(stop_assistant, assistant)
    settings = WebSettings(
        clinic=load_clinic(),
        rasa_url=assistant.rasa_url,
        tracker_store_url=f"sqlite:///{assistant.tracker_db}",
    )
    web = start_web_app(settings)
    stack.callback(stop_web_app, web)
    return web.url


def take(browser, url: str, name: str, out: Path) -> Path:
    width, height = SIZES[name]
    context = browser.new_context(
        viewport={"width": width, "height": height}, reduced_motion="reduce"
    )
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(url)
        page.get_by_role("button", name="Chat with us").click()
        page.get_by_role("button", name="I understand, start chatting").click()
        question, reply = CONVERSATION
        page.get_by_role("textbox", name="Your message").fill(question)
        page.get_by_role("button", name="Send", exact=True).click()
        page.get_by_role("button", name=reply).click()
        expect(page.locator(".cw-msg--bot")).to_have_count(2)
        expect(page.locator(".cw-typing")).to_be_hidden()
        page.mouse.move(0, 0)  # no hover style on the quick reply that was clicked
        page.get_by_role("textbox", name="Your message").focus()
        path = out / f"widget-{name}.png"
        page.screenshot(path=str(path))
        return path
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running web app (default: start the stack)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        url = args.url or start_stack(stack)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                for name in SIZES:
                    print(f"wrote {take(browser, url, name, args.out)}", flush=True)
            finally:
                browser.close()


if __name__ == "__main__":
    main()
