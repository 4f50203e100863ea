"""The web app's settings (environment) and texts (messages.yml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinic.settings import ClinicProfile
from clinic.web.rasa_client import messages_from_rest_output
from clinic.web.ratelimit import SlidingWindowLimiter
from clinic.web.settings import WEB_ROOT, RateLimit, WebSettingsError, load_settings
from clinic.web.texts import GATEWAY_KEYS, TextsError, load_texts


def test_host_port_and_rasa_url_come_from_the_environment():
    settings = load_settings(
        {"HOST": "0.0.0.0", "PORT": "8080", "RASA_URL": "http://10.0.0.5:5005/"}
    )
    assert (settings.host, settings.port, settings.rasa_url) == (
        "0.0.0.0",
        8080,
        "http://10.0.0.5:5005",
    )


def test_the_defaults_are_loopback_8000_and_the_local_rasa():
    settings = load_settings({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.tracker_store_url == "sqlite:///var/tracker.db"


@pytest.mark.parametrize("name,value", [("PORT", "eighty"), ("PORT", "0"), ("RASA_TIMEOUT", "x")])
def test_a_wrong_number_is_reported_with_its_variable(name: str, value: str):
    with pytest.raises(WebSettingsError, match=name):
        load_settings({name: value})


def test_the_chat_rate_limits_come_from_the_environment():
    settings = load_settings({"CHAT_SESSION_LIMIT": "40/60", "CHAT_ADDRESS_LIMIT": " 1000/2.5 "})
    assert settings.session_limit == RateLimit(limit=40, window_s=60.0)
    assert settings.address_limit == RateLimit(limit=1000, window_s=2.5)


def test_without_the_variables_the_chat_rate_limits_are_20_per_session_and_60_per_address():
    for env in ({}, {"CHAT_SESSION_LIMIT": "", "CHAT_ADDRESS_LIMIT": "  "}):
        settings = load_settings(env)
        assert settings.session_limit == RateLimit(limit=20, window_s=30.0)
        assert settings.address_limit == RateLimit(limit=60, window_s=30.0)


@pytest.mark.parametrize(
    "name,value,problem",
    [
        ("CHAT_SESSION_LIMIT", "20", "is not MESSAGES/SECONDS"),
        ("CHAT_SESSION_LIMIT", "twenty/30", "is not MESSAGES/SECONDS"),
        ("CHAT_SESSION_LIMIT", "20/30/5", "is not MESSAGES/SECONDS"),
        ("CHAT_ADDRESS_LIMIT", "60/", "is not MESSAGES/SECONDS"),
        ("CHAT_ADDRESS_LIMIT", "0/30", "must be greater than 0"),
        ("CHAT_ADDRESS_LIMIT", "60/-1", "must be greater than 0"),
        ("CHAT_ADDRESS_LIMIT", "60/inf", "must be greater than 0"),
    ],
)
def test_a_wrong_rate_limit_is_reported_with_its_variable(name: str, value: str, problem: str):
    with pytest.raises(WebSettingsError, match=f"^{name}=.*{problem}"):
        load_settings({name: value})


def test_every_gateway_text_names_the_clinic_facts_from_clinic_yml(clinic: ClinicProfile):
    texts = load_texts(WEB_ROOT / "messages.yml", clinic)
    assert set(texts.gateway) == set(GATEWAY_KEYS)
    apology = texts.say("apology")
    assert clinic.phone in apology and clinic.name in apology
    assert "{" not in "".join(texts.widget.values())
    assert clinic.emergency_number in texts.widget["notice"]


def test_a_text_with_an_unknown_placeholder_is_refused_at_start_up(
    clinic: ClinicProfile, tmp_path: Path
):
    broken = (WEB_ROOT / "messages.yml").read_text().replace("{clinic_phone}", "{clinic_fone}")
    path = tmp_path / "messages.yml"
    path.write_text(broken)
    with pytest.raises(TextsError, match=r"gateway.apology.*clinic_fone"):
        load_texts(path, clinic)


def test_a_missing_text_is_refused_at_start_up(clinic: ClinicProfile, tmp_path: Path):
    path = tmp_path / "messages.yml"
    path.write_text("gateway:\n  apology: Sorry\nwidget: {}\n")
    with pytest.raises(TextsError, match="gateway: missing"):
        load_texts(path, clinic)


def test_the_limiter_allows_again_once_the_window_has_passed():
    now = [0.0]
    limiter = SlidingWindowLimiter(RateLimit(limit=2, window_s=30.0), clock=lambda: now[0])
    for _ in range(2):
        assert limiter.retry_after("a") == 0
        limiter.record("a")
    assert limiter.retry_after("a") == 30
    assert limiter.retry_after("b") == 0  # keys are apart
    now[0] = 29.2
    assert limiter.retry_after("a") == 1
    now[0] = 30.01
    assert limiter.retry_after("a") == 0


def test_the_limiter_forgets_idle_keys_when_full():
    now = [0.0]
    limiter = SlidingWindowLimiter(RateLimit(1, 10.0), clock=lambda: now[0], max_keys=3)
    for key in "abc":
        limiter.record(key)
    now[0] = 11.0
    limiter.record("d")
    assert limiter.retry_after("d") == 1 * 10 and limiter.retry_after("a") == 0


def test_rest_output_keeps_text_and_buttons_and_drops_what_cannot_be_shown():
    output = [
        {"text": "Hi", "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": 3}]},
        {"image": "https://example.org/x.png"},
        {"custom": {"urgent": True}},
        "nonsense",
        {"text": "   "},
    ]
    assert messages_from_rest_output(output) == [
        {"text": "Hi", "buttons": [{"title": "Yes", "payload": "/affirm"}], "urgent": True}
    ]
    assert messages_from_rest_output({"not": "a list"}) == []


def test_rest_output_gives_an_answer_its_source_line():
    title = "How Dry Needling Can Help Relieve Back Pain, Neck Pain, and Headaches"
    output = [
        {"text": "Neck pain often involves the upper trapezius."},
        {"custom": {"source": title}},
        {"text": "Ask me more.", "custom": {"source": "  "}},
        {"custom": {"source": 3}},
    ]
    assert messages_from_rest_output(output) == [
        {
            "text": "Neck pain often involves the upper trapezius.",
            "buttons": [],
            "urgent": False,
            "source": title,
        },
        {"text": "Ask me more.", "buttons": [], "urgent": False},
    ]
    assert messages_from_rest_output([{"custom": {"source": title}}]) == []


def test_health_asks_the_action_proxy_where_rasa_calls_it_from_action_endpoint_url():
    assert load_settings({}).action_proxy_url == "http://127.0.0.1:5056"
    env = {"ACTION_ENDPOINT_URL": "http://127.0.0.1:6056/webhook"}
    assert load_settings(env).action_proxy_url == "http://127.0.0.1:6056"


def test_an_action_endpoint_url_that_is_not_http_is_reported_with_its_variable():
    with pytest.raises(WebSettingsError, match="ACTION_ENDPOINT_URL"):
        load_settings({"ACTION_ENDPOINT_URL": "127.0.0.1:5056/webhook"})
