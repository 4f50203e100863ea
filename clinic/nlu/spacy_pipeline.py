"""Builds the project's own English spaCy pipeline (no pretrained model needed).

blank English tokenizer -> lookup lemmatizer (tables from spacy-lookups-data)
-> entity ruler (patterns from ``clinic/nlu/patterns/*.jsonl``).

Rasa's ``SpacyNLP`` loads the result from disk (see ``config.yml``). Run with
``python -m clinic.nlu.spacy_pipeline OUTPUT_DIR`` (``make spacy`` does it).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, List

import srsly

if TYPE_CHECKING:
    from spacy.language import Language

PATTERNS_DIR = Path(__file__).resolve().parent / "patterns"
PIPELINE_NAME = "en_clinic"


def read_patterns(patterns_dir: Path = PATTERNS_DIR) -> List[dict]:
    """All entity-ruler patterns, from every JSONL file in ``patterns_dir``."""
    patterns: List[dict] = []
    for path in sorted(patterns_dir.glob("*.jsonl")):
        patterns.extend(srsly.read_jsonl(path))
    return patterns


def read_lemma_overrides(patterns_dir: Path = PATTERNS_DIR) -> dict:
    """Word -> lemma corrections applied on top of the lookup table."""
    overrides = srsly.read_json(patterns_dir / "lemma_overrides.json")
    return {word: lemma for word, lemma in overrides.items() if not word.startswith("_")}


def build_pipeline(patterns: Iterable[dict]) -> Language:
    """A blank English pipeline with lookup lemmas and the clinic's entity ruler."""
    import spacy

    nlp = spacy.blank("en")
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["description"] = "Blank English + lookup lemmatizer + clinic entity ruler"
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    # Token patterns match on LEMMA, so the ruler must run after the lemmatizer.
    ruler = nlp.add_pipe("entity_ruler", config={"validate": True})
    nlp.initialize()  # loads the lemma lookup table into the pipeline
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    for word, lemma in read_lemma_overrides().items():
        table.set(word, lemma)
    ruler.add_patterns(list(patterns))
    return nlp


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="directory to write the pipeline to")
    args = parser.parse_args(argv)
    nlp = build_pipeline(read_patterns())
    args.output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(args.output)
    print(f"spaCy pipeline {PIPELINE_NAME} ({', '.join(nlp.pipe_names)}) written to {args.output}")


if __name__ == "__main__":
    main()
