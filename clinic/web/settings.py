"""The web app's settings, read once from the environment and clinic.yml.

``load_settings()`` is called once at start-up (``python -m clinic.web``); tests
build ``WebSettings`` directly. Nothing is read at import time.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from clinic.alerts.smtp import SmtpTarget, SmtpUrlError, parse_smtp_url
from clinic.settings import PROJECT_ROOT, ClinicProfile, load_clinic

WEB_ROOT = Path(__file__).resolve().parent
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
DEFAULT_TRACKER_STORE_URL = "sqlite:///var/tracker.db"
DEFAULT_DATABASE_URL = "sqlite:///var/clinic.db"
DEFAULT_ACTION_ENDPOINT_URL = "http://127.0.0.1:5056/webhook"


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` messages in any ``window_s`` seconds."""

    limit: int
    window_s: float


@dataclass(frozen=True)
class WebSettings:
    clinic: ClinicProfile
    host: str = "127.0.0.1"
    port: int = 8000
    rasa_url: str = DEFAULT_RASA_URL
    # the action proxy (ACTION_ENDPOINT_URL less /webhook): /health asks its /health
    action_proxy_url: str = "http://127.0.0.1:5056"
    # read-only: the gateway reads transcripts from Rasa's tracker store
    tracker_store_url: str = DEFAULT_TRACKER_STORE_URL
    rasa_timeout_s: float = 30.0
    max_message_chars: int = 2000
    # 2,000 characters fit even as JSON escapes (an emoji is "\ud83d\ude00": 12 bytes)
    max_body_bytes: int = 32_768
    session_limit: RateLimit = RateLimit(limit=20, window_s=30.0)
    address_limit: RateLimit = RateLimit(limit=60, window_s=30.0)
    cookie_name: str = "clinic_chat"
    messages_file: Path = WEB_ROOT / "messages.yml"
    project_root: Path = field(default=PROJECT_ROOT)
    # --- the staff console (/staff) ---
    # the app database (staff, reviews, bookings); None: the console answers 503
    database_url: str | None = None
    # keys the session-token hashes and CSRF tokens; a fresh random one per process unless set
    staff_secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    staff_cookie_name: str = "clinic_staff"
    staff_idle_timeout_s: float = 30 * 60
    login_max_failures: int = 5
    login_lock_s: float = 15 * 60
    # seconds between the web app's retention runs (python -m clinic purge); None: never
    retention_interval_s: float | None = None
    # --- staff alerts (clinic.alerts) ---
    # seconds between the alert sender's runs; None: no sender (tests turn it on)
    alert_interval_s: float | None = None
    smtp: SmtpTarget | None = None  # SMTP_URL; None: alerts stay queued
    # the console's address as staff open it, for the alerts' links; default http://HOST:PORT
    console_url: str | None = None

    @property
    def allowed_origins(self) -> list[str]:
        return [origin.rstrip("/") for origin in self.clinic.allowed_origins]


class WebSettingsError(ValueError):
    """An environment variable of the web app has a wrong value."""


def _number(environ: Mapping[str, str], name: str, default: float, kind: type) -> float:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError as exc:
        raise WebSettingsError(f"{name}={raw!r} is not a number") from exc
    if value <= 0:
        raise WebSettingsError(f"{name}={raw!r} must be greater than 0")
    return value


def _rate_limit(environ: Mapping[str, str], name: str, default: RateLimit) -> RateLimit:
    """``MESSAGES/SECONDS`` (``"20/30"``: at most 20 messages in any 30 seconds)."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    count, slash, seconds = raw.strip().partition("/")
    try:
        if not slash:
            raise ValueError
        limit, window_s = int(count), float(seconds)
    except ValueError as exc:
        raise WebSettingsError(
            f"{name}={raw!r} is not MESSAGES/SECONDS (e.g. {default.limit}/{default.window_s:g})"
        ) from exc
    if limit <= 0 or not 0 < window_s < float("inf"):
        raise WebSettingsError(f"{name}={raw!r}: messages and seconds must be greater than 0")
    return RateLimit(limit=limit, window_s=window_s)


def staff_secret_key(env: Mapping[str, str]) -> str:
    """``STAFF_SECRET_KEY``; required when ``CLINIC_ENV=production``, else a random
    per-process default (staff log in again after a restart)."""
    key = (env.get("STAFF_SECRET_KEY") or "").strip()
    if key:
        if len(key) < 32:
            raise WebSettingsError("STAFF_SECRET_KEY must be at least 32 characters")
        return key
    if (env.get("CLINIC_ENV") or "").strip().lower() == "production":
        raise WebSettingsError(
            "STAFF_SECRET_KEY is required when CLINIC_ENV=production "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return secrets.token_urlsafe(32)


def smtp_target(env: Mapping[str, str]) -> SmtpTarget | None:
    """``SMTP_URL`` checked (``clinic.alerts.smtp``); None when unset."""
    raw = (env.get("SMTP_URL") or "").strip()
    if not raw:
        return None
    try:
        return parse_smtp_url(raw)
    except SmtpUrlError as exc:
        raise WebSettingsError(str(exc)) from exc


def console_url(env: Mapping[str, str]) -> str | None:
    """``CONSOLE_URL``: http(s)://host[:port][/prefix], without a trailing slash."""
    raw = (env.get("CONSOLE_URL") or "").strip().rstrip("/")
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebSettingsError(f"CONSOLE_URL={raw!r} is not an http:// or https:// address")
    return raw


def action_proxy_url(env: Mapping[str, str]) -> str:
    """The action proxy's base address from ``ACTION_ENDPOINT_URL`` (Rasa's action
    endpoint, ``http://127.0.0.1:5056/webhook`` by default)."""
    raw = (env.get("ACTION_ENDPOINT_URL") or DEFAULT_ACTION_ENDPOINT_URL).strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebSettingsError(f"ACTION_ENDPOINT_URL={raw!r} is not an http:// or https:// address")
    return f"{parts.scheme}://{parts.netloc}"


def load_settings(environ: Mapping[str, str] | None = None) -> WebSettings:
    """Settings from ``HOST``, ``PORT``, ``RASA_URL``, ``RASA_TIMEOUT``,
    ``TRACKER_STORE_URL``, ``DATABASE_URL``, ``STAFF_SECRET_KEY``, ``CLINIC_ENV``,
    ``CHAT_SESSION_LIMIT``, ``CHAT_ADDRESS_LIMIT``, ``SMTP_URL``, ``CONSOLE_URL``,
    ``ALERT_INTERVAL``, ``ACTION_ENDPOINT_URL`` and clinic.yml (``CLINIC_FILE``)."""
    env = os.environ if environ is None else environ
    return WebSettings(
        smtp=smtp_target(env),
        console_url=console_url(env),
        alert_interval_s=_number(env, "ALERT_INTERVAL", 10.0, float),
        database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        staff_secret_key=staff_secret_key(env),
        retention_interval_s=24 * 3600.0,
        clinic=load_clinic(),
        host=env.get("HOST") or "127.0.0.1",
        port=int(_number(env, "PORT", 8000, int)),
        rasa_url=(env.get("RASA_URL") or DEFAULT_RASA_URL).rstrip("/"),
        action_proxy_url=action_proxy_url(env),
        tracker_store_url=env.get("TRACKER_STORE_URL") or DEFAULT_TRACKER_STORE_URL,
        rasa_timeout_s=_number(env, "RASA_TIMEOUT", 30.0, float),
        session_limit=_rate_limit(env, "CHAT_SESSION_LIMIT", WebSettings.session_limit),
        address_limit=_rate_limit(env, "CHAT_ADDRESS_LIMIT", WebSettings.address_limit),
    )
