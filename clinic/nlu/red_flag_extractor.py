"""Red flags (emergency warning signs) as ``red_flag`` entities whose value is the category.

Runs the rules of ``clinic/nlu/red_flags.yml`` (see ``red_flag_rules``) on the
doc ``SpacyNLP`` already made, whatever intent wins: "i can't control my
bladder, what are your hours?" still yields ``red_flag: cauda_equina``. Each
category is reported once per message, spanning the words that first showed
it. Negated, hypothetical and long-past mentions ("no fever", "can it cause a
stroke?", "a car accident ten years ago") are not flags.

Two more things make it catch the sign however it is typed:

- Misspelt words of the rules ("numbess", "blader", "siezure") are put right by
  ``TypoNormaliser`` (``typos.py``) and the corrected text is parsed again; real
  English words are never changed.
- A sign spread over two messages ("my back is really bad", then "and i've had a
  fever since last night") is found by matching the previous user message and this
  one together: a category found only in the two together is reported for this one.

The rules are read from ``patterns`` when the model is trained and kept inside
the trained model (as Rasa's ``RegexEntityExtractor`` keeps its patterns), so a
model behaves the same wherever it runs; the file's contents are part of the
component's fingerprint, so a changed rule file means a retrained model.

Config (defaults shown)::

    - name: clinic.nlu.red_flag_extractor.RedFlagExtractor
      patterns: clinic/nlu/red_flags.yml   # relative to the project root
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.nlu.red_flag_rules import RedFlagDetector, Rules, load_rules
from clinic.nlu.typos import TypoNormaliser, english_vocabulary, lexicon_words

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENTITY = "red_flag"
PREVIOUS_CACHE_SIZE = 1024


def rule_phrases(rules: Rules) -> List[str]:
    """Every phrase of the rules that names a sign (cues and idioms left out)."""
    phrases = list(rules["terms"].values())
    phrases += [phrase for phrases in rules["concepts"].values() for phrase in phrases]
    for category in rules["categories"].values():
        phrases += category.get("patterns", [])
    return phrases


RULES_FILE = "red_flags.yml"


def rules_path(config: Dict[str, Any]) -> Path:
    path = Path(config.get("patterns") or RedFlagExtractor.get_default_config()["patterns"])
    return path if path.is_absolute() else PROJECT_ROOT / path


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True, model_from="SpacyNLP"
)
class RedFlagExtractor(GraphComponent, EntityExtractorMixin):
    """Reports each red-flag category found in a message as a ``red_flag`` entity."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"patterns": "clinic/nlu/red_flags.yml"}

    def __init__(
        self,
        config: Dict[str, Any],
        rules_file: Path | None = None,
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
    ) -> None:
        self._rules_file = rules_file or rules_path(config)
        self._storage = model_storage
        self._resource = resource
        rules = load_rules(self._rules_file)
        # The spaCy Matcher is built on the first doc's vocab, not here.
        self._detector = RedFlagDetector(rules)
        self._typos = TypoNormaliser(lexicon_words(rule_phrases(rules)), english_vocabulary())
        # lower-cased message -> (normalised text, categories alone); see ``_previous``
        self._previous_cache: Dict[str, Tuple[str, FrozenSet[str]]] = {}
        self._previous_nlp: Language | None = None

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> str | None:
        """The rule file's contents: a changed file means a retrained model."""
        path = rules_path(config)
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagExtractor:
        return cls(config, None, model_storage, resource)

    def train(self, training_data: TrainingData, model: SpacyModel | None = None) -> Resource:
        """Keeps the rule file inside the trained model (``model``: the graph passes the
        spaCy pipeline to every component it serves; the rules do not need it)."""
        if self._storage is None or self._resource is None:
            raise ValueError("RedFlagExtractor.train needs the model storage it was created with")
        with self._storage.write_to(self._resource) as directory:
            shutil.copyfile(self._rules_file, directory / RULES_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RedFlagExtractor:
        with model_storage.read_from(resource) as directory:
            # The rules are small: parse them while the model's directory exists.
            return cls(config, directory / RULES_FILE, model_storage, resource)

    def normalised(self, doc: Doc, nlp: Language | None) -> Doc:
        """``doc``, parsed again with its misspelt red-flag words put right."""
        corrections = self._typos.corrections([token.lower_ for token in doc])
        if not corrections or nlp is None:
            return doc
        text = "".join(corrections.get(token.i, token.lower_) + token.whitespace_ for token in doc)
        return nlp(text)

    def process(
        self,
        messages: List[Message],
        model: SpacyModel | None = None,
        tracker: DialogueStateTracker | None = None,
    ) -> List[Message]:
        nlp = model.model if model is not None else None
        previous = _previous_user_text(tracker)
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT])
            if doc is None:
                continue
            found = self.entities(doc, nlp, previous)
            if found:
                message.set(
                    ENTITIES,
                    message.get(ENTITIES, []) + self.add_extractor_name(found),
                    add_to_output=True,
                )
        return messages

    def entities(
        self, doc: Doc, nlp: Language | None, previous: str | None = None
    ) -> List[Dict[str, Any]]:
        """``red_flag`` entities of a message, given the user's message before it.

        ``doc``: ``nlp``'s doc of the message (lower-cased, as ``SpacyNLP`` makes it).
        """
        normalised = self.normalised(doc, nlp)
        found = self._entities(doc, normalised)
        if nlp is not None and doc.vocab is nlp.vocab and doc.text == doc.text.lower():
            # This message is likely the next one's previous: what ``_previous`` would
            # work out for it is at hand (``doc`` is ``nlp``'s doc of this text).
            categories = frozenset(entity[ENTITY_ATTRIBUTE_VALUE] for entity in found)
            self._remember(nlp, doc.text, (normalised.text, categories))
        if previous and nlp is not None:
            found += self._entities_over_two(previous, normalised, doc, nlp, found)
        return found

    def _entities(self, doc: Doc, normalised: Doc) -> List[Dict[str, Any]]:
        same_tokens = len(normalised) == len(doc)
        entities = []
        for finding in self._detector.find(normalised):
            if same_tokens:  # a corrected word is one token: offsets from the text as written
                span = doc[finding.start : finding.end]
                entities.append(_entity(finding.category, span.start_char, span.end_char))
            else:
                entities.append(_entity(finding.category, 0, len(doc.text)))
        return entities

    def _entities_over_two(
        self,
        previous: str,
        normalised: Doc,
        doc: Doc,
        nlp: Language,
        found: List[Dict[str, Any]],
    ) -> List[Dict[str, Any]]:
        """Categories shown only by the previous user message and this one together."""
        before, alone = self._previous(previous, nlp)
        alone = alone | {entity[ENTITY_ATTRIBUTE_VALUE] for entity in found}
        both = nlp(f"{before} . {normalised.text}")
        return [
            _entity(finding.category, 0, len(doc.text))
            for finding in self._detector.find(both)
            if finding.category not in alone
        ]

    def _previous(self, previous: str, nlp: Language) -> Tuple[str, FrozenSet[str]]:
        """The previous message's normalised text and the categories it shows alone.

        Kept for the last ``PREVIOUS_CACHE_SIZE`` messages (``entities`` stores each
        message it sees): in a conversation each message is the next one's previous,
        so it is parsed and matched once, not once more with the message after it.
        Both depend only on the lower-cased text and the pipeline (a different
        pipeline empties the cache).
        """
        text = previous.lower()
        cached = self._previous_cache.get(text) if self._previous_nlp is nlp else None
        if cached is None:
            before = self.normalised(nlp(text), nlp)
            alone = frozenset(finding.category for finding in self._detector.find(before))
            cached = (before.text, alone)
        self._remember(nlp, text, cached)
        return cached

    def _remember(self, nlp: Language, text: str, analysis: Tuple[str, FrozenSet[str]]) -> None:
        if self._previous_nlp is not nlp:
            self._previous_cache.clear()
            self._previous_nlp = nlp
        self._previous_cache.pop(text, None)
        self._previous_cache[text] = analysis  # the newest last
        while len(self._previous_cache) > PREVIOUS_CACHE_SIZE:
            del self._previous_cache[next(iter(self._previous_cache))]


def _entity(category: str, start: int, end: int) -> Dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: ENTITY,
        ENTITY_ATTRIBUTE_VALUE: category,
        ENTITY_ATTRIBUTE_START: start,
        ENTITY_ATTRIBUTE_END: end,
        "confidence_entity": 1.0,
    }


def _previous_user_text(tracker: DialogueStateTracker | None) -> str | None:
    """The text of the user's message before this one, if the conversation has one."""
    if tracker is None or tracker.latest_message is None:
        return None
    text = tracker.latest_message.text
    if not text or text.startswith("/"):
        return None
    return text
