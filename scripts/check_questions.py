"""Patient questions through the real REST channel: is each answered with the facts it asks for?

Usage: check_questions.py FILE [FILE ...] [--holdout FILE] [--rasa-url URL]
                          [--min-accuracy 0.9] [-v]

Each FILE is a YAML list of questions::

    - question: who invented it and when?
      kind: compound        # specific | compound | condition | not_covered | broad
      facts: [[Janet Travell, Travell], [1940s]]   # one alternative of each list must
                                                   # appear (any case) in the reply's text
      article: dry-needling-alternative-approach-back-pain.txt   # or both, or none

Every question is sent as the first message of a new conversation (its own sender id) to
``/webhooks/rest/webhook`` of a running Rasa server: the one at ``--rasa-url``, or, without
it, a Rasa server and action server started here on free loopback ports with the newest
model in ``models/`` (as the end-to-end tests start them, ``tests/servers.py``), stopped at
the end. The reply is every text the bot sends back. A question is right when every fact
entry is matched; a ``not_covered`` question is right when the reply is the honest
"not covered" answer (the text of ``utter_fact_not_covered`` in ``domain.yml``) and states
no fact of the fact base (no ``utter_fact_<id>`` text). Also counted, not part of the
figure: replies whose source line (``custom.source``) names the expected article.

Prints the figure per kind and in all per file (with ``-v`` each miss with the reply) and
exits 1 when a file is below ``--min-accuracy``; with ``--holdout`` only that file must
reach it (the other files are printed only, e.g. development questions used for tuning).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, TypedDict

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ARTICLES_DIR = ROOT.parent / "shared" / "articles"
KINDS = ("specific", "compound", "condition", "not_covered", "broad")


class Question(TypedDict):
    question: str
    kind: str
    facts: List[List[str]]
    article: str


class Reply(TypedDict):
    text: str
    sources: List[str]


def load_questions(path: Path) -> List[Question]:
    questions = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    for number, entry in enumerate(questions, start=1):
        if entry.get("kind") not in KINDS or not str(entry.get("question", "")).strip():
            raise ValueError(f"{path}, question {number}: needs a question and a kind {KINDS}")
        entry["facts"] = [[str(alt) for alt in alts] for alts in entry.get("facts") or []]
    return questions


def domain_texts() -> Dict[str, str]:
    """The first text of each response of domain.yml."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {
        name: variants[0].get("text", "")
        for name, variants in (domain.get("responses") or {}).items()
        if variants
    }


def article_titles() -> Dict[str, str]:
    """Article file name -> its title (the first line of text that is not page furniture)."""
    titles: Dict[str, str] = {}
    for path in ARTICLES_DIR.glob("*.txt"):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        titles[path.name] = next(
            (line for line in lines if line and line.lower() != "top of page"), path.stem
        )
    return titles


def ask(rasa_url: str, text: str) -> Reply:
    response = requests.post(
        f"{rasa_url}/webhooks/rest/webhook",
        json={"sender": f"check-questions-{uuid.uuid4().hex}", "message": text},
        timeout=60,
    )
    response.raise_for_status()
    messages: List[Dict[str, Any]] = response.json()
    texts = [m["text"] for m in messages if isinstance(m.get("text"), str)]
    sources = [
        str(m["custom"]["source"])
        for m in messages
        if isinstance(m.get("custom"), dict) and m["custom"].get("source")
    ]
    return {"text": "\n".join(texts), "sources": sources}


def is_right(question: Question, reply: Reply, texts: Dict[str, str]) -> bool:
    said = reply["text"].lower()
    if question["kind"] == "not_covered":
        honest = texts.get("utter_fact_not_covered", "\0").lower() in said
        facts = [t for name, t in texts.items() if name.startswith("utter_fact_") and t]
        invented = any(t.lower() in said for t in facts if t != texts.get("utter_fact_not_covered"))
        return (
            honest
            and not invented
            and all(any(alt.lower() in said for alt in alts) for alts in question["facts"])
        )
    return all(any(alt.lower() in said for alt in alts) for alts in question["facts"])


def names_article(question: Question, reply: Reply, titles: Dict[str, str]) -> bool:
    article = question["article"]
    if article == "none":
        return not reply["sources"]
    if article == "both":
        return bool(set(reply["sources"]) & set(titles.values()))
    return titles.get(article, "\0") in reply["sources"]


def check_file(
    path: Path, rasa_url: str, texts: Dict[str, str], titles: Dict[str, str], verbose: bool
) -> float:
    questions = load_questions(path)
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    sourced = 0
    misses: List[str] = []
    for question in questions:
        reply = ask(rasa_url, question["question"])
        kind = question["kind"]
        total[kind] += 1
        sourced += names_article(question, reply, titles)
        if is_right(question, reply, texts):
            right[kind] += 1
        else:
            shown = " | ".join(reply["text"].splitlines())[:300]
            misses.append(f"  miss ({kind}): {question['question']!r}\n    reply: {shown}")
    for kind in KINDS:
        if total[kind]:
            print(f"{path.name}, {kind}: {right[kind]}/{total[kind]}")
    done, count = sum(right.values()), sum(total.values())
    accuracy = done / count if count else 0.0
    print(f"{path.name}: {done}/{count} = {accuracy:.3f} answered right")
    print(f"{path.name}: source line names the expected article in {sourced}/{count}")
    if verbose and misses:
        print("\n".join(misses))
    return accuracy


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="*")
    parser.add_argument("--holdout", type=Path, help="the one file --min-accuracy applies to")
    parser.add_argument("--rasa-url", help="a running Rasa server (default: start one here)")
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    parser.add_argument("-v", "--verbose", action="store_true", help="list the misses")
    args = parser.parse_args(argv)
    if not args.files and not args.holdout:
        parser.error("no question file")

    texts, titles = domain_texts(), article_titles()
    assistant = None
    workdir = tempfile.TemporaryDirectory(prefix="check-questions-")
    try:
        rasa_url = args.rasa_url
        if not rasa_url:
            from tests.servers import start_assistant

            print("starting the Rasa server and the action server with the newest model ...")
            assistant = start_assistant(Path(workdir.name))
            rasa_url = assistant.rasa_url
        failed = False
        for path in [*args.files, *([args.holdout] if args.holdout else [])]:
            accuracy = check_file(path, rasa_url, texts, titles, args.verbose)
            barred = args.holdout is None or path == args.holdout
            if barred and accuracy < args.min_accuracy:
                print(f"FAIL: {path.name} {accuracy:.3f} < {args.min_accuracy}")
                failed = True
        return 1 if failed else 0
    finally:
        if assistant is not None:
            from tests.servers import stop_assistant

            stop_assistant(assistant)
        workdir.cleanup()


if __name__ == "__main__":
    sys.exit(main())
