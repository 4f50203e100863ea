"""Asyncio load client: scripted conversations through Rasa's REST channel or the gateway.

Bounded on every side: a fixed number of conversations, a per-request timeout and
an overall deadline; loopback addresses only.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Dict, List, Sequence
from urllib.parse import urlsplit

import httpx

REQUEST_TIMEOUT_S = 30.0
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# Three conversation kinds, each with custom actions (action_session_start loads
# the clinic's facts at the first message of every conversation):
INFO_AND_FAQ = [  # action_clinic_info, rules and the FAQ answers
    "hello",
    "what are your opening hours?",
    "where are you located?",
    "how much does a session cost?",
    "is there parking?",
    "what is dry needling?",
    "is dry needling safe?",
    "does it hurt afterwards?",
    "who does the needling?",
    "thanks, bye",
]
SYMPTOM_GUIDE = [  # the symptom guide (triage form), then clinic info
    "hi",
    "my lower back has hurt for weeks",
    "no",
    "about three weeks",
    "a dull ache",
    "how many sessions will i need?",
    "do you take insurance?",
    "what's your phone number?",
    "ok thank you",
    "bye",
]
BOOKING_START = [  # the booking form with its validation actions, saved at the end
    "i'd like to book an appointment",
    "Ann Lee",
    "(202) 555-0123",
    "ann.lee@example.org",
]
BOOKING_END = ["stiff neck from working at a desk", "no", "no", "yes", "no", "yes"]
_booking_slots = itertools.count()


def booking_time(today: date | None = None) -> str:
    """A distinct free start per booking (one booking per slot): Monday to Thursday,
    9am to 4pm, from tomorrow on."""
    n = next(_booking_slots)
    day, hour = (today or date.today()) + timedelta(days=1), 9 + n % 8
    weekdays_left = n // 8
    while day.weekday() > 3 or weekdays_left:
        if day.weekday() <= 3:
            weekdays_left -= 1
        day += timedelta(days=1)
    clock = f"{hour % 12 or 12}{'am' if hour < 12 else 'pm'}"
    return f"{day.strftime('%A %B')} {day.day} at {clock}".lower()


def conversation(index: int) -> List[str]:
    """The messages of conversation ``index``: info, symptom guide, booking in turn.
    Bookings have 11 turns (10 form answers and the confirmation), the others 10."""
    kind = index % 3
    if kind == 0:
        return list(INFO_AND_FAQ)
    if kind == 1:
        return list(SYMPTOM_GUIDE)
    return [*BOOKING_START, booking_time(), *BOOKING_END]


@dataclass
class LoadResult:
    """Latencies (ms) of the answered messages, errors, wall time."""

    label: str
    concurrency: int
    conversations: int
    latencies_ms: List[float] = field(default_factory=list)
    errors: int = 0
    error_samples: List[str] = field(default_factory=list)
    wall_s: float = 0.0
    timed_out: bool = False
    sent: Dict[str, List[str]] = field(default_factory=dict)  # sender -> texts, in order

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text)

    def summary(self) -> Dict[str, object]:
        ordered = sorted(self.latencies_ms)
        sent = len(ordered) + self.errors
        return {
            "label": self.label,
            "concurrency": self.concurrency,
            "conversations": self.conversations,
            "messages": sent,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "p50_ms": percentile(ordered, 50),
            "p95_ms": percentile(ordered, 95),
            "p99_ms": percentile(ordered, 99),
            "max_ms": round(ordered[-1], 1) if ordered else None,
            "throughput_msg_s": round(sent / self.wall_s, 1) if self.wall_s else None,
            "wall_s": round(self.wall_s, 2),
            "timed_out": self.timed_out,
        }


def percentile(ordered: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return round(ordered[int(rank) - 1], 1)


def _check_loopback(url: str) -> None:
    if urlsplit(url).hostname not in LOOPBACK:
        raise ValueError(f"the load client only talks to loopback addresses, not {url}")


class Target:
    """Where messages go: Rasa's REST channel (one or several processes) or the gateway."""

    def __init__(self, kind: str, urls: Sequence[str]) -> None:
        for url in urls:
            _check_loopback(url)
        self.kind, self.urls = kind, list(urls)

    async def send(
        self, client: httpx.AsyncClient, sender: str, text: str, turn: int
    ) -> httpx.Response:
        url = self.urls[turn % len(self.urls)]  # several processes: alternate per message
        if self.kind == "rest":
            return await client.post(
                f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
            )
        return await client.post(f"{url}/api/chat", json={"message": text})

    def client(self) -> httpx.AsyncClient:
        """One client per conversation: the gateway's session lives in its cookie jar."""
        headers = {"Origin": self.urls[0]} if self.kind == "gateway" else {}
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
        return httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT_S, headers=headers, limits=limits, trust_env=False
        )

    @staticmethod
    def answered(kind: str, response: httpx.Response) -> bool:
        if response.status_code != 200:
            return False
        body = response.json()
        messages = body if kind == "rest" else body.get("messages")
        return bool(messages)


async def _run_conversation(
    target: Target, result: LoadResult, sender: str, messages: List[str]
) -> None:
    async with target.client() as client:
        for turn, text in enumerate(messages):
            result.sent.setdefault(sender, []).append(text)
            started = time.perf_counter()
            try:
                response = await target.send(client, sender, text, turn)
                elapsed = (time.perf_counter() - started) * 1000
                if target.answered(target.kind, response):
                    result.latencies_ms.append(elapsed)
                else:
                    result.error(f"{response.status_code} for {text!r}: {response.text[:120]}")
            except (httpx.HTTPError, ValueError) as exc:
                result.error(f"{type(exc).__name__} for {text!r}: {exc}")


async def run_load(
    target: Target,
    *,
    label: str,
    concurrency: int,
    conversations: int,
    deadline_s: float = 600.0,
    sender_prefix: str = "bench",
) -> LoadResult:
    """``conversations`` scripted conversations, at most ``concurrency`` at a time."""
    result = LoadResult(label=label, concurrency=concurrency, conversations=conversations)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(conversations):
        queue.put_nowait(index)
    run_id = f"{sender_prefix}-{int(time.time() * 1000) % 10**9}"

    async def worker() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            await _run_conversation(target, result, f"{run_id}-{index}", conversation(index))

    started = time.perf_counter()
    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    done, pending = await asyncio.wait(tasks, timeout=deadline_s)
    for task in pending:
        task.cancel()
    result.timed_out = bool(pending)
    result.wall_s = time.perf_counter() - started
    for task in done:
        task.result()
    return result


async def warm_up(target: Target, turns: int = 3) -> None:
    """A few messages first, so one-off start-up work is not measured."""
    await run_load(target, label="warm-up", concurrency=1, conversations=turns, deadline_s=120)
