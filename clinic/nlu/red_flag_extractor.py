"""Red flags (emergency warning signs) as ``red_flag`` entities whose value is the category.

Runs the rules of ``clinic/nlu/red_flags.yml`` (see ``red_flag_rules``) on the
doc ``SpacyNLP`` already made, whatever intent wins: "i can't control my
bladder, what are your hours?" still yields ``red_flag: cauda_equina``. Each
category is reported once per message, spanning the words that first showed
it. Negated, hypothetical and long-past mentions ("no fever", "can it cause a
stroke?", "a car accident ten years ago") are not flags.

Config (defaults shown)::

    - name: clinic.nlu.red_flag_extractor.RedFlagExtractor
      patterns: clinic/nlu/red_flags.yml   # relative to the project root
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from clinic.nlu.red_flag_rules import RedFlagDetector, load_rules

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENTITY = "red_flag"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class RedFlagExtractor(GraphComponent, EntityExtractorMixin):
    """Reports each red-flag category found in a message as a ``red_flag`` entity."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"patterns": "clinic/nlu/red_flags.yml"}

    def __init__(self, config: Dict[str, Any]) -> None:
        path = Path(config.get("patterns") or self.get_default_config()["patterns"])
        if not path.is_absolute():
            path = PROJECT_ROOT / path
        # The spaCy Matcher is built on the first doc's vocab, not here.
        self._detector = RedFlagDetector(load_rules(path))

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagExtractor:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT])
            if doc is None:
                continue
            found = []
            for finding in self._detector.find(doc):
                span = doc[finding.start : finding.end]
                found.append(
                    {
                        ENTITY_ATTRIBUTE_TYPE: ENTITY,
                        ENTITY_ATTRIBUTE_VALUE: finding.category,
                        ENTITY_ATTRIBUTE_START: span.start_char,
                        ENTITY_ATTRIBUTE_END: span.end_char,
                        "confidence_entity": 1.0,
                    }
                )
            if found:
                message.set(
                    ENTITIES,
                    message.get(ENTITIES, []) + self.add_extractor_name(found),
                    add_to_output=True,
                )
        return messages
