"""Finds the fact(s) of the clinic's articles that a question asks for.

Runs after the intent classifiers. A second model of the same design as
``LinearIntentClassifier`` (``build_pipeline``: TF-IDF word and character n-grams, a
one-vs-rest logistic regression, predicted by ``LinearTextModel``) learns one class per
fact of the fact base (``data/facts/facts.yml``, from each fact's paraphrase questions)
and three more:

- ``_broad``: broad questions ("tell me about dry needling"), left to the intent's
  overview answer;
- ``_not_covered``: clear clinic questions the articles do not answer ("how many needles
  do you use?");
- ``_none``: everything else the assistant hears, taken from the NLU data: greetings,
  answers, bookings, clinic questions, complaints that are not questions ("my neck has
  hurt for 3 weeks") and a sample of the off-topic examples.

A message is split into its asks ("is it safe, and how long does the soreness last?": at
a question mark or at "and"/"also"/"plus" before a question word). With two asks or more,
each ask whose best class is a fact (or ``_not_covered``) at ``segment_threshold`` or
more is kept; otherwise the whole message's best class counts when it reaches
``threshold``. Each finding becomes an entity ``fact`` (value: the fact id, or
``not_covered``; its span: the ask; ``area``: the fact's body area) that only
``FactAnswerPolicy`` and ``action_answer_facts`` read. A question about a complaint
(a complaint intent, asked, not told) that no class placed gets the best fact about that
area, so it never starts the symptom guide's safety questions. A clear question with a word of the
clinic's care that is left as off-topic or unsure by the intent classifier and placed by
no class also gets ``not_covered``: never "I didn't understand" for a clinic question.

Config (defaults shown)::

    - name: clinic.nlu.fact_retriever.FactRetriever
      facts: data/facts/facts.yml              # the fact base
      other_questions: data/facts/other_questions.yml  # broad, not covered, clinic words
      threshold: 0.3          # best class of the whole message, from this probability on
      segment_threshold: 0.3  # best class of one ask of several
      context: 0.5            # weight of the whole message's probabilities in each ask's
      out_of_scope_sample: 5  # every n-th out_of_scope example joins _none
      C: 100
      word_ngrams: [1, 2]
      char_ngrams: [1, 4]
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Sequence, Tuple

import joblib
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    INTENT_NAME_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic import facts as facts_module
from clinic.booking import slot_answer
from clinic.booking.slot_answer import is_question
from clinic.facts import (
    COMPLAINT_AREAS,
    FACT_ENTITY,
    NOT_COVERED,
    QUESTION_WORDS,
    asks_something,
    reports_complaint,
)
from clinic.nlu import linear_intent_classifier, linear_text_model
from clinic.nlu.linear_intent_classifier import build_pipeline
from clinic.nlu.linear_text_model import LinearTextModel, fit_one_vs_rest, predict_proba

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODEL_FILE = "fact_retriever.joblib"
BROAD, NONE, NOT_COVERED_CLASS = "_broad", "_none", "_not_covered"
# Intents whose examples are never a fact question (all of them join _none).
NONE_INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "affirm",
        "deny",
        "thank",
        "bot_challenge",
        "book_appointment",
        "ask_clinic_info",
        "request_human",
        "inform",
        "stop",
    }
)
# Intents whose examples join _none unless they are questions ("can it help my back?").
REPORT_INTENTS = frozenset({"back_pain", "neck_pain", "headache", "feeling_low"})
OUT_OF_SCOPE = "out_of_scope"
BODY_PART = "body_part"  # RulerEntityExtractor's back, neck, head, shoulder
# After one of these the intent classifier placed nothing, or placed a topic the articles
# say nothing about (whether it suits a pregnancy, blood thinners, a pacemaker): a clinic
# question there that no fact answers gets the honest not-covered reply.
SUITABILITY = "ask_suitability"
UNPLACED_INTENTS = frozenset({"nlu_fallback", OUT_OF_SCOPE, SUITABILITY, None})
# A new ask starts after a question mark, a semicolon, or a comma or "and"/"also"/"plus"/"&"
# (with an optional comma) that a question word follows, perhaps after a preposition ("and
# in what decade?", "does it hurt, how many sessions will i need"). After a bare comma only
# when a question comes before it: "i get headaches from my neck, can it help?" is one ask.
ASK_BOUNDARY = re.compile(
    r"\?+\s*|;\s*|(?:,\s*|,?\s+(?:and\s+also|and|also|plus|&)\s+)"
    r"(?=(?:(?:in|for|at|by|from|to|since|until)\s+)?(?:" + QUESTION_WORDS + r")\b)",
    re.IGNORECASE,
)


LONE_QUESTION = re.compile(r"(?:when|why|where|how|who|what)\W*", re.IGNORECASE)
# A short follow-up ask that needs the ask before it: "when", "how soon", "why".
FOLLOW_UP = re.compile(r"(?:" + QUESTION_WORDS + r")(?:\s+\S+)?\W*", re.IGNORECASE)


# "and" left at the start of an ask after a question mark ("why dry? and does it hurt?")
LEADING_CONJUNCTION = re.compile(r"^(?:and\s+also|and|also|plus|&)\s+", re.IGNORECASE)


def word_starts(words: Sequence[str], whole: bool = False) -> re.Pattern[str] | None:
    """One pattern for ``words`` at the start of a word (``whole``: as whole words, plural
    too), any case; None for no words."""
    if not words:
        return None
    end = r"(?:s|es)?\b" if whole else ""
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(r"\b(?:" + alternatives + ")" + end, re.IGNORECASE)


class Fact(NamedTuple):
    id: str
    area: str | None


class Finding(NamedTuple):
    value: str  # a fact id or NOT_COVERED
    start: int
    end: int
    confidence: float


def _path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def read_facts(path: Path) -> List[Dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or []


def read_other_questions(path: Path) -> Dict[str, List[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {key: [str(item) for item in data.get(key) or []] for key in data}


def asks(text: str) -> List[Tuple[int, int]]:
    """The spans of the asks in ``text`` (the whole text when it is one ask). A lone
    question word is an ask too ("who invented it and when?")."""
    spans: List[Tuple[int, int]] = []
    start = 0
    for match in ASK_BOUNDARY.finditer(text):
        if match.group().strip() == "," and not is_question(text[start : match.start()]):
            continue
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    kept = []
    for begin, end in spans:
        piece = text[begin:end]
        stripped = LEADING_CONJUNCTION.sub("", piece.strip(" ,.!"))
        words = stripped.split()
        if not words or (len(words) < 2 and not LONE_QUESTION.fullmatch(stripped)):
            continue
        begin += piece.find(stripped)
        kept.append((begin, begin + len(stripped)))
    return kept or [(0, len(text))]


def follow_up(piece: str, before: str) -> str:
    """A short follow-up ask with the words of the ask before it, its question word left
    out: "when" after "who invented it" is read as "when invented it"."""
    if not FOLLOW_UP.fullmatch(piece):
        return piece
    words = before.split()
    if words and words[0].lower() in QUESTION_WORDS.split("|"):
        words = words[1:]
    return " ".join([piece.rstrip("?!. "), *words])


def training_examples(
    facts: List[Dict[str, Any]],
    other: Dict[str, List[str]],
    intent_examples: Sequence[Tuple[str, str]],
    out_of_scope_sample: int,
) -> Tuple[List[str], List[str]]:
    """Texts and labels: the facts' questions, broad and not-covered questions, and the
    NLU data's other examples as _none."""
    texts: List[str] = []
    labels: List[str] = []
    for fact in facts:
        for question in fact.get("questions") or []:
            texts.append(str(question))
            labels.append(str(fact["id"]))
    for label, key in ((BROAD, "broad"), (NOT_COVERED_CLASS, "not_covered")):
        for question in other.get(key) or []:
            texts.append(question)
            labels.append(label)
    out_of_scope_seen = 0
    for text, intent in intent_examples:
        if intent == OUT_OF_SCOPE:
            out_of_scope_seen += 1
            if out_of_scope_seen % max(1, out_of_scope_sample):
                continue
        elif intent in REPORT_INTENTS:
            if is_question(text):
                continue
        elif intent not in NONE_INTENTS:
            continue
        texts.append(text)
        labels.append(NONE)
    return [text.lower() for text in texts], labels


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class FactRetriever(GraphComponent, EntityExtractorMixin):
    """Marks a message with the article facts it asks for (entity ``fact``)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "facts": "data/facts/facts.yml",
            "other_questions": "data/facts/other_questions.yml",
            "threshold": 0.3,
            "segment_threshold": 0.3,
            "context": 0.5,
            "out_of_scope_sample": 5,
            "C": 100.0,
            "word_ngrams": [1, 2],
            "char_ngrams": [1, 4],
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["sklearn", "joblib"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> str | None:
        """The fact base, the other questions and the code the model depends on (its
        pipeline, the question test that picks complaints for "none"): a change to any of
        them retrains (Rasa's fingerprint has only this class's own source)."""
        merged = {**cls.get_default_config(), **config}
        digest = hashlib.sha256(Path(__file__).read_bytes())
        modules = (linear_text_model, linear_intent_classifier, slot_answer, facts_module)
        for module in modules:
            digest.update(Path(str(module.__file__)).read_bytes())
        digest.update(slot_answer.WORDS_FILE.read_bytes())
        for key in ("facts", "other_questions"):
            path = _path(str(merged[key]))
            digest.update(path.read_bytes() if path.exists() else b"missing")
        return digest.hexdigest()

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Dict[str, Any] | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._set_model(model)

    def _set_model(self, model: Dict[str, Any] | None) -> None:
        self._model = model
        self._pipeline = model["pipeline"] if model else None
        self._fast = LinearTextModel.wrap(self._pipeline) if self._pipeline is not None else None
        self._facts: Dict[str, Fact] = {
            fact_id: Fact(fact_id, area) for fact_id, area in (model or {}).get("areas", {}).items()
        }
        self._clinic_words = word_starts((model or {}).get("clinic_words") or [])
        self._other_body_parts = word_starts(
            (model or {}).get("other_body_parts") or [], whole=True
        )

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FactRetriever:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        facts = read_facts(_path(str(self._config["facts"])))
        other = read_other_questions(_path(str(self._config["other_questions"])))
        examples = [
            (e.get(TEXT), e.get(INTENT)) for e in training_data.intent_examples if e.get(TEXT)
        ]
        texts, labels = training_examples(
            facts, other, examples, int(self._config["out_of_scope_sample"])
        )
        pipeline = build_pipeline(
            c=float(self._config["C"]),
            word_ngrams=self._config["word_ngrams"],
            char_ngrams=self._config["char_ngrams"],
        )
        fit_one_vs_rest(pipeline, texts, labels)
        model = {
            "pipeline": pipeline,
            "areas": {str(fact["id"]): fact.get("area") for fact in facts},
            "clinic_words": other.get("clinic_words") or [],
            "other_body_parts": other.get("other_body_parts") or [],
        }
        self._set_model(model)
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FactRetriever:
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            model = None  # not trained (e.g. a core-only model)
        return cls(config, model_storage, resource, model)

    def _probabilities(self, texts: List[str]) -> Any:
        return predict_proba(self._pipeline, self._fast, [t.lower() for t in texts])

    def find(self, text: str, intent: str | None = None) -> List[Finding]:
        """The facts ``text`` asks for, in the order asked (``not_covered`` for an ask the
        articles do not answer); [] for a broad question or no fact question.

        Each ask of several is scored by its own probabilities plus ``context`` times the
        whole message's, among the classes no earlier ask took. A short follow-up ("and
        when?") is read with the words of the ask before it ("when invented it")."""
        if self._pipeline is None or not text.strip() or text.lstrip().startswith("/"):
            return []
        spans = asks(text)
        written = [text[start:end] for start, end in spans]
        pieces = [
            follow_up(piece, written[number - 1]) if number else piece
            for number, piece in enumerate(written)
        ]
        rows = self._probabilities([text] + (pieces if len(spans) > 1 else []))
        names = [str(name) for name in self._pipeline.classes_]
        whole = rows[0]
        findings: List[Finding] = []
        if len(spans) > 1:
            read_with_before = [piece != w for piece, w in zip(pieces, written, strict=True)]
            findings = self._asks(spans, read_with_before, rows[1:], whole, names)
        if not findings:
            index = int(whole.argmax())
            label, p = names[index], float(whole[index])
            value = self._value(label)
            if value and p >= float(self._config["threshold"]):
                findings = [Finding(value, 0, len(text), p)]
            elif (label != BROAD or intent == SUITABILITY) and self._unplaced_clinic_question(
                text, intent
            ):
                # (whether it suits someone is never in the articles, broad or not)
                findings = [Finding(NOT_COVERED, 0, len(text), p)]
            elif label != BROAD:
                findings = self._about_complaint(text, intent, names, whole)
        return findings

    def _asks(
        self,
        spans: List[Tuple[int, int]],
        read_with_before: List[bool],
        rows: Any,
        whole: Any,
        names: List[str],
    ) -> List[Finding]:
        """The finding of each ask of several, or [] when fewer than two asks found one."""
        bar = float(self._config["segment_threshold"])
        context = float(self._config["context"])
        findings: List[Finding] = []
        for (start, end), follows, row in zip(spans, read_with_before, rows, strict=True):
            broad = names[int(row.argmax())] == BROAD
            # a broad ask is read on its own: the whole message's best fact is the
            # other ask's ("is it safe and will I be sore?")
            scores = row if broad else row + context * whole
            taken = {f.value for f in findings}
            allowed = [i for i, name in enumerate(names) if self._value(name) not in (None, *taken)]
            best = max(allowed, key=lambda i: scores[i])
            score = float(scores[best]) / (1 if broad else 1 + context)
            if broad or follows:
                # a broad ask beside another, or a follow-up read with the ask before it:
                # its best fact, read among the facts only
                score = float(scores[best] / sum(scores[i] for i in allowed))
            if score >= bar:
                findings.append(Finding(self._value(names[best]) or "", start, end, score))
        return findings if len(findings) >= 2 else []

    def _about_complaint(
        self, text: str, intent: str | None, names: List[str], probabilities: Any
    ) -> List[Finding]:
        """A question about a complaint ("what makes a bad back so common?") that no class
        placed: the best fact about that area, so the question is answered (and the guide
        offered) instead of starting the guide's safety questions."""
        area = COMPLAINT_AREAS.get(intent or "")
        if area is None or not asks_something(text) or reports_complaint(text, intent):
            return []
        about = [
            i
            for i, name in enumerate(names)
            if name in self._facts and self._facts[name].area == area
        ]
        if not about:
            return []
        best = max(about, key=lambda i: probabilities[i])
        return [Finding(names[best], 0, len(text), float(probabilities[best]))]

    def _for_other_body_part(
        self, findings: List[Finding], text: str, areas: bool
    ) -> List[Finding]:
        """A fact about an area of the articles (back, neck, head) is no answer for a part of
        the body they do not cover ("can it help my knee?"): not covered."""
        if areas or self._other_body_parts is None or not self._other_body_parts.search(text):
            return findings
        return [
            finding._replace(value=NOT_COVERED)
            if finding.value in self._facts and self._facts[finding.value].area
            else finding
            for finding in findings
        ]

    def _value(self, label: str) -> str | None:
        if label == NOT_COVERED_CLASS:
            return NOT_COVERED
        return label if label in self._facts else None

    def _unplaced_clinic_question(self, text: str, intent: str | None) -> bool:
        return (
            intent in UNPLACED_INTENTS
            and self._clinic_words is not None
            and bool(self._clinic_words.search(text))
            and is_question(text)
        )

    def process(self, messages: List[Message]) -> List[Message]:
        if self._pipeline is None:
            return messages
        for message in messages:
            text: str = message.get(TEXT) or ""
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            areas = any(
                e.get(ENTITY_ATTRIBUTE_TYPE) == BODY_PART for e in message.get(ENTITIES, [])
            )
            findings = self._for_other_body_part(self.find(text, intent), text, areas)
            if not findings:
                continue
            entities = [
                {
                    ENTITY_ATTRIBUTE_TYPE: FACT_ENTITY,
                    ENTITY_ATTRIBUTE_VALUE: finding.value,
                    ENTITY_ATTRIBUTE_START: finding.start,
                    ENTITY_ATTRIBUTE_END: finding.end,
                    "confidence_entity": round(finding.confidence, 3),
                    "area": self._facts[finding.value].area
                    if finding.value in self._facts
                    else None,
                }
                for finding in findings
            ]
            message.set(
                ENTITIES,
                message.get(ENTITIES, []) + self.add_extractor_name(entities),
                add_to_output=True,
            )
        return messages
