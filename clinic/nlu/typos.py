"""Misspelt warning-sign words put right before the red-flag rules match.

"numbess", "blader", "dizy", "leggs" and "siezure" are one or two keystrokes from
words of the red-flag rules, and a visitor in a hurry types them that way. The
``TypoNormaliser`` knows two word lists:

- the *lexicon*: every plain word of ``red_flags.yml`` (terms, concepts, patterns);
- the *English vocabulary*: symspellpy's frequency dictionary of 82,765 English
  words, plus the lexicon itself.

A token is corrected only when it is not an English word (so "chess" never
becomes "chest" and "wee" stays "wee"), has at least ``min_length`` letters, and
SymSpell finds a lexicon word nearest to it within the allowed
Damerau-Levenshtein distance (1 up to 5 letters, 2 from 6 letters on). Among
equally near lexicon words the commonest English word wins ("bladdr" -> "bladder",
not the listed typo "blader"); two equally near and equally common ones mean no
correction.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Dict, FrozenSet, Iterable, List

_WORD = re.compile(r"[a-z]+")


def english_vocabulary() -> Dict[str, int]:
    """symspellpy's English frequency dictionary: word -> count."""
    text = (
        resources.files("symspellpy")
        .joinpath("frequency_dictionary_en_82_765.txt")
        .read_text(encoding="utf-8")
    )
    pairs = (line.split(" ", 1) for line in text.splitlines() if line)
    return {word: int(count) for word, count in pairs}


def lexicon_words(phrases: Iterable[str]) -> FrozenSet[str]:
    """The plain lower-case words of rule phrases (syntax characters dropped)."""
    return frozenset(word for phrase in phrases for word in _WORD.findall(phrase.lower()))


class TypoNormaliser:
    """Maps misspelt tokens onto the red-flag lexicon; leaves real words alone."""

    def __init__(
        self,
        lexicon: Iterable[str],
        vocabulary: Dict[str, int],
        min_length: int = 4,
        long_word: int = 6,
    ) -> None:
        from symspellpy import SymSpell

        self._min_length = min_length
        self._long_word = long_word
        words = sorted({word for word in lexicon if len(word) >= min_length})
        self._known = frozenset(vocabulary) | frozenset(lexicon)
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word in words:
            self._symspell.create_dictionary_entry(word, vocabulary.get(word, 0) + 1)
        self._cache: Dict[str, str | None] = {}

    def correct(self, word: str) -> str | None:
        """The lexicon word ``word`` is a typo of, or None when it is not one."""
        word = word.lower()
        if word in self._cache:
            return self._cache[word]
        corrected = self._lookup(word)
        if len(self._cache) < 50_000:
            self._cache[word] = corrected
        return corrected

    def _lookup(self, word: str) -> str | None:
        if len(word) < self._min_length or word in self._known or not word.isalpha():
            return None
        from symspellpy import Verbosity

        distance = 1 if len(word) < self._long_word else 2
        suggestions = self._symspell.lookup(word, Verbosity.CLOSEST, max_edit_distance=distance)
        if not suggestions or (
            len(suggestions) > 1 and suggestions[1].count == suggestions[0].count
        ):
            return None
        return suggestions[0].term

    def corrections(self, words: List[str]) -> Dict[int, str]:
        """Index -> corrected word, for each word of ``words`` that is a typo."""
        found = {}
        for index, word in enumerate(words):
            corrected = self.correct(word)
            if corrected is not None:
                found[index] = corrected
        return found
