"""Booking answers in a visitor's words: lead-ins removed, corrections recognised.

The words live in ``answer_words.yml`` beside this module.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, NamedTuple

import yaml

WORDS_FILE = Path(__file__).resolve().parent / "answer_words.yml"


class Correction(NamedTuple):
    field: str | None  # a slot of the booking summary, or None
    value: str  # what follows the item's name ("3pm"), may be empty


@lru_cache(maxsize=1)
def answer_words() -> Dict[str, object]:
    return yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))


def _alternatives(phrases: List[str]) -> str:
    ordered = sorted(phrases, key=len, reverse=True)  # longest first: "my name is" before "is"
    return "|".join(re.escape(phrase) for phrase in ordered)


def strip_lead_in(text: str) -> str:
    """``"My name is Ann Lee"`` -> ``"Ann Lee"``; other text is returned trimmed."""
    text = " ".join((text or "").split())
    pattern = rf"^(?:{_alternatives(answer_words()['lead_ins'])})\b\s*:?\s*"
    return re.sub(pattern, "", text, count=1, flags=re.IGNORECASE).strip()


def detect_correction(text: str) -> Correction:
    """Which summary item a message changes, and the new value said with it.

    ``"change the time to 3pm"`` -> ``Correction("preferred_start", "3pm")``;
    ``"my phone number is wrong"`` -> ``Correction("phone", "wrong")`` (the caller
    validates the value and asks again when it is no phone number).
    """
    text = " ".join((text or "").split())
    fields: Dict[str, List[str]] = answer_words()["fields"]  # type: ignore[assignment]
    best: re.Match[str] | None = None
    best_field: str | None = None
    for field, words in fields.items():
        match = re.search(rf"\b(?:{_alternatives(words)})\b", text, flags=re.IGNORECASE)
        if match and (best is None or match.start() < best.start()):
            best, best_field = match, field
    if best is None:
        return Correction(None, "")
    rest = text[best.end() :].strip()
    lead = rf"^(?:(?:{_alternatives(answer_words()['value_lead_ins'])})\b\s*)+"
    rest = re.sub(lead, "", rest, flags=re.IGNORECASE).strip()
    return Correction(best_field, rest)
