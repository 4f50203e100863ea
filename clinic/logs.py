"""Logs without personal data: one JSON object per line, for the three processes.

``logging.yml`` at the project root is the one configuration. The web app applies it
with ``configure_logging()`` (``python -m clinic.web``); the Rasa server and the action
server get it with ``--logging-config-file`` / ``--logging-config_file``
(``scripts/run.sh``, ``bench/stack.py``; they need the project root on ``PYTHONPATH``
to import this module that early). Rasa replaces the handler's format with its own
coloured one after reading the file, but keeps its filters, so Rasa's lines stay
``time LEVEL logger - message`` and are filtered all the same.

What never reaches the logs at the default level (INFO):

- visitors' messages, names, phone numbers and e-mail addresses: the project's code
  logs none of them (``clinic/rest_channel.py`` logs a failure's exception type, not
  the text as Rasa's own channel does), and ``PrivateDataFilter`` takes them out of
  Rasa's structured events (``"text"``, every frame's ``locals``, ...) and out of
  warnings, which quote what they could not parse;
- client addresses and query strings in the web app's access log (the staff
  console's search words travel in the query string).
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import time
from pathlib import Path
from typing import Any, Dict

import yaml

LOGGING_FILE = Path(__file__).resolve().parents[1] / "logging.yml"
REDACTED = "[redacted]"
# fields of Rasa's structured (structlog) events that carry what a visitor wrote or is
PRIVATE_FIELDS = frozenset(
    {
        "text",
        "user_text",
        "message",
        "messages",
        "parse_data",
        "tracker",
        "tracker_state",
        "slots",
        "slot_values",
        "metadata",
        "events",
        "entities",
        "locals",
        "data",
        "utterance",
        "bot_message",
        "response",
        "sender_id",
        "exc_value",
    }
)
# "path:line: Category: message" (then the source line) of a captured warning
_WARNING = re.compile(r"^(?P<where>.*?:\d+: (?P<category>\w+): )(?P<message>.*)$", re.S)


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if k in PRIVATE_FIELDS else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def _warning_without_quotes(text: str) -> str:
    """A library's deprecation warning as it is; any other warning only up to its first
    quote, and without the source line (Rasa's "Failed to parse arguments in line
    '<the message>'" quotes what the visitor typed)."""
    match = _WARNING.match(text)
    if match is None:
        return "a warning [redacted]"
    if match["category"].endswith("DeprecationWarning"):
        return text.rstrip()
    message = re.split("['\"]", match["message"].splitlines()[0], maxsplit=1)
    return match["where"] + message[0] + ("[redacted]" if len(message) > 1 else "")


class PrivateDataFilter(logging.Filter):
    """Takes what visitors wrote out of records that may carry it; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "py.warnings":
            record.msg, record.args = _warning_without_quotes(record.getMessage()), ()
            return True
        if not isinstance(record.msg, str) or not record.msg.startswith("{"):
            return True
        try:
            event = json.loads(record.getMessage())
        except ValueError:
            return True
        if isinstance(event, dict):  # a structlog event rendered as JSON (Rasa)
            record.msg, record.args = json.dumps(_redact(event), ensure_ascii=False), ()
        return True


def private_data_filter() -> PrivateDataFilter:
    """``PrivateDataFilter``, with Python's warnings sent through logging (and so through
    the filter) instead of straight to stderr; the factory logging.yml names."""
    logging.captureWarnings(True)
    return PrivateDataFilter()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message`` and, for a
    structured event, its fields; the access log as ``method``, ``path``, ``status``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: Dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
        }
        entry.update(self.fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)

    @staticmethod
    def fields(record: logging.LogRecord) -> Dict[str, Any]:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            _client, method, full_path, _version, status = args
            return {
                "message": "request",
                "method": method,
                "path": str(full_path).split("?", 1)[0],
                "status": status,
            }
        message = record.getMessage()
        if message.startswith("{"):
            try:
                event = json.loads(message)
            except ValueError:
                event = None
            if isinstance(event, dict):
                return {"message": event.pop("event", ""), **event}
        return {"message": message}


def configure_logging(path: Path = LOGGING_FILE) -> None:
    """Applies logging.yml to this process (the web app)."""
    logging.config.dictConfig(yaml.safe_load(path.read_text(encoding="utf-8")))
