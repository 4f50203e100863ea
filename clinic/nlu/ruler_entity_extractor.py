"""Entities from the entity ruler of the project's spaCy pipeline.

Unlike Rasa's ``SpacyEntityExtractor`` it reuses the doc ``SpacyNLP`` already
made (no second parse) and reports each span's canonical value: the ``id`` of
the pattern that matched (``"lower back"`` -> ``back``), falling back to the
span text for patterns without an id.

Config (defaults shown)::

    - name: clinic.nlu.ruler_entity_extractor.RulerEntityExtractor
      labels: null   # entity labels to report; null reports every ruler label
"""

from __future__ import annotations

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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class RulerEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Reports the entity ruler's spans as Rasa entities with canonical values."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"labels": None}

    def __init__(self, config: Dict[str, Any]) -> None:
        labels: List[str] | None = config.get("labels")
        self._labels = set(labels) if labels else None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RulerEntityExtractor:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT])
            if doc is None:
                continue
            found = [
                {
                    ENTITY_ATTRIBUTE_TYPE: ent.label_,
                    ENTITY_ATTRIBUTE_VALUE: ent.ent_id_ or ent.text,
                    ENTITY_ATTRIBUTE_START: ent.start_char,
                    ENTITY_ATTRIBUTE_END: ent.end_char,
                    "confidence_entity": 1.0,
                }
                for ent in doc.ents
                if self._labels is None or ent.label_ in self._labels
            ]
            if found:
                message.set(
                    ENTITIES,
                    message.get(ENTITIES, []) + self.add_extractor_name(found),
                    add_to_output=True,
                )
        return messages
