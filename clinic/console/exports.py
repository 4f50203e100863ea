"""Exports: booking requests as CSV, inbox messages as NLU examples, a conversation as a
Rasa test story (names, phone numbers and e-mail addresses replaced by placeholders)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any, Dict, Iterable, List, Sequence, Tuple

import yaml

from clinic.db.models import Booking

from .index import FALLBACK_INTENT, parse_user

# A cell starting with one of these is a formula to Excel / LibreOffice / Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
BOOKING_COLUMNS = (
    "reference",
    "created_at",
    "kind",
    "status",
    "patient_name",
    "phone",
    "email",
    "preferred_start",
    "callback_time",
    "concern",
    "new_patient",
    "pregnant",
    "blood_thinners",
    "needle_fear",
    "conversation_id",
)
NAME_PLACEHOLDER = "Alex Example"
PHONE_PLACEHOLDER = "+1 202 555 0100"
EMAIL_PLACEHOLDER = "patient@example.com"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w])\+?\d[\d\s().-]{5,}\d(?![\w])")
NAME_SLOTS = ("patient_name",)
PHONE_SLOTS = ("phone",)
EMAIL_SLOTS = ("email",)
# Not part of a story: Rasa adds them itself, or they only carry the clinic's facts.
SKIPPED_ACTIONS = {"action_listen", "action_session_start"}


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    cell = str(value)
    if cell.startswith(FORMULA_START):
        return "'" + cell
    return cell


def bookings_csv(bookings: Iterable[Booking]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BOOKING_COLUMNS)
    for booking in bookings:
        writer.writerow([safe_cell(getattr(booking, column)) for column in BOOKING_COLUMNS])
    return out.getvalue()


class _Literal(str):
    """A YAML block scalar (``|``), as Rasa's own NLU files write examples."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal)


def _dump(document: Dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def nlu_examples(messages: Sequence[Tuple[str, str | None]]) -> str:
    """``nlu:`` YAML from (text, best guess) pairs, grouped under the best-guess intent.

    Check each intent before pasting into ``data/nlu/``: these are the messages the
    assistant was unsure about.
    """
    groups: Dict[str, List[str]] = {}
    for text_, intent in messages:
        line = " ".join(text_.split())
        if not line:
            continue
        name = intent if intent and intent != FALLBACK_INTENT else "TODO_choose_intent"
        if line not in groups.setdefault(name, []):
            groups[name].append(line)
    document = {
        "version": "3.1",
        "nlu": [
            {
                "intent": intent,
                "examples": _Literal("".join(f"- {redact(line)}\n" for line in lines)),
            }
            for intent, lines in sorted(groups.items())
        ],
    }
    header = (
        "# Exported from the staff console's inbox: low-confidence and fallback messages,\n"
        "# grouped by the assistant's best guess. Check every intent, then paste into\n"
        "# data/nlu/<topic>.yml.\n"
    )
    return header + _dump(document)


# --- test stories -----------------------------------------------------------------------


def _known_values(events: List[Tuple[int, str, float, str | None, Dict]]) -> Dict[str, str]:
    """Personal values the conversation's slots hold, mapped to their placeholder."""
    values: Dict[str, str] = {}
    for _id, type_name, _at, name, data in events:
        if type_name != "slot" or not isinstance(data.get("value"), str):
            continue
        value = data["value"].strip()
        if len(value) < 2:
            continue
        if name in NAME_SLOTS:
            values[value] = NAME_PLACEHOLDER
            for part in value.split():
                if len(part) > 2:
                    values[part] = NAME_PLACEHOLDER.split()[0]
        elif name in PHONE_SLOTS:
            values[value] = PHONE_PLACEHOLDER
        elif name in EMAIL_SLOTS:
            values[value] = EMAIL_PLACEHOLDER
    return values


def redact(text_: str, known: Dict[str, str] | None = None) -> str:
    """Names the slots captured, e-mail addresses and phone numbers replaced."""
    for value in sorted(known or {}, key=len, reverse=True):
        text_ = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", (known or {})[value], text_, flags=re.I)
    text_ = EMAIL.sub(EMAIL_PLACEHOLDER, text_)
    return PHONE.sub(PHONE_PLACEHOLDER, text_)


def _annotated(text_: str, entities: List[Dict[str, Any]], known: Dict[str, str]) -> str:
    """Rasa's ``[text](entity)`` markup for entities with positions, text redacted."""
    spans = sorted(
        (
            e
            for e in entities
            if isinstance(e.get("start"), int)
            and isinstance(e.get("end"), int)
            and e.get("entity") != "red_flag"  # found by patterns, not annotated in data
        ),
        key=lambda e: e["start"],
    )
    out, position = [], 0
    for entity in spans:
        if entity["start"] < position:
            continue
        out.append(redact(text_[position : entity["start"]], known))
        surface = redact(text_[entity["start"] : entity["end"]], known)
        out.append(f"[{surface}]({entity['entity']})")
        position = entity["end"]
    out.append(redact(text_[position:], known))
    return "".join(out)


def _slot_value(name: str | None, value: Any, known: Dict[str, str]) -> Any:
    if isinstance(value, str):
        return redact(value, known)
    return value


def story_yaml(
    sender: str, events: List[Tuple[int, str, float, str | None, Dict]], title: str = ""
) -> str:
    """The conversation as a Rasa test story (``tests/test_*.yml``): user messages with
    their intents and entities, actions, slot changes and form activations."""
    from .queries import CLINIC_SLOTS

    known = _known_values(events)
    steps: List[Dict[str, Any]] = []
    for _id, type_name, _at, name, data in events:
        if type_name == "session_started":
            steps = []  # a test story starts from a new session, as Rasa's own export does
        elif type_name == "user":
            parsed = parse_user(data)
            intent = parsed["intent"] or FALLBACK_INTENT
            text_ = parsed["text"]
            if text_.startswith("/"):
                steps.append({"intent": intent})
                continue
            steps.append(
                {"user": _Literal(_annotated(text_, parsed["entities"], known)), "intent": intent}
            )
        elif type_name == "action" and name and name not in SKIPPED_ACTIONS:
            steps.append({"action": name})
        elif type_name == "slot" and name and name not in CLINIC_SLOTS:
            steps.append({"slot_was_set": [{name: _slot_value(name, data.get("value"), known)}]})
        elif type_name == "active_loop":
            steps.append({"active_loop": data.get("name")})
    document = {
        "version": "3.1",
        "stories": [{"story": title or f"conversation {sender}", "steps": steps}],
    }
    return _dump(document)
