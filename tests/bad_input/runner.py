"""Sends the corpus over HTTP in a few conversations at once and checks every answer.

The corpus is cut into conversations of ``CONVERSATION`` cases in order (a Rasa
sender, or a gateway session cookie); ``LANES`` conversations run at the same time.
Every answer is checked, failures are collected (not stopped at), and at its end each
conversation must still answer a plain question with the assistant's usual answer.
"""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Sequence, TypeVar

import httpx

from .corpus import QUESTION, RequestCase

LANES = 4
CONVERSATION = 40  # cases per conversation: junk answered inside a form is slow
TIMEOUT = httpx.Timeout(60.0, connect=5.0)
T = TypeVar("T")


@dataclass
class Outcome:
    """What came back for one case, and what is wrong with it (empty when nothing)."""

    case: str
    status: int
    problems: List[str] = field(default_factory=list)


def lanes(cases: Sequence[T], size: int = CONVERSATION) -> List[List[T]]:
    """``cases`` cut into contiguous runs of ``size``, one per conversation."""
    return [list(cases[i : i + size]) for i in range(0, len(cases), size)]


def run_lanes(work: Sequence[Callable[[], List[Outcome]]]) -> List[Outcome]:
    with ThreadPoolExecutor(max_workers=LANES) as pool:
        results = list(pool.map(lambda job: job(), work))
    return [outcome for result in results for outcome in result]


def json_text_body(payload: Dict[str, object]) -> bytes:
    """JSON with every non-ASCII character escaped, so lone surrogates can be sent."""
    return json.dumps(payload).encode("ascii")


def send(
    client: httpx.Client, url: str, case: RequestCase, headers: Dict[str, str]
) -> httpx.Response:
    sent_headers: Dict[str, str | bytes] = dict(headers)
    if case.content_type is not None:
        sent_headers["Content-Type"] = case.content_type
    if case.cookie is not None:
        sent_headers["Cookie"] = b"clinic_chat=" + case.cookie.encode()
    body = case.body if case.method not in ("GET", "OPTIONS") else None
    return client.request(case.method, url, content=body, headers=sent_headers)


def error_problems(response: httpx.Response) -> List[str]:
    """A 4xx must say why: a JSON object with a non-empty ``error`` text."""
    try:
        body = response.json()
    except ValueError:
        return [f"{response.status_code} is not JSON: {response.text[:120]!r}"]
    if not isinstance(body, dict) or not str(body.get("error") or "").strip():
        return [f"{response.status_code} without an error text: {response.text[:120]!r}"]
    return []


def never_a_server_error(response: httpx.Response) -> List[str]:
    if response.status_code >= 500:
        return [f"server error {response.status_code}: {response.text[:200]!r}"]
    return []


def summary(outcomes: List[Outcome], limit: int = 25) -> str:
    failed = [o for o in outcomes if o.problems]
    lines = [f"{len(failed)} of {len(outcomes)} cases failed:"]
    lines += [f"  {o.case} -> {o.status}: {'; '.join(o.problems)}" for o in failed[:limit]]
    return "\n".join(lines)


def still_answers_problems(reply_texts: List[str], expected: Sequence[str]) -> List[str]:
    """After its share of the corpus a conversation still gets the usual answer."""
    if any(text in expected for text in reply_texts):
        return []
    return [f"no usual answer to {QUESTION!r} afterwards: {reply_texts!r:.300}"]


def bookings_of(app_db: Path, senders: Iterable[str]) -> int:
    """Booking and call-back requests of these conversations (none: the corpus runs in
    the shared assistant, whose bookings other tests count)."""
    wanted = list(senders)
    if not app_db.exists():
        return 0
    with sqlite3.connect(app_db) as db:
        try:
            rows = db.execute("SELECT conversation_id FROM bookings").fetchall()
        except sqlite3.OperationalError:  # no bookings table yet: nothing booked
            return 0
    return sum(1 for (conversation,) in rows if conversation in wanted)
