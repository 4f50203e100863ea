"""A patient's name: letters of any script, spaces, hyphens and apostrophes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .reasons import Reason

MAX_LENGTH = 100
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'"})
_SEPARATORS = {" ", "-", "'"}


@dataclass(frozen=True)
class NameResult:
    name: str | None = None
    reason: Reason | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def _allowed(char: str) -> bool:
    # L*: letters of every script; M*: combining marks (accents, Devanagari vowel signs).
    return char in _SEPARATORS or unicodedata.category(char)[0] in "LM"


def normalise_name(text: str) -> NameResult:
    """``"  Mary-Jane   O’Neil "`` -> ``NameResult("Mary-Jane O'Neil")``.

    Unicode is NFC-normalised, typographic apostrophes become ``'`` and runs of
    whitespace one space. Digits, symbols, dots and names without a letter are
    refused, as is anything longer than 100 characters once normalised.
    """
    name = unicodedata.normalize("NFC", text or "").translate(_APOSTROPHES)
    name = re.sub(r"\s+", " ", name).strip()
    if not 1 <= len(name) <= MAX_LENGTH:
        return NameResult(reason=Reason.INVALID_NAME)
    if not all(_allowed(char) for char in name):
        return NameResult(reason=Reason.INVALID_NAME)
    if not any(unicodedata.category(char).startswith("L") for char in name):
        return NameResult(reason=Reason.INVALID_NAME)
    return NameResult(name)
