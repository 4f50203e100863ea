"""The demo page, the privacy page and the widget's assets."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from typing import Dict, List, Tuple

from starlette.testclient import TestClient

from clinic.settings import PROJECT_ROOT, ClinicProfile
from clinic.web.app import create_app
from clinic.web.routes.pages import opening_hours
from clinic.web.settings import WEB_ROOT

from .conftest import ORIGIN


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: List[Tuple[str, Dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> List[Tuple[str, Dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def get(make_settings, path: str, **changes) -> str:
    with TestClient(create_app(make_settings(**changes)), base_url=ORIGIN) as client:
        response = client.get(path)
    assert response.status_code == 200
    return response.text


def test_the_demo_page_shows_the_clinic_of_clinic_yml(make_settings, clinic: ClinicProfile):
    html = get(make_settings, "/")
    for fact in (clinic.name, clinic.phone, clinic.email, clinic.address, clinic.parking):
        assert fact in html
    for day, span in opening_hours(clinic):
        assert f'<th scope="row">{day}</th><td>{span}</td>' in html


def test_no_clinic_fact_is_hard_coded_in_the_pages(make_settings, clinic: ClinicProfile):
    other = clinic.copy(
        update={
            "name": "Harbour Physio",
            "phone": "+44 20 7946 0000",
            "email": "desk@harbour.example",
            "address": "1 Quay Street",
            "emergency_number": "999",
        }
    )
    for path in ("/", "/privacy"):
        html = get(make_settings, path, clinic=other)
        assert "Harbour Physio" in html
        for fact in (clinic.name, clinic.phone, clinic.email, clinic.address):
            assert fact not in html, f"{fact!r} is hard-coded in {path}"
    with TestClient(create_app(make_settings(clinic=other)), base_url=ORIGIN) as client:
        texts = client.get("/api/chat/config").json()["texts"]
    assert "999" in texts["notice"] and "+44 20 7946 0000" in texts["apology"]


def test_the_pages_embed_the_widget_with_one_script_tag_and_load_nothing_from_elsewhere(
    make_settings,
):
    for path in ("/", "/privacy"):
        html = get(make_settings, path)
        scripts = [attrs for tag, attrs in tags(html) if tag == "script"]
        assert scripts == [{"src": "/widget.js", "defer": None}]
        linked = [attrs.get("href") or attrs.get("src") or "" for _, attrs in tags(html)]
        assert not [url for url in linked if url.startswith(("http:", "https:", "//"))]


def test_the_privacy_page_says_what_is_stored_and_how_to_ask(make_settings, clinic):
    html = get(make_settings, "/privacy")
    assert "cookie" in html and clinic.email in html
    assert "see everything we store" in html and "deleted" in html
    assert f'href="mailto:{clinic.email}"' in html and clinic.phone in html
    assert f"{clinic.retention_days} days" in html
    assert clinic.emergency_number in html


def test_the_widget_config_gives_the_notice_with_the_emergency_number_and_privacy_link(
    make_settings, clinic: ClinicProfile
):
    with TestClient(create_app(make_settings()), base_url=ORIGIN) as client:
        config = client.get("/api/chat/config").json()
    assert f"call {clinic.emergency_number}" in config["texts"]["notice"]
    assert "not a diagnosis" in config["texts"]["notice"]
    assert config["privacy_url"] == "/privacy"
    assert config["max_chars"] == 2000
    assert "chat" in config["texts"]["launcher"].lower()
    assert "message" in config["texts"]["input_label"].lower()
    assert config["texts"]["send"] == "Send"


def test_widget_assets_are_served_as_script_and_style_sheet(make_settings):
    with TestClient(create_app(make_settings()), base_url=ORIGIN) as client:
        script = client.get("/widget.js")
        style = client.get("/widget.css")
        page = client.get("/")
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    assert script.headers["cache-control"] == "no-cache"
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp


def test_the_widget_never_turns_strings_into_html_and_calls_no_one_else():
    source = (WEB_ROOT / "static" / "widget.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source, f"widget.js uses {sink}"
    assert "new Function" not in source
    # its only absolute URLs are the regex for http(s) links
    assert re.findall(r"https?://[\w.-]+", source) == []
    style = (WEB_ROOT / "static" / "widget.css").read_text(encoding="utf-8")
    assert "url(" not in style and "@import" not in style
    assert "prefers-reduced-motion" in style and "max-width: 480px" in style


def test_importing_the_web_app_reads_nothing(tmp_path):
    code = "import clinic.web.app, clinic.web.__main__, clinic.web.routes.chat"
    env = {"CLINIC_FILE": str(tmp_path / "missing.yml"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
