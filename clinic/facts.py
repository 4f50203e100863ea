"""What a message asks of the fact base: pure helpers shared by FactAnswerPolicy and
action_answer_facts (no Rasa import, so the action server loads it cheaply)."""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, NamedTuple

from clinic.booking.slot_answer import is_question

FACT_ENTITY = "fact"
NOT_COVERED = "not_covered"
# The complaint intents and the symptom guide's area of each.
COMPLAINT_AREAS: Dict[str, str] = {"back_pain": "back", "neck_pain": "neck", "headache": "head"}
AREAS = ("back", "neck", "head")
# Intents whose own rule goes first even when a fact was found: the person wants to book,
# talk to someone, stop, or asked about the clinic itself (clinic.yml answers that).
# (A clinic question such as "how much is it?" finds no fact: the fact model learns those
# as none, so a fact found beside ask_clinic_info is answered.)
OWN_RULE_INTENTS = frozenset({"book_appointment", "request_human", "stop", "affirm", "deny"})
FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|ive|i'd|my|me|mine)\b", re.IGNORECASE)
# Words a question opens with: "does chronic back pain affect mood" asks, although the
# forms' is_question wants a question mark after "does" and a noun.
QUESTION_WORDS = (
    "what|whats|what's|how|who|whos|who's|when|where|why|which|is|are|was|were|do|does|did|"
    "can|could|will|would|should|shall|may|might|has|have|any|must"
)
QUESTION_START = re.compile(r"\s*(?:" + QUESTION_WORDS + r")\b", re.IGNORECASE)
CLAUSE_END = re.compile(r"[.?!;,]+|\s+but\s+", re.IGNORECASE)


class FoundFact(NamedTuple):
    value: str  # a fact id or NOT_COVERED
    area: str | None


def found_facts(entities: Iterable[Dict[str, Any]]) -> List[FoundFact]:
    """The ``fact`` entities of a message, in the order asked, each once."""
    facts = sorted(
        (e for e in entities or [] if e.get("entity") == FACT_ENTITY and e.get("value")),
        key=lambda e: int(e.get("start") or 0),
    )
    found: List[FoundFact] = []
    for entity in facts:
        value = str(entity["value"])
        if value not in [f.value for f in found]:
            area = entity.get("area")
            found.append(FoundFact(value, area if area in AREAS else None))
    return found


def clauses(text: str) -> List[str]:
    return [part.strip() for part in CLAUSE_END.split(text or "") if part.strip()]


def reports_complaint(text: str, intent: str | None) -> bool:
    """A complaint intent and a clause that tells of the person's own pain, not a
    question: "my neck has hurt for 3 weeks" (also before a question about it)."""
    if intent not in COMPLAINT_AREAS:
        return False
    return any(FIRST_PERSON.search(c) and not is_asking(c) for c in clauses(text))


def is_asking(text: str) -> bool:
    return is_question(text) or bool(QUESTION_START.match(text))


def asks_something(text: str) -> bool:
    """A question somewhere in the message ("my back hurts, which muscles are involved?")."""
    return is_asking(text) or any(is_asking(c) for c in clauses(text))
