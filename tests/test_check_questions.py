"""scripts/check_questions.py judges replies as the issue asks, and the development
questions are in its format. No server needed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from scripts.check_questions import (
    KINDS,
    article_titles,
    domain_texts,
    is_right,
    load_questions,
    names_article,
)

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "content" / "questions_dev.yml"


def test_the_development_questions_have_the_kinds_the_issue_asks_for():
    questions = load_questions(DEV)
    kinds = Counter(q["kind"] for q in questions)
    assert len(questions) >= 100
    assert kinds["compound"] >= 20 and kinds["condition"] >= 20 and kinds["not_covered"] >= 15
    assert set(kinds) <= set(KINDS)
    for question in questions:
        if question["kind"] == "compound":
            assert len(question["facts"]) >= 2, question["question"]
        if question["kind"] == "not_covered":
            assert question["article"] == "none", question["question"]


def test_the_development_questions_are_not_the_fact_base_paraphrases():
    import yaml

    facts = yaml.safe_load((ROOT / "data" / "facts" / "facts.yml").read_text("utf-8"))
    paraphrases = {q.strip(" ?").lower() for fact in facts for q in fact["questions"]}
    copied = [q["question"] for q in load_questions(DEV)]
    assert [q for q in copied if q.strip(" ?").lower() in paraphrases] == []


def test_every_fact_entry_must_be_matched_by_one_of_its_alternatives():
    question = {"question": "q", "kind": "compound", "facts": [["Travell"], ["1940s", "1940"]]}
    texts = domain_texts()
    assert is_right(question, {"text": "Dr. Janet Travell, in the 1940s.", "sources": []}, texts)
    assert not is_right(question, {"text": "Dr. Janet Travell.", "sources": []}, texts)


def test_not_covered_is_right_only_with_the_honest_reply_and_no_fact():
    texts = domain_texts()
    question = {"question": "q", "kind": "not_covered", "facts": [], "article": "none"}
    honest = texts["utter_fact_not_covered"]
    assert is_right(question, {"text": honest, "sources": []}, texts)
    invented = honest + "\n" + texts["utter_fact_founder"]
    assert not is_right(question, {"text": invented, "sources": []}, texts)
    assert not is_right(question, {"text": texts["utter_default"], "sources": []}, texts)


@pytest.mark.parametrize(
    ("article", "sources", "named"),
    [
        ("how-dry-needling-helps-back-neck-headaches.txt", ["B"], True),
        ("dry-needling-alternative-approach-back-pain.txt", ["B"], False),
        ("both", ["A"], True),
        ("none", [], True),
        ("none", ["A"], False),
    ],
)
def test_the_source_line_is_checked_against_the_article(article, sources, named):
    titles = article_titles()
    by_letter = {
        "A": titles["dry-needling-alternative-approach-back-pain.txt"],
        "B": titles["how-dry-needling-helps-back-neck-headaches.txt"],
    }
    reply = {"text": "", "sources": [by_letter[s] for s in sources]}
    question = {"question": "q", "kind": "specific", "facts": [], "article": article}
    assert names_article(question, reply, titles) is named
