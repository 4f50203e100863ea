"""The assistant's answers say what the clinic's articles say, in the assistant's own words.

Reads the real files: `domain.yml` (responses and slots), `tests/content/facts.yml` (which article
fact each answer states), the fact base `data/facts/facts.yml` (one answer per fact) and the
articles in `../shared/articles/`. No Rasa server is needed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ARTICLES_DIR = Path(__file__).resolve().parents[2] / "shared" / "articles"
DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
FACTS_FILE = Path(__file__).resolve().parent / "content" / "facts.yml"
CLINIC_FILE = PROJECT_ROOT / "clinic.yml"
FACT_BASE_FILE = PROJECT_ROOT / "data" / "facts" / "facts.yml"
# The fact base's replies that are no fact: the honest "not covered", the symptom guide
# offered after a question about a complaint, and the follow-up after other facts.
FACT_REPLIES_WITHOUT_FACT = frozenset(
    {
        "utter_fact_not_covered",
        "utter_fact_offer_guide_back",
        "utter_fact_offer_guide_neck",
        "utter_fact_offer_guide_head",
        "utter_fact_follow_up",
    }
)

# Answers about dry needling, the three symptoms and the emotional toll of pain: each must state
# at least one fact from the articles.
ANSWER_RESPONSES = (
    "utter_what_is_dry_needling",
    "utter_acupuncture_difference",
    "utter_how_it_works",
    "utter_safety",
    "utter_soreness",
    "utter_what_to_expect",
    "utter_effectiveness",
    "utter_practitioner",
    "utter_treatment_plan",
    "utter_suitability",
    "utter_back_pain",
    "utter_neck_pain",
    "utter_headache",
    "utter_feeling_low",
)
SYMPTOM_RESPONSES = ("utter_back_pain", "utter_neck_pain", "utter_headache")
CLINIC_RESPONSES = (
    "utter_clinic_hours",
    "utter_clinic_address",
    "utter_clinic_phone",
    "utter_clinic_prices",
    "utter_clinic_insurance",
    "utter_clinic_parking",
    "utter_clinic_overview",
)
REQUIRED_RESPONSES = (
    "utter_greet",
    "utter_goodbye",
    "utter_youre_welcome",
    "utter_iamabot",
    "utter_how_can_i_help",
    "utter_no_problem",
    "utter_out_of_scope",
    "utter_default",
    *ANSWER_RESPONSES,
    "utter_book_appointment",
    "utter_request_human",
    *CLINIC_RESPONSES,
)
# The intros of the symptom guide and the forms are followed at once by their first question.
RESPONSES_WITHOUT_BUTTONS = frozenset(
    {
        "utter_goodbye",
        "utter_symptom_ack",
        "utter_book_appointment",
        "utter_callback_intro",
        # said after "no" to a screening question; in a form the form's question follows
        "utter_red_flag_screen_clear",
        # the action server cannot be reached: a button would start what fails again; the
        # apology gives the clinic's phone instead (in a form, the form's question follows)
        "utter_action_server_unavailable",
    }
)

SHINGLE_WORDS = 8
MAX_SENTENCES = 5
PLACEHOLDER = re.compile(r"\{(\w+)\}")
WORD_OR_PLACEHOLDER = re.compile(r"\{\w+\}|[a-z0-9]+")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
PAYLOAD = re.compile(r"^/(\w+)$")
SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n\s*)$")
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")

# Clinic facts live in clinic.yml and reach the texts only through slot placeholders.
ARTICLE_CLINIC_NAMES = ("riverside",)
LITERAL_CLINIC_FACTS = {
    "phone number": re.compile(r"\+?\d[\d ()./-]{5,}\d"),
    "email address": re.compile(r"[\w.+-]+@[\w-]+\.\w+"),
    "web address": re.compile(r"https?://|www\.", re.IGNORECASE),
    "price": re.compile(r"[$£€]|\b(?:USD|EUR|GBP|dollars?)\b"),
    "clock time": re.compile(r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b", re.IGNORECASE),
    "weekday": re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", re.IGNORECASE),
    "practice name": re.compile(
        r"\b[A-Z][a-z]+ (?:Chiropractic|Clinic|Physiotherapy|Physio|Health|Wellness|Rehab)\b"
    ),
}


class Fact(TypedDict):
    id: str
    article: str
    phrase: str
    responses: list[str]


class BaseFact(TypedDict, total=False):
    id: str
    article: str
    area: str
    terms: list[str]
    questions: list[str]


class Button(TypedDict):
    title: str
    payload: str


# --- loading -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    return yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def responses(domain: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return domain.get("responses") or {}


@pytest.fixture(scope="module")
def facts() -> list[Fact]:
    return yaml.safe_load(FACTS_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fact_base() -> list[BaseFact]:
    return yaml.safe_load(FACT_BASE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def articles() -> dict[str, str]:
    if not ARTICLES_DIR.is_dir():
        pytest.skip(
            f"articles folder {ARTICLES_DIR} is absent: the shared/ folder must sit next to "
            "the project root"
        )
    texts = {path.name: path.read_text(encoding="utf-8") for path in ARTICLES_DIR.glob("*.txt")}
    assert texts, f"no *.txt article in {ARTICLES_DIR}"
    return texts


# --- helpers ---------------------------------------------------------------------------------


def variations(
    responses: dict[str, list[dict[str, Any]]], names: tuple[str, ...] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, variants in responses.items():
        if names is None or name in names:
            for variant in variants:
                yield name, variant


def shown_texts(variant: dict[str, Any]) -> list[str]:
    """Everything the user reads: the message and its button titles."""
    buttons: list[Button] = variant.get("buttons") or []
    return [variant.get("text", ""), *(button["title"] for button in buttons)]


def states(text: str, phrase: str) -> bool:
    """The phrase is in the text exactly, or capitalised differently only to open a sentence."""
    if phrase in text:
        return True
    recased = phrase[0].swapcase() + phrase[1:]
    start = text.find(recased)
    while start != -1:
        if SENTENCE_START.search(text[:start]):
            return True
        start = text.find(recased, start + 1)
    return False


def words(text: str) -> list[str]:
    """Lower-case words; a placeholder stays one token no article can contain."""
    return WORD_OR_PLACEHOLDER.findall(text.lower())


def shingles(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1)}


def without_placeholders(text: str) -> str:
    return PLACEHOLDER.sub(" ", text)


def answered_intents(response_name: str) -> set[str]:
    """Intents whose question this response answers (offering them again is no next step)."""
    topic = response_name.removeprefix("utter_")
    intents = {topic, f"ask_{topic}"}
    if topic.startswith("clinic_"):
        intents.add("ask_clinic_info")
    return intents


def leaf_values(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from leaf_values(value)
    elif isinstance(node, list):
        for value in node:
            yield from leaf_values(value)
    elif node is not None and not isinstance(node, bool):
        yield str(node)


# --- the facts file --------------------------------------------------------------------------


def test_facts_file_is_well_formed_and_covers_30_facts(facts: list[Fact]) -> None:
    assert isinstance(facts, list) and len(facts) >= 30
    ids = [fact["id"] for fact in facts]
    assert len(ids) == len(set(ids)), "fact ids must be unique"
    for fact in facts:
        assert set(fact) == {"id", "article", "phrase", "responses"}, fact
        assert fact["phrase"].strip() == fact["phrase"] and fact["phrase"], fact["id"]
        assert fact["responses"], f"fact {fact['id']} is stated by no response"


def test_every_fact_phrase_appears_verbatim_in_its_article(
    facts: list[Fact], articles: dict[str, str]
) -> None:
    missing = [
        f"{fact['id']}: {fact['phrase']!r} not in {fact['article']}"
        for fact in facts
        if fact["phrase"] not in articles.get(fact["article"], "")
    ]
    assert not missing, "\n".join(missing)


def test_every_mapped_response_exists(
    facts: list[Fact], responses: dict[str, list[dict[str, Any]]]
) -> None:
    unknown = [
        f"{fact['id']} -> {name}"
        for fact in facts
        for name in fact["responses"]
        if name not in responses
    ]
    assert not unknown, "\n".join(unknown)


def test_every_mapped_response_states_its_fact_exactly(
    facts: list[Fact], responses: dict[str, list[dict[str, Any]]]
) -> None:
    wrong = [
        f"{name} does not state {fact['id']}: {fact['phrase']!r}"
        for fact in facts
        for name in fact["responses"]
        for variant in responses.get(name, [])
        if not states(variant.get("text", ""), fact["phrase"])
    ]
    assert not wrong, "\n".join(wrong)


# --- the responses ---------------------------------------------------------------------------


def test_all_required_responses_exist(
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    missing = [name for name in REQUIRED_RESPONSES if not responses.get(name)]
    assert not missing, f"missing responses: {missing}"
    for name, variant in variations(responses):
        assert variant.get("text", "").strip(), f"{name} has an empty message"


def test_every_answer_response_states_at_least_one_article_fact(
    facts: list[Fact],
    articles: dict[str, str],
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    verified = [fact["phrase"] for fact in facts if fact["phrase"] in articles[fact["article"]]]
    bare = [
        name
        for name, variant in variations(responses, ANSWER_RESPONSES)
        if not any(states(variant["text"], phrase) for phrase in verified)
    ]
    assert not bare, f"answers stating no article fact: {bare}"


def test_no_response_copies_a_run_of_eight_words_from_an_article(
    articles: dict[str, str], responses: dict[str, list[dict[str, Any]]]
) -> None:
    article_runs = set().union(*(shingles(text) for text in articles.values()))
    copied = [
        f"{name}: {' '.join(run)!r}"
        for name, variant in variations(responses)
        for text in shown_texts(variant)
        for run in sorted(shingles(text) & article_runs)
    ]
    assert not copied, "\n".join(copied)


def test_numbers_in_responses_come_from_the_articles(
    articles: dict[str, str], responses: dict[str, list[dict[str, Any]]]
) -> None:
    article_numbers = set(NUMBER.findall("\n".join(articles.values())))
    invented = [
        f"{name}: {number}"
        for name, variant in variations(responses)
        if not is_form_question(name)
        for text in shown_texts(variant)
        for number in NUMBER.findall(without_placeholders(text))
        if number not in article_numbers
    ]
    assert not invented, "\n".join(invented)


def test_no_clinic_fact_is_written_literally(
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    clinic_values: list[str] = []
    if CLINIC_FILE.is_file():
        profile = yaml.safe_load(CLINIC_FILE.read_text(encoding="utf-8"))
        clinic_values = [
            value
            for value in leaf_values(profile)
            if len(value) >= 8 or (len(value) >= 3 and any(c.isdigit() for c in value))
        ]
    found = []
    for name, variant in variations(responses):
        for text in shown_texts(variant):
            plain = without_placeholders(text)
            found += [f"{name}: {n!r}" for n in ARTICLE_CLINIC_NAMES if n in plain.lower()]
            found += [
                f"{name}: {kind} {match.group(0)!r}"
                for kind, pattern in LITERAL_CLINIC_FACTS.items()
                for match in pattern.finditer(plain)
                if not is_form_question(name)  # prompts give examples: "Tuesday at 2pm"
            ]
            found += [
                f"{name}: clinic.yml value {value!r}"
                for value in clinic_values
                if value.lower() in plain.lower()
            ]
    assert not found, "\n".join(found)


def test_placeholders_are_known_slots(
    domain: dict[str, Any], responses: dict[str, list[dict[str, Any]]]
) -> None:
    slots = set(domain.get("slots") or {})
    problems = []
    for name, variant in variations(responses):
        for text in shown_texts(variant):
            problems += [
                f"{name}: {{{slot}}} is not a slot"
                for slot in PLACEHOLDER.findall(text)
                if slot not in slots
            ]
            if re.search(r"[{}]", without_placeholders(text)):
                problems.append(f"{name}: malformed placeholder in {text!r}")
    assert not problems, "\n".join(problems)


def test_clinic_responses_fill_their_topic_from_its_slot(
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    for name, variant in variations(responses, CLINIC_RESPONSES):
        topic = name.removeprefix("utter_")
        if topic != "clinic_overview":
            assert f"{{{topic}}}" in variant["text"], f"{name} must show {{{topic}}}"
        assert "{clinic_name}" in variant["text"], f"{name} must name the clinic via a slot"


def test_every_response_offers_buttons_except_goodbye(
    domain: dict[str, Any], responses: dict[str, list[dict[str, Any]]]
) -> None:
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []}
    problems = []
    for name, variant in variations(responses):
        buttons: list[Button] = variant.get("buttons") or []
        if name in RESPONSES_WITHOUT_BUTTONS or is_urgent(variant) or is_form_question(name):
            continue
        if is_fact_answer(name):
            continue  # action_answer_facts sends the next step (with buttons) after them
        if not 2 <= len(buttons) <= 3:
            problems.append(f"{name}: {len(buttons)} buttons, expected 2-3")
        payloads = [button.get("payload", "") for button in buttons]
        if len(payloads) != len(set(payloads)):
            problems.append(f"{name}: repeated payload")
        for button in buttons:
            match = PAYLOAD.match(button.get("payload", ""))
            if not button.get("title", "").strip() or not match:
                problems.append(f"{name}: bad button {button}")
            elif match.group(1) not in intents:
                problems.append(f"{name}: payload intent {match.group(1)} is not in the domain")
            elif match.group(1) in answered_intents(name):
                problems.append(f"{name}: offers the question it just answered")
    assert not problems, "\n".join(problems)


def is_urgent(variant: dict[str, Any]) -> bool:
    return bool((variant.get("custom") or {}).get("urgent"))


# Form prompts: questions (utter_ask_<slot>) and the re-asks after an answer that
# can't be taken. They may offer typical answers as buttons, or none, and their
# examples ("next Tuesday at 2pm") are no article facts.
FORM_PROMPT_PREFIXES = (
    "utter_ask_",
    "utter_booking_invalid_",
    "utter_booking_not_a_",  # hints the form's question follows
    "utter_booking_time_",
    "utter_booking_what_to_change",
)


def is_form_question(name: str) -> bool:
    return name.startswith(FORM_PROMPT_PREFIXES)


def test_urgent_responses_send_people_to_urgent_help_and_offer_nothing_else(
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    urgent = {name: variant for name, variant in variations(responses) if is_urgent(variant)}
    assert {"utter_red_flag_emergency", "utter_red_flag_self_harm"} <= set(urgent)
    for name, variant in urgent.items():
        assert "{emergency_number}" in variant["text"], name
        assert not variant.get("buttons"), f"{name} offers buttons"
        assert "dry needling" not in variant["text"].lower(), name
    assert "{crisis_line}" in urgent["utter_red_flag_self_harm"]["text"]


def test_symptom_responses_say_they_are_not_a_diagnosis(
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    for name, variant in variations(responses, SYMPTOM_RESPONSES):
        assert "not a diagnosis" in variant["text"], name
        assert "practitioner" in variant["text"], name


def test_every_message_is_short_and_free_of_emoji(
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    problems = []
    for name, variant in variations(responses):
        text = variant["text"]
        sentences = len(SENTENCE_END.findall(text.replace("Dr. ", "Dr ")))
        if sentences > MAX_SENTENCES:
            problems.append(f"{name}: {sentences} sentences")
        symbols = [c for t in shown_texts(variant) for c in t if unicodedata.category(c) == "So"]
        if symbols:
            problems.append(f"{name}: symbols {symbols}")
    assert not problems, "\n".join(problems)


# --- the fact base (data/facts/facts.yml) ---------------------------------------------------


def is_fact_answer(name: str) -> bool:
    return name.startswith("utter_fact_") and name not in FACT_REPLIES_WITHOUT_FACT


def article_title(text: str) -> str:
    """The article's title: its first line that is not page furniture."""
    lines = (line.strip() for line in text.splitlines())
    return next(line for line in lines if line and line.lower() != "top of page")


def test_fact_base_has_80_atomic_facts_with_5_to_40_lower_case_questions(
    fact_base: list[BaseFact],
) -> None:
    assert isinstance(fact_base, list) and len(fact_base) >= 80
    ids = [fact["id"] for fact in fact_base]
    assert len(ids) == len(set(ids)), "fact ids must be unique"
    problems = []
    for fact in fact_base:
        if not set(fact) <= {"id", "article", "area", "terms", "questions"}:
            problems.append(f"{fact['id']}: unknown keys {sorted(fact)}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", fact["id"]) or fact["id"] == "not_covered":
            problems.append(f"{fact['id']}: not a usable id")
        if fact.get("area") not in (None, "back", "neck", "head"):
            problems.append(f"{fact['id']}: area {fact.get('area')!r}")
        if not fact.get("terms"):
            problems.append(f"{fact['id']}: no terms to check against the article")
        questions = fact.get("questions") or []
        if not 5 <= len(questions) <= 40:
            problems.append(f"{fact['id']}: {len(questions)} questions, expected 5-40")
        if len(set(questions)) != len(questions):
            problems.append(f"{fact['id']}: a question twice")
        problems += [f"{fact['id']}: {q!r} not lower case" for q in questions if q != q.lower()]
    assert not problems, "\n".join(problems)


def test_every_fact_term_appears_verbatim_in_its_article(
    fact_base: list[BaseFact], articles: dict[str, str]
) -> None:
    missing = [
        f"{fact['id']}: {term!r} not in {fact['article']}"
        for fact in fact_base
        for term in fact["terms"]
        if term not in articles.get(fact["article"], "")
    ]
    assert not missing, "\n".join(missing)


def test_every_fact_has_an_answer_that_states_its_terms_exactly(
    fact_base: list[BaseFact], responses: dict[str, list[dict[str, Any]]]
) -> None:
    problems = []
    for fact in fact_base:
        name = f"utter_fact_{fact['id']}"
        variants = responses.get(name) or []
        if not variants:
            problems.append(f"{fact['id']}: no response {name}")
        problems += [
            f"{name} does not state {term!r}"
            for variant in variants
            for term in fact["terms"]
            if not states(variant.get("text", ""), term)
        ]
    assert not problems, "\n".join(problems)


def test_every_fact_answer_belongs_to_a_fact(
    fact_base: list[BaseFact], responses: dict[str, list[dict[str, Any]]]
) -> None:
    ids = {f"utter_fact_{fact['id']}" for fact in fact_base}
    orphans = [name for name in responses if is_fact_answer(name) and name not in ids]
    assert not orphans, f"fact answers without a fact: {orphans}"
    assert FACT_REPLIES_WITHOUT_FACT <= set(responses)


def test_numbers_in_fact_answers_come_from_their_own_article(
    fact_base: list[BaseFact],
    articles: dict[str, str],
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    invented = [
        f"{fact['id']}: {number} not in {fact['article']}"
        for fact in fact_base
        for variant in responses.get(f"utter_fact_{fact['id']}", [])
        for number in NUMBER.findall(variant.get("text", ""))
        if number not in NUMBER.findall(articles.get(fact["article"], ""))
    ]
    assert not invented, "\n".join(invented)


def test_every_fact_answer_names_its_article_as_its_source(
    fact_base: list[BaseFact],
    articles: dict[str, str],
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    wrong = []
    for fact in fact_base:
        title = article_title(articles[fact["article"]])
        for variant in responses.get(f"utter_fact_{fact['id']}", []):
            source = (variant.get("custom") or {}).get("source")
            if source != title:
                wrong.append(f"{fact['id']}: source {source!r}, article title {title!r}")
            if "buttons" in variant:
                wrong.append(f"{fact['id']}: a fact answer has no buttons (the next step has)")
    assert not wrong, "\n".join(wrong)


def test_fact_answers_are_short_and_never_diagnose_or_promise_a_cure(
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    promise = re.compile(r"\b(?:cure[sd]?|guarantee[sd]?|you have|your diagnosis)\b", re.I)
    problems = []
    for name, variant in variations(responses):
        if not is_fact_answer(name):
            continue
        text = variant["text"]
        if len(SENTENCE_END.findall(text.replace("Dr. ", "Dr "))) > 3:
            problems.append(f"{name}: more than 3 sentences")
        if promise.search(text):
            problems.append(f"{name}: {promise.search(text).group(0)!r}")
    assert not problems, "\n".join(problems)


def test_the_not_covered_reply_is_honest_and_offers_a_call_back_and_a_booking(
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    (variant,) = responses["utter_fact_not_covered"]
    assert "practitioner" in variant["text"]
    assert "articles" in variant["text"]
    payloads = {button["payload"] for button in variant.get("buttons") or []}
    assert payloads == {"/request_human", "/book_appointment"}
    assert not (variant.get("custom") or {}).get("source")


def test_the_guide_is_offered_with_its_own_complaint_as_the_button(
    responses: dict[str, list[dict[str, Any]]],
) -> None:
    for area, intent in (("back", "back_pain"), ("neck", "neck_pain"), ("head", "headache")):
        (variant,) = responses[f"utter_fact_offer_guide_{area}"]
        assert f"/{intent}" in [button["payload"] for button in variant["buttons"]]
