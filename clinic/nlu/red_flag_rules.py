"""Red-flag rules: loads ``red_flags.yml`` and finds its categories in a spaCy doc.

Pure spaCy, no Rasa: ``RedFlagExtractor`` wraps it as an NLU component and
``scripts/red_flag_report.py`` measures it. The rule file's header documents
the phrase syntax; in short a phrase is a list of tokens matched on ``LOWER``
(``~`` for ``LEMMA``), ``a|b`` alternatives, ``(two words|one)`` groups,
``word?`` optional, ``*N`` up to N tokens inside the clause (and never across a ``gap_stops``
word such as ``not``), ``%dddd`` a token of that spaCy shape (``2015``) and
``<term>`` shared vocabulary.

Context works like NegEx / ConText: a cue (``no``, ``can it cause`` ...) ending
at most ``window`` tokens before a match, or one of its ``after`` cues (``years
ago``) starting at most ``window`` tokens after it, with no clause break in
between, discounts the match; a cue group may set its own ``window`` and name
clause breaks its cues reach ``across`` (``[","]``); pseudo-cues (``no longer``) are not cues;
``ignore`` phrases (idioms) discard the matches they overlap.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Dict, FrozenSet, List, NamedTuple, Set, Tuple, TypedDict

import yaml

if TYPE_CHECKING:
    from spacy.matcher import Matcher
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

TokenPattern = List[dict]
Span = Tuple[int, int]

_GROUP = re.compile(r"\(([^()]*)\)(\?)?")
_JOINED = "\ue000"  # stands for "|" inside a merged token while outer groups are split
_TERM = re.compile(r"<([a-z_]+)>")
_GAP = re.compile(r"\*(\d+)")
_PLAIN_WORD = re.compile(r"[^\s|~?*()<>]+")
_CUE_GROUP_KEYS = {"before", "after", "window", "across"}


class CueGroup(TypedDict, total=False):
    before: List[str]  # cues in front of the match
    after: List[str]  # cues following the match
    window: int  # reach in tokens of this group's cues; the rules' `window` if absent
    across: List[str]  # clause breaks this group's cues reach across


class Combination(TypedDict, total=False):
    all: List[str]  # concept names, each found (and not discounted) in the message
    within: int  # at most this many tokens apart; anywhere in the message if absent
    same_clause: bool  # and no clause break between them
    mentioned: List[str]  # concepts that need only occur, even if a cue discounts them
    cues: List[str]  # cue groups that discount its concepts; the category's if absent


class CategoryRules(TypedDict, total=False):
    source: str
    cues: List[str]  # cue groups that discount this category's matches
    patterns: List[str]
    combinations: List[Combination]


class Rules(TypedDict):
    window: int
    clause_breaks: List[str]
    default_cues: List[str]
    cues: Dict[str, CueGroup]
    pseudo_cues: List[str]
    ignore: List[str]
    terms: Dict[str, str]
    concepts: Dict[str, List[str]]
    categories: Dict[str, CategoryRules]


class Finding(NamedTuple):
    """One red-flag category found in a doc, with the tokens that show it."""

    category: str
    start: int
    end: int


def load_rules(path: Path) -> Rules:
    """Reads and checks the rule file; raises ``ValueError`` naming what is wrong."""
    rules = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    required = set(Rules.__annotations__)
    missing = required - set(rules or {})
    if missing:
        raise ValueError(f"{path}: missing {', '.join(sorted(missing))}")
    for group, sides in rules["cues"].items():
        if not isinstance(sides, dict) or not set(sides) <= _CUE_GROUP_KEYS:
            raise ValueError(
                f"{path}: cue group {group} must have before: and/or after: lists"
                " (and optionally window: and across:)"
            )
        unknown_breaks = set(sides.get("across", [])) - set(rules["clause_breaks"])
        if unknown_breaks:
            raise ValueError(
                f"{path}: cue group {group} reaches across {unknown_breaks}, not clause breaks"
            )
    for name, category in rules["categories"].items():
        if not str(category.get("source", "")).strip():
            raise ValueError(f"{path}: category {name} has no source")
        if not category.get("patterns") and not category.get("combinations"):
            raise ValueError(f"{path}: category {name} has no patterns or combinations")
        for group in category.get("cues", rules["default_cues"]):
            if group not in rules["cues"]:
                raise ValueError(f"{path}: category {name} uses unknown cue group {group}")
        for combination in category.get("combinations", []):
            named = set(combination["all"]) | set(combination.get("mentioned", []))
            unknown = named - set(rules["concepts"])
            if unknown:
                raise ValueError(f"{path}: category {name} uses unknown concepts {unknown}")
            for group in combination.get("cues", []):
                if group not in rules["cues"]:
                    raise ValueError(f"{path}: category {name} uses unknown cue group {group}")
    return rules


def expand(phrase: str, terms: Dict[str, str]) -> List[str]:
    """The plain token sequences a phrase stands for (terms inserted, groups expanded)."""
    for _ in range(10):
        inserted = _TERM.sub(lambda m: _term(terms, m.group(1)), phrase)
        if inserted == phrase:
            break
        phrase = inserted
    else:
        raise ValueError(f"terms nested too deeply in {phrase!r}")
    return list(dict.fromkeys(words.replace(_JOINED, "|") for words in _expand_groups(phrase)))


def _term(terms: Dict[str, str], name: str) -> str:
    if name not in terms:
        raise ValueError(f"unknown term <{name}>")
    return f" {terms[name]} "


def _expand_groups(phrase: str) -> List[str]:
    match = _GROUP.search(phrase)
    if match is None:
        return [" ".join(phrase.split())]
    before, after = phrase[: match.start()], phrase[match.end() :]
    options = [option.strip() for option in match.group(1).split("|")]
    if match.group(2):
        options.append("")
    words = [option for option in options if option]
    if not words:
        raise ValueError(f"empty group in {phrase!r}")
    # Single words become one token with alternatives instead of one pattern each.
    single = [word for word in words if _PLAIN_WORD.fullmatch(word)]
    several = [word for word in words if not _PLAIN_WORD.fullmatch(word)]
    optional = len(words) < len(options)
    if not several:
        token = _JOINED.join(single) + ("?" if optional else "")
        return _expand_groups(f"{before} {token} {after}")
    options = ([_JOINED.join(single)] if single else []) + several + ([""] if optional else [])
    return [
        expanded for option in options for expanded in _expand_groups(f"{before} {option} {after}")
    ]


def compile_phrase(words: str, gap_stops: List[str]) -> TokenPattern:
    """A spaCy ``Matcher`` token pattern for one expanded phrase."""
    pattern: TokenPattern = []
    for word in words.split():
        gap = _GAP.fullmatch(word)
        if gap:
            skip = {"LOWER": {"NOT_IN": gap_stops}, "OP": "?"}
            pattern.extend(dict(skip) for _ in range(int(gap.group(1))))
            continue
        optional = len(word) > 1 and word.endswith("?")
        word = word[:-1] if optional else word
        attr = "LOWER"
        if word.startswith("~") and len(word) > 1:
            attr, word = "LEMMA", word[1:]
        values = word.split("|")
        shapes = [value.startswith("%") and len(value) > 1 for value in values]
        if any(shapes):
            if not all(shapes) or attr != "LOWER":
                raise ValueError(f"a %shape token cannot mix with words: {word!r}")
            attr, values = "SHAPE", [value[1:] for value in values]
        token: dict = {attr: values[0] if len(values) == 1 else {"IN": values}}
        if optional:
            token["OP"] = "?"
        pattern.append(token)
    if not pattern or "OP" in pattern[0] or "OP" in pattern[-1]:
        raise ValueError(f"a phrase must start and end with a required token: {words!r}")
    return pattern


_EVIDENCE = ("category:", "concept:")


class RedFlagDetector:
    """Finds each red-flag category at most once per doc, in text order."""

    def __init__(self, rules: Rules, validate: bool = False) -> None:
        self._validate = validate
        self._window = int(rules["window"])
        self._default_cues = list(rules["default_cues"])
        self._categories = rules["categories"]
        terms = rules["terms"]
        breaks = list(rules["clause_breaks"])
        gap_stops = [word for word in breaks if " " not in word]
        gap_stops += [word for word in rules.get("gap_stops", []) if word not in gap_stops]
        self._patterns: Dict[str, List[TokenPattern]] = {}

        def add(key: str, phrases: List[str]) -> None:
            patterns = self._patterns.setdefault(key, [])
            for phrase in phrases:
                try:
                    patterns.extend(compile_phrase(w, gap_stops) for w in expand(phrase, terms))
                except ValueError as error:
                    raise ValueError(f"{key}: {phrase!r}: {error}") from error

        # Each break phrase under its own key, so that cue groups can reach across some.
        self._break_names = {" ".join(b.split()): f"break:{' '.join(b.split())}" for b in breaks}
        for phrase, key in self._break_names.items():
            add(key, [phrase])
        self._cue_reach: Dict[str, Tuple[int, Set[str]]] = {}
        add("pseudo", rules["pseudo_cues"])
        add("ignore", rules["ignore"])
        for group, sides in rules["cues"].items():
            across = {self._break_names[" ".join(b.split())] for b in sides.get("across", [])}
            self._cue_reach[group] = (int(sides.get("window", self._window)), across)
            for side in ("before", "after"):
                add(f"{side}:{group}", sides.get(side, []))
        for concept, phrases in rules["concepts"].items():
            add(f"concept:{concept}", phrases)
        for category, spec in self._categories.items():
            if spec.get("patterns"):
                add(f"category:{category}", spec["patterns"])
        # Every combination names a concept in `all`, so a doc without a match of any
        # category pattern or concept shows no category (``find`` stops early).
        self._early_exit = all(
            combination["all"]
            for spec in self._categories.values()
            for combination in spec.get("combinations", [])
        )
        self._matcher: IndexedMatcher | None = None
        self._vocab: Vocab | None = None

    @property
    def pattern_count(self) -> int:
        return sum(len(patterns) for patterns in self._patterns.values())

    def _matcher_for(self, vocab: Vocab) -> IndexedMatcher:
        if self._matcher is None or self._vocab is not vocab:
            self._matcher = IndexedMatcher(vocab, self._patterns, self._validate)
            self._vocab = vocab
        return self._matcher

    def find(self, doc: Doc) -> List[Finding]:
        found: Dict[str, List[Span]] = {}
        for key, start, end in self._matcher_for(doc.vocab)(doc):
            found.setdefault(key, []).append((start, end))
        if self._early_exit and not any(key.startswith(_EVIDENCE) for key in found):
            return []  # no category pattern or concept matched: nothing can be found
        # Each clause-break token, with the break phrases that cover it.
        break_kinds: Dict[int, Set[str]] = {}
        for key, spans in found.items():
            if key.startswith("break:"):
                for start, end in spans:
                    for i in range(start, end):
                        break_kinds.setdefault(i, set()).add(key)
        breaks = set(break_kinds)
        pseudo = found.get("pseudo", [])
        ignored = found.get("ignore", [])
        cues = [
            (key.split(":", 1), cue)
            for key, spans in found.items()
            if key.startswith(("before:", "after:"))
            for cue in spans
            if not _overlaps_any(cue, pseudo)
        ]

        def discounted(span: Span) -> Set[str]:
            groups = set()
            for (side, group), (cue_start, cue_end) in cues:
                if group in groups:
                    continue
                window, across = self._cue_reach[group]
                # The tokens between the cue and the match, which must stay in one clause
                # (apart from the breaks the group reaches across).
                gap = range(cue_end, span[0]) if side == "before" else range(span[1], cue_start)
                if gap.start > gap.stop or len(gap) > window:
                    continue
                if all(i not in breaks or break_kinds[i] <= across for i in gap):
                    groups.add(group)
            return groups

        known: Dict[Tuple[str, FrozenSet[str]], List[Span]] = {}

        def evidence(key: str, cue_groups: FrozenSet[str]) -> List[Span]:
            """The spans of ``key`` no cue of ``cue_groups`` discounts, sorted (worked
            out once per doc and key: categories share concepts and cue groups)."""
            if (key, cue_groups) not in known:
                known[key, cue_groups] = sorted(
                    span
                    for span in found.get(key, [])
                    if not _overlaps_any(span, ignored) and not discounted(span) & cue_groups
                )
            return known[key, cue_groups]

        findings = []
        for category, spec in self._categories.items():
            cue_groups = frozenset(spec.get("cues", self._default_cues))
            candidates = evidence(f"category:{category}", cue_groups)[:1]
            for combination in spec.get("combinations", []):
                mentioned = combination.get("mentioned", [])
                if not all(found.get(f"concept:{name}") for name in mentioned):
                    continue
                groups = frozenset(combination.get("cues", cue_groups))
                spans = [evidence(f"concept:{name}", groups) for name in combination["all"]]
                joined = _combine(
                    spans,
                    combination.get("within"),
                    breaks if combination.get("same_clause") else set(),
                )
                if joined:
                    candidates.append(joined)
            if candidates:
                start, end = min(candidates)
                findings.append(Finding(category, start, end))
        return sorted(findings, key=lambda finding: (finding.start, finding.category))


class IndexedMatcher:
    """The matches one spaCy ``Matcher`` holding every pattern would find, found faster.

    spaCy's ``Matcher`` tries every pattern at every token, so with thousands of
    patterns a message costs about 10 ms however few of its words the rules know.
    Every pattern starts and ends with a required token (``compile_phrase`` sees to
    it), so it can only match a doc that has a token its first token accepts and one
    its last token accepts. The patterns are therefore kept in small ``Matcher``
    objects, one per pair of word sets of first and last token (their ``LOWER`` or
    ``LEMMA`` values), and a doc runs only those whose both sets it meets; a pattern
    whose first or last token is anything else is not held back by that token. The
    words are compared as spaCy's string hashes, as the ``Matcher`` compares them.
    Each small matcher finds exactly what the big one finds for its patterns, and
    the big one's matches are a set of ``(key, start, end)``: ``__call__`` returns
    that set, sorted.
    """

    _INDEXED = ("LOWER", "LEMMA")

    def __init__(
        self, vocab: Vocab, patterns: Dict[str, List[TokenPattern]], validate: bool = False
    ) -> None:
        from spacy.matcher import Matcher

        # Needed word sets (first token's, last token's if another) -> key -> patterns.
        groups: Dict[Tuple[Words, ...], Dict[str, List[TokenPattern]]] = {}
        for key, key_patterns in patterns.items():
            for pattern in key_patterns:
                ends = (_words(pattern[0]), _words(pattern[-1]))
                needs = tuple(dict.fromkeys(words for words in ends if words is not None))
                groups.setdefault(needs, {}).setdefault(key, []).append(pattern)
        # Each needed word set gets a number; per attribute, the string hash of a word
        # (what doc.to_array gives) -> the numbers of the sets holding it.
        need_ids: Dict[Words, int] = {}
        self._need_of: Dict[str, Dict[int, List[int]]] = {attr: {} for attr in self._INDEXED}
        # Matchers that run on every doc; per first needed set, the matchers with it
        # and their second needed set (-1: none).
        self._always: List[Matcher] = []
        self._by_need: Dict[int, List[Tuple[Matcher, int]]] = {}
        # A matcher whose patterns use LEMMA: run on a doc without lemmas so that it
        # raises spaCy's own error, as the one big matcher would.
        self._lemma_matcher: Matcher | None = None
        for needs, group in groups.items():
            matcher = Matcher(vocab, validate=validate)
            for key, key_patterns in group.items():
                matcher.add(key, key_patterns)
            if any("LEMMA" in token for ps in group.values() for p in ps for token in p):
                self._lemma_matcher = self._lemma_matcher or matcher
            ids = []
            for words in needs:
                if words not in need_ids:
                    need_ids[words] = len(need_ids)
                    attr, values = words
                    for value in values:
                        word_needs = self._need_of[attr].setdefault(vocab.strings.add(value), [])
                        word_needs.append(need_ids[words])
                ids.append(need_ids[words])
            if not ids:
                self._always.append(matcher)
            else:
                second = ids[1] if len(ids) > 1 else -1
                self._by_need.setdefault(ids[0], []).append((matcher, second))
        self._keys = {vocab.strings.add(key): key for key in patterns}

    def matchers(self, doc: Doc) -> List[Matcher]:
        """The matchers whose patterns can match ``doc``, each once."""
        from spacy.attrs import LEMMA, LOWER

        present: Set[int] = set()
        if len(doc):
            values = doc.to_array([LOWER, LEMMA])
            for column, attr in enumerate(self._INDEXED):
                need_of = self._need_of[attr]
                for value in set(values[:, column].tolist()):
                    present.update(need_of.get(value, ()))
        chosen = list(self._always)
        for need in present:
            for matcher, second in self._by_need.get(need, ()):
                if second < 0 or second in present:
                    chosen.append(matcher)
        lemma = self._lemma_matcher
        if lemma is not None and not doc.has_annotation("LEMMA") and lemma not in chosen:
            chosen.append(lemma)
        return chosen

    def __call__(self, doc: Doc) -> List[Tuple[str, int, int]]:
        """Each ``(key, start, end)`` match once, sorted."""
        found: Set[Tuple[int, int, int]] = set()
        for matcher in self.matchers(doc):
            found.update(matcher(doc))
        keys = self._keys
        return sorted((keys[match_id], start, end) for match_id, start, end in found)


Words = Tuple[str, FrozenSet[str]]


def _words(token: dict) -> Words | None:
    """``(attr, words)`` when ``token`` (a required pattern token) accepts exactly the
    tokens whose ``LOWER`` or ``LEMMA`` is one of ``words``; None for any other token."""
    if "OP" in token or len(token) != 1:
        return None
    ((attr, value),) = token.items()
    if attr not in IndexedMatcher._INDEXED:
        return None
    if isinstance(value, str):
        return attr, frozenset([value])
    words = value.get("IN") if isinstance(value, dict) and list(value) == ["IN"] else None
    if isinstance(words, list) and all(isinstance(word, str) for word in words):
        return attr, frozenset(words)
    return None


def _overlaps_any(span: Span, others: List[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def _combine(spans: List[List[Span]], within: int | None, breaks: Set[int]) -> Span | None:
    """The first choice of one span per concept, at most ``within`` tokens apart (anywhere
    if ``within`` is None) with none of ``breaks`` between, as the span covering them all."""
    for choice in itertools.product(*spans):
        start = min(span[0] for span in choice)
        end = max(span[1] for span in choice)
        gap = max(s for s, _ in choice) - min(e for _, e in choice)
        if (within is None or gap <= within) and breaks.isdisjoint(range(start, end)):
            return start, end
    return None
