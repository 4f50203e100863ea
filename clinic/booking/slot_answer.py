"""Is a message the answer to the slot a form is asking for, or something else?

While the booking or call-back form waits for a name, a phone number, an e-mail
address, a time or the concern, a message is one of three things:

- ``ANSWER``: it fits the slot, even when the intent classifier saw a topic in it
  ("Cy Park" at the name, classified as a parking question);
- ``DIGRESSION``: a question or topic for the rules to answer (or "stop") before the
  form asks again ("where do I park?", "is it safe?", "parking");
- ``REFUSAL``: not an answer to this slot and nothing to answer either ("yes", "hello",
  "my back hurts" at the name): the form asks again with a short hint.

The slot asked, the shape of the message (a question, a sentence, a lone yes or
hello, digits, an "@") and what the slot accepts decide; the intent is one input
among them, used where the shape alone cannot tell (a sentence that is a question
without a question mark). Pure Python: no Rasa import, no user-facing text. The
words live in ``slot_words.yml`` beside this module.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, List, NamedTuple

import yaml

from .answers import strip_lead_in

WORDS_FILE = Path(__file__).resolve().parent / "slot_words.yml"

NAME_SLOT = "patient_name"
PHONE_SLOT = "phone"
EMAIL_SLOT = "email"
TIME_SLOTS = frozenset({"preferred_start", "callback_time"})
CONCERN_SLOT = "concern"
SLOTS = frozenset({NAME_SLOT, PHONE_SLOT, EMAIL_SLOT, CONCERN_SLOT} | TIME_SLOTS)
NO_EMAIL = "none"
MAX_NAME_WORDS = 6

# Intents of questions the rules answer in the middle of a form.
QUESTION_INTENTS = frozenset(
    {
        "ask_what_is_dry_needling",
        "ask_acupuncture_difference",
        "ask_how_it_works",
        "ask_safety",
        "ask_soreness",
        "ask_what_to_expect",
        "ask_effectiveness",
        "ask_practitioner",
        "ask_treatment_plan",
        "ask_suitability",
        "ask_clinic_info",
        "feeling_low",
    }
)
NEGATIVE = frozenset({"no", "nope", "nah", "no thanks", "no thank you", "none", "skip",
                      "rather not", "prefer not", "i'd rather not", "no email",
                      "i don't have one", "don't have one", "not really"})  # fmt: skip
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'", "`": "'"})
_SEPARATORS = "'-"
_TRAILING = re.compile(
    r"[\s,.!;:]*(?:\b(?:thanks|thank you|thx|ta|cheers|please|pls)\b[\s,.!]*)*$", re.I
)
_GREETING_LEAD = re.compile(
    r"^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))\b(?:\s+there)?[\s,!.-]*", re.I
)


class Kind(str, Enum):
    ANSWER = "answer"
    DIGRESSION = "digression"
    REFUSAL = "refusal"


class Decision(NamedTuple):
    kind: Kind
    value: str | None = None  # the answer without lead-ins ("my name is ..."), for ANSWER
    reason: str | None = None  # why not: yes_no, greeting, question, topic, stop, symptom,
    # sentence, shape


@lru_cache(maxsize=1)
def slot_words() -> Dict[str, FrozenSet[str]]:
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    return {key: frozenset(str(word).lower() for word in words) for key, words in data.items()}


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "").translate(_APOSTROPHES)
    return " ".join(text.split())


def _letter(char: str) -> bool:
    # L*: letters of every script; M*: combining marks (accents, Devanagari vowel signs).
    return unicodedata.category(char)[0] in "LM"


def words_of(text: str) -> List[str]:
    """Lower-case words, numbers and punctuation marks, in order:
    ``"Hi, it's Ana!"`` -> ``["hi", ",", "it's", "ana", "!"]``; "3pm" -> 3, pm."""
    found: List[str] = []
    for token in text.lower().split():
        word = ""
        for char in token + " ":
            last = word[-1:]
            continues = (
                (_letter(char) and (not last or _letter(last) or last in _SEPARATORS))
                or (char.isdigit() and (not last or last.isdigit()))
                or (char in _SEPARATORS and bool(last) and _letter(last))
            )
            if continues:
                word += char
            else:
                found.extend([word.rstrip(_SEPARATORS)] if word.rstrip(_SEPARATORS) else [])
                word = char if char.isdigit() or _letter(char) else ""
                if not (word or char.isspace() or char == "."):
                    found.append(char)
    return found


def _phrase(text: str) -> str:
    return " ".join(word for word in words_of(text) if word[0].isalnum())


def is_question(text: str) -> bool:
    """A question mark, or an opener followed by what questions go on with ("will it
    hurt", "where do I park"); "Will Booker" and "Can Yilmaz" are not questions."""
    if text.rstrip().endswith("?"):
        return True
    words = [word for word in words_of(text) if word[0].isalnum()]
    if len(words) < 2:
        return False
    vocab = slot_words()
    if words[0] in vocab["asking_words"]:
        return True
    openers, followers = vocab["question_openers"], vocab["question_followers"]
    return (words[0] in openers and words[1] in followers) or (
        " ".join(words[:2]) in openers and len(words) > 2
    )


def _only(words: List[str], *lists: str) -> bool:
    vocab = slot_words()
    allowed = set().union(*(vocab[name] for name in lists))
    return bool(words) and all(word in allowed for word in words)


def _has(words: List[str], name: str) -> bool:
    return any(word in slot_words()[name] for word in words)


def _not_an_answer(text: str, intent: str | None) -> Decision | None:
    """What every slot refuses or leaves to the rules: yes/no, hello, stop, questions."""
    vocab = slot_words()
    phrase = _phrase(_TRAILING.sub("", text)) or _phrase(text)
    if not phrase:
        return Decision(Kind.REFUSAL, reason="shape")
    if phrase in vocab["stop"] or intent == "stop" and _has(phrase.split(), "stop"):
        return Decision(Kind.DIGRESSION, reason="stop")
    if phrase in vocab["yes_no"]:
        return Decision(Kind.REFUSAL, reason="yes_no")
    if phrase in vocab["greetings"]:
        return Decision(Kind.REFUSAL, reason="greeting")
    return None


def _refused_or_asked(text: str, intent: str | None) -> Decision | None:
    """``_not_an_answer``, or a digression when the message is shaped as a question."""
    early = _not_an_answer(text, intent)
    if early is None and is_question(text):
        return Decision(Kind.DIGRESSION, reason="question")
    return early


def _sentence(words: List[str], intent: str | None) -> Decision:
    """A message with small words of sentences in it: a question the rules answer when
    the classifier heard one, else not an answer."""
    if intent in QUESTION_INTENTS:
        return Decision(Kind.DIGRESSION, reason="question")
    if _has(words, "symptoms"):
        return Decision(Kind.REFUSAL, reason="symptom")
    return Decision(Kind.REFUSAL, reason="sentence")


@lru_cache(maxsize=1)
def _acknowledgement_lead() -> re.Pattern[str]:
    """An acknowledgement before the answer: "sure, it's Ana", "ok its Willow Kent"."""
    words = "|".join(re.escape(word) for word in sorted(slot_words()["acknowledgements"]))
    return re.compile(rf"^(?:{words})\b[\s,!.:;-]+(?=\S)", re.I)


def name_candidate(text: str) -> str:
    """``"Hi, my name is Dr. Ana Ruiz, thanks"`` -> ``"Ana Ruiz"``; ``"Sure, it's Ana"`` ->
    ``"Ana"``; ``"van Dijk, Sanne"`` -> ``"Sanne van Dijk"``."""
    candidate = _TRAILING.sub("", text)
    for _ in range(3):  # "hi, sure - it's ...": greeting, acknowledgement, lead-in
        before = candidate
        candidate = strip_lead_in(
            _acknowledgement_lead().sub("", _GREETING_LEAD.sub("", candidate))
        )
        if candidate == before:
            break
    candidate = _surname_first(candidate)
    titles = slot_words()["titles"]
    parts = candidate.split()
    while len(parts) > 1 and parts[0].lower().rstrip(".") in titles:
        parts = parts[1:]
    # Abbreviations lose their dot: "J. R. Tolkien" -> "J R Tolkien", "King Jr." -> "King Jr"
    parts = [part.rstrip(".") if part[:1].isalpha() else part for part in parts]
    return " ".join(parts).strip(" ,")


def _surname_first(candidate: str) -> str:
    """``"van Dijk, Sanne"`` -> ``"Sanne van Dijk"``: a surname, a comma and given names,
    each one to three name-shaped words, as forms and registers write them."""
    if candidate.count(",") != 1:
        return candidate
    surname, given = (part.split() for part in candidate.split(","))
    if not (0 < len(surname) <= 3 and 0 < len(given) <= 3):
        return candidate
    if not all(_name_shaped(word.rstrip(".")) for word in surname + given):
        return candidate
    return " ".join(given + surname)


def _name_shaped(word: str) -> bool:
    """Letters of any script, joined by hyphens, apostrophes or the dots of initials
    ("O'Neil", "Jean-Luc", "A.J")."""
    pieces = re.split(r"['.-]", word.rstrip("'"))
    return all(piece and all(_letter(char) for char in piece) for piece in pieces)


def decide_name(text: str, intent: str | None = None) -> Decision:
    early = _refused_or_asked(text, intent)
    if early is not None:
        return early
    candidate = name_candidate(text)
    early = _not_an_answer(candidate, intent) if candidate != text else None
    if early is not None:
        return early
    parts = candidate.split()
    if not parts:
        return Decision(Kind.REFUSAL, reason="shape")
    words = [part.lower() for part in parts]
    if not all(_name_shaped(part) for part in parts):
        plain = words_of(candidate)
        if any(word[0].isalpha() for word in plain) and _has(plain, "function_words"):
            return _sentence(plain, intent)
        return Decision(Kind.REFUSAL, reason="shape")
    if len(parts) > MAX_NAME_WORDS or _has(words, "function_words"):
        return _sentence(words, intent)
    if _has(words, "fillers"):
        return Decision(Kind.REFUSAL, reason="filler")
    if len(words) > 1 and _only(words, "time_words") and _has(words, "relative_times"):
        return Decision(Kind.REFUSAL, reason="time")
    if _only(words, "symptoms"):
        return Decision(Kind.REFUSAL, reason="symptom")
    if _only(words, "topics", "symptoms", "particles"):
        # One word is ambiguous ("Bill", "parking"): the classifier tips it.
        if len(words) == 1 and intent is not None and intent not in QUESTION_INTENTS:
            return Decision(Kind.ANSWER, value=candidate)
        return Decision(Kind.DIGRESSION, reason="topic")
    if intent == "stop" and _only(words, "stop"):
        return Decision(Kind.DIGRESSION, reason="stop")
    return Decision(Kind.ANSWER, value=candidate)


def decide_phone(text: str, intent: str | None = None) -> Decision:
    digits = sum(char.isdigit() for char in text)
    if digits >= 5 and not (is_question(text) and _has(words_of(text), "topics")):
        return Decision(Kind.ANSWER, value=strip_lead_in(text))
    return _other(text, intent, "phone")


def decide_email(text: str, intent: str | None = None) -> Decision:
    if "@" in text and not text.rstrip().endswith("?"):
        return Decision(Kind.ANSWER, value=strip_lead_in(text))
    phrase = _phrase(_TRAILING.sub("", text))
    if phrase in NEGATIVE or intent == "deny" and not is_question(text):
        return Decision(Kind.ANSWER, value=NO_EMAIL)
    return _other(text, intent, "email")


def has_time(text: str) -> bool:
    """Digits, or a word or phrase of days and times ("first thing Friday")."""
    if any(char.isdigit() for char in text):
        return True
    words = [word for word in words_of(text) if word[0].isalnum()]
    times = slot_words()["time_words"]
    pairs = {" ".join(words[i : i + 2]) for i in range(len(words) - 1)}
    return any(word in times for word in words) or any(pair in times for pair in pairs)


def decide_time(text: str, intent: str | None = None) -> Decision:
    early = _not_an_answer(text, intent)
    if early is not None:
        return early
    words = words_of(text)
    question = is_question(text)
    plain = [word for word in words if word[0].isalnum()]
    # "how soon can someone see me?" asks; "how about friday at 2?" proposes a time.
    asking = bool(plain) and plain[0] in slot_words()["asking_words"] and plain[1:2] != ["about"]
    if question and asking:
        return Decision(Kind.DIGRESSION, reason="question")
    if has_time(text) and not (question and _has(words, "topics")):
        return Decision(Kind.ANSWER, value=_clean(text))
    if question:
        return Decision(Kind.DIGRESSION, reason="question")
    if _only(plain, "topics", "function_words"):
        return Decision(Kind.DIGRESSION, reason="topic")
    if intent in QUESTION_INTENTS:
        return Decision(Kind.DIGRESSION, reason="question")
    return Decision(Kind.ANSWER, value=_clean(text))


def decide_concern(text: str, intent: str | None = None) -> Decision:
    early = _refused_or_asked(text, intent)
    return early or Decision(Kind.ANSWER, value=_clean(text))


def _other(text: str, intent: str | None, slot_kind: str) -> Decision:
    """Not shaped like a phone number or e-mail: a digression or a refusal."""
    early = _refused_or_asked(text, intent)
    if early is not None:
        return early
    plain = [word for word in words_of(text) if word[0].isalnum()]
    if _only(plain, "topics", "function_words") and slot_kind not in plain:
        return Decision(Kind.DIGRESSION, reason="topic")
    if intent in QUESTION_INTENTS and _has(plain, "function_words"):
        return Decision(Kind.DIGRESSION, reason="question")
    return Decision(Kind.REFUSAL, reason="shape")


def decide(slot: str, text: str, intent: str | None = None) -> Decision:
    """Whether ``text`` answers ``slot`` (the slot the form asked for)."""
    text = _clean(text)
    if not text or text.startswith("/"):  # empty, or a button's payload
        return Decision(Kind.REFUSAL, reason="shape")
    if slot == NAME_SLOT:
        return decide_name(text, intent)
    if slot == PHONE_SLOT:
        return decide_phone(text, intent)
    if slot == EMAIL_SLOT:
        return decide_email(text, intent)
    if slot in TIME_SLOTS:
        return decide_time(text, intent)
    if slot == CONCERN_SLOT:
        return decide_concern(text, intent)
    raise ValueError(f"no answer check for slot {slot!r}")
