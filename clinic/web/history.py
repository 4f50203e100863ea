"""Transcripts read from Rasa's tracker store, read-only.

Rasa's ``SQLTrackerStore`` keeps every event of a conversation in the table
``events`` (``sender_id``, ``type_name``, ``data`` as JSON). The gateway reads the
``user`` and ``bot`` events since the latest ``session_started``: the same
conversation Rasa itself continues. The connection is read-only (SQLite
``mode=ro``; PostgreSQL ``default_transaction_read_only``), so the web app can
never change what Rasa stored.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List, Set

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from .rasa_client import messages_from_rest_output
from .shapes import TranscriptMessage

_EVENTS = text(
    "SELECT type_name, data FROM events"
    " WHERE sender_id = :sender AND type_name IN ('user', 'bot', 'session_started')"
    " ORDER BY id"
)


_SURROGATE = re.compile("[\ud800-\udfff]")


class HistoryUnavailable(RuntimeError):
    """The tracker store could not be read."""


def read_only_url(url: str, project_root: Path) -> URL:
    """The tracker store URL opened read-only; relative SQLite paths from the project root."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return parsed
    path = Path(parsed.database or "")
    if not path.is_absolute():
        path = project_root / path
    # SQLite's URI form: the file must exist and is never written
    return parsed.set(database=f"file:{path}?mode=ro", query={"uri": "true"})


def make_read_only_engine(
    url: str, project_root: Path, *, connect_timeout_s: float | None = None
) -> Engine:
    ro_url = read_only_url(url, project_root)
    connect_args: Dict[str, Any] = {}
    if ro_url.get_backend_name() == "postgresql":
        connect_args["options"] = "-c default_transaction_read_only=on"
        if connect_timeout_s is not None:  # libpq's connect_timeout: whole seconds, at least 2
            connect_args["connect_timeout"] = max(2, int(connect_timeout_s))
    elif connect_timeout_s is not None and ro_url.get_backend_name() == "sqlite":
        connect_args["timeout"] = connect_timeout_s  # waiting on a writer's lock
    return create_engine(ro_url, future=True, pool_pre_ping=True, connect_args=connect_args)


def _data(raw: Any) -> Dict[str, Any]:
    try:
        data = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def transcript_from_events(rows: List[tuple]) -> List[TranscriptMessage]:
    """User and bot messages of the latest session; a clicked quick reply shows its title."""
    messages: List[TranscriptMessage] = []
    offered: Dict[str, str] = {}  # payload -> title of the buttons since the last user message
    for type_name, raw in rows:
        if type_name == "session_started":
            messages, offered = [], {}
            continue
        data = _data(raw)
        text_ = data.get("text")
        if type_name == "user" and isinstance(text_, str) and text_:
            # a lone surrogate (stored by an older gateway) would stop the JSON answer
            shown = _SURROGATE.sub("\ufffd", offered.get(text_, text_))
            messages.append({"sender": "user", "text": shown, "buttons": [], "urgent": False})
            offered = {}
        elif type_name == "bot":
            extra = data.get("data") if isinstance(data.get("data"), dict) else {}
            output = [
                {"text": text_, "buttons": extra.get("buttons"), "custom": extra.get("custom")}
            ]
            for message in messages_from_rest_output(output):
                messages.append({"sender": "bot", **message})
                offered.update({b["payload"]: b["title"] for b in message["buttons"]})
            custom = extra.get("custom")
            after_bot = bool(messages) and messages[-1]["sender"] == "bot"
            if not text_ and isinstance(custom, dict) and after_bot:
                # a custom-only message marks the text before it: urgent, or its source
                if custom.get("urgent") is True:
                    messages[-1]["urgent"] = True
                if isinstance(custom.get("source"), str) and custom["source"].strip():
                    messages[-1]["source"] = custom["source"].strip()
    return messages


def offered_payloads(transcript: List[TranscriptMessage]) -> Set[str]:
    """The quick-reply payloads the bot offered in this session."""
    return {b["payload"] for m in transcript if m["sender"] == "bot" for b in m["buttons"]}


class TrackerHistory:
    """Reads conversations from the tracker store."""

    def __init__(self, url: str, project_root: Path) -> None:
        self._engine = make_read_only_engine(url, project_root)

    def transcript(self, sender: str) -> List[TranscriptMessage]:
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(_EVENTS, {"sender": sender}).all()
        except SQLAlchemyError as exc:
            if _no_store_yet(exc):
                return []
            raise HistoryUnavailable(f"cannot read the tracker store: {exc}") from exc
        return transcript_from_events([tuple(row) for row in rows])

    def close(self) -> None:
        self._engine.dispose()


def _no_store_yet(exc: SQLAlchemyError) -> bool:
    """Before Rasa's first conversation there is no file, or no ``events`` table."""
    message = str(exc).lower()
    return "unable to open database file" in message or "no such table: events" in message
