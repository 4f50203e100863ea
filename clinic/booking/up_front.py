"""What a visitor gives before it is asked: "I'd like to book for next Tuesday at 3pm,
my name is Ana Ruiz" holds a preferred time and a name.

``given_up_front`` returns the raw pieces per booking slot; the booking form's own
validation then checks them like any other answer (``clinic.booking.slot_answer``
first, then the name, phone, e-mail and time checks), so a piece that is no good is
simply asked for. Pure Python: no Rasa import, no user-facing text.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, List

import phonenumbers

from .slot_answer import Kind, decide, has_time, slot_words

EMAIL = re.compile(r"[^\s@,;:<>()]+@[^\s@,;:<>()]+\.[^\s@,;:<>().]+")
# Said before a name. After "I'm", "I am" or "this is" only capitalised words count
# ("I'm Ana Ruiz", not "I'm free on Tuesday").
_NAME_LEAD = re.compile(
    r"\b(?P<lead>my (?:full )?name is|my name's|name is|call me|this is|i am|i'm|im)\s+",
    re.IGNORECASE,
)
_LOOSE_LEADS = {"this is", "i am", "i'm", "im"}
_NAME_END = re.compile(
    r"\s*(?:[,.;!?]|\b(?:and|my|i|i'm|i'd|phone|number|email|e-mail|mobile|for|on|at|"
    r"next|this|tomorrow|today|please|thanks)\b|\d|$)",
    re.IGNORECASE,
)
_CONCERN = re.compile(r"(?=\b(?:for|about|with|because of)\s+(?P<what>[^,;.!?]+))", re.IGNORECASE)
_CONCERN_END = {"please", "thanks", "thank", "and", "but"}
_LEADING_AND = re.compile(r"^(?:and|but)\s+", re.IGNORECASE)
_CLAUSES = re.compile(r"[,;.!?]+\s*|\s+(?:and|but)\s+", re.IGNORECASE)


def _name(text: str) -> tuple[str | None, str]:
    """The name said with a lead-in, and the text without it."""
    for lead in _NAME_LEAD.finditer(text):
        rest = text[lead.end() :]
        end = _NAME_END.search(rest)
        candidate = rest[: end.start() if end else len(rest)].strip()
        if not candidate:
            continue
        loose = lead.group("lead").lower() in _LOOSE_LEADS
        if loose and not all(word[:1].isupper() for word in candidate.split()):
            continue
        decision = decide("patient_name", candidate)
        if decision.kind is Kind.ANSWER:
            span_end = lead.end() + len(candidate)
            return decision.value, text[: lead.start()] + text[span_end:]
    return None, text


def _phone(text: str, region: str) -> tuple[str | None, str]:
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        return match.raw_string, text[: match.start] + text[match.end :]
    return None, text


def _time(text: str, is_time: Callable[[str], bool]) -> str | None:
    parts = [_LEADING_AND.sub("", part.strip()) for part in _CLAUSES.split(text)]
    clauses: List[str] = [part for part in parts if part]
    for clause in clauses:
        if has_time(clause) and is_time(clause):
            return clause
    return None


def time_phrase(clause: str) -> str:
    """The words of ``clause`` that say the time: ``"can someone call me back tomorrow
    after 5 please"`` -> ``"tomorrow after 5"``. From the first to the last time word or
    number, with the small words that lead into them ("after", "around", "next")."""
    words = clause.split()
    times, leads = slot_words()["time_words"], slot_words()["time_leads"]

    def timely(word: str) -> bool:
        plain = word.lower().strip(",.!?;:'\"()")
        return plain in times or any(char.isdigit() for char in plain)

    marks = [i for i, word in enumerate(words) if timely(word)]
    if not marks:
        return clause
    first, last = marks[0], marks[-1]
    while first > 0 and words[first - 1].lower().strip(",.") in leads:
        first -= 1
    return " ".join(words[first : last + 1]).strip(",.;:!?")


def _concern(text: str) -> str | None:
    """ "book me in for my lower back pain next week" -> "my lower back pain"."""
    vocab = slot_words()
    found: List[str] = []
    for match in _CONCERN.finditer(text):
        kept: List[str] = []
        for word in match.group("what").split():
            plain = word.lower().strip("'\"")
            if plain in vocab["time_words"] | _CONCERN_END or any(c.isdigit() for c in plain):
                break
            kept.append(word)
        if any(word.lower() in vocab["symptoms"] - vocab["function_words"] for word in kept):
            found.append(" ".join(kept))
    return min(found, key=len) if found else None  # "with a physio about headaches"


def given_up_front(
    text: str, region: str, is_time: Callable[[str], bool] = lambda _: True
) -> Dict[str, str]:
    """Booking slots given in ``text`` (raw, to be validated by the form): any of
    ``patient_name``, ``phone``, ``email``, ``preferred_start``, ``concern``. ``is_time`` says
    whether a clause names a day or a time (the caller's parser)."""
    found: Dict[str, str] = {}
    text = " ".join((text or "").split())
    if not text or text.startswith("/"):
        return found
    email = EMAIL.search(text)
    if email:
        found["email"] = email.group(0)
        text = text[: email.start()] + text[email.end() :]
    phone, text = _phone(text, region)
    if phone:
        found["phone"] = phone
    name, text = _name(text)
    if name:
        found["patient_name"] = name
    when = _time(text, is_time)
    if when:
        found["preferred_start"] = when
    concern = _concern(text)
    if concern:
        found["concern"] = concern
    return found
