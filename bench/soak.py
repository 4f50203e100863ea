"""``make soak``: many whole conversations at once through the web gateway, then a check
that everything arrived exactly once.

Usage: python -m bench.soak [--conversations 50] [--turns 20] [--concurrency N]
                            [--out results/soak] [--postgres] [--keep]

Starts the action server, the Rasa server and the web app (``python -m clinic.web``,
as ``make run`` does) as subprocesses on free loopback ports, with their databases in
a temporary folder (SQLite, or a throw-away PostgreSQL with ``--postgres``). Then
``--conversations`` visitors talk to ``POST /api/chat`` at the same time, each with
its own cookie, ``--turns`` messages each, every one ending with a booking request.
Afterwards:

- every message a visitor sent is a ``user`` event of that visitor's conversation in
  Rasa's tracker store (``events``), exactly once and in the order sent;
- every conversation has exactly one row in the app database's ``bookings``, with the
  name, phone, email, start and concern it gave and the reference it was shown;
- no answer was a 5xx or a 429, and none timed out.

The gateway's per-address limit (60 messages / 30 s) would turn the soak away, since
every simulated visitor is 127.0.0.1: the soak raises it with ``CHAT_ADDRESS_LIMIT``
to the run's whole message count. The per-session limit stays at its default unless
a conversation has more turns than it allows. The report prints the HTTP status
counts, throughput and latency percentiles, and writes ``soak.json`` to ``--out``.
Exit code 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from datetime import time as clock
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple, TypedDict
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa

from clinic.booking.when import check_slot, parse_when
from clinic.db.repository import iso_start
from clinic.settings import ClinicProfile, load_clinic
from clinic.web.sessions import sender_id
from clinic.web.settings import WebSettings
from tests.servers import ROOT, newest_model

from .load import LOOPBACK, percentile
from .memory import _children
from .services import Postgres, start_postgres, stop_postgres
from .stack import Stack, start_gateway, start_stack, stop_stack

COOKIE = WebSettings.cookie_name
SESSION_LIMIT = WebSettings.session_limit
RASA_TIMEOUT_S = 30.0  # the gateway's default (RASA_TIMEOUT)
CLIENT_TIMEOUT_S = RASA_TIMEOUT_S + 15  # the gateway answers 503 before the client gives up
DEFAULT_DEADLINE_S = 1200.0

# --- what the visitors say ------------------------------------------------------------
# Phrasings from tests/test_stories.yml, tests/test_conversations_e2e.py and the bench.
QUESTIONS = [
    "what is dry needling?",
    "is dry needling safe?",
    "does it hurt afterwards?",
    "who does the needling?",
    "how many sessions will i need?",
    "what are your opening hours?",
    "is there parking?",
    "how much does a session cost?",
    "do you take insurance?",
    "where are you located?",
]
COMPLAINT = ["my lower back has hurt for weeks", "no", "about three weeks", "a dull ache"]
BOOK = "i'd like to book an appointment"
CONCERN = "stiff neck from working at a desk"
PRACTITIONER_ANSWERS = ["no", "no", "yes", "no"]  # been before, pregnant, thinners, needles
CONFIRM = "yes"
GOODBYE = "goodbye"
FIRST_NAMES = [
    "Ann", "Maria", "Nora", "James", "Priya", "Tom", "Grace", "Omar", "Lena", "Ravi",
    "Sofia", "Daniel", "Aisha", "Peter", "Mei", "Carlos", "Helen", "Sam", "Julia", "Ken",
]  # fmt: skip
LAST_NAMES = [
    "Lee", "Garcia", "Smith", "Khan", "Novak", "Brown", "Silva", "Walsh", "Tanaka", "Moreno",
    "Fischer", "Okafor", "Murphy", "Costa", "Larsen", "Patel", "Young", "Rossi", "Dubois", "Kim",
]  # fmt: skip
AREA_CODES = ["202", "312", "415", "617"]  # with 555-0100..0199, the numbers kept for fiction
MAX_CONVERSATIONS = min(len(FIRST_NAMES) * len(LAST_NAMES), len(AREA_CODES) * 100)
KINDS = ("questions", "symptom guide", "booking restarted")


class ExpectedBooking(TypedDict):
    patient_name: str
    phone: str  # E.164, as stored
    email: str
    preferred_start: str  # iso_start, as stored
    concern: str


@dataclass
class Script:
    """One visitor's messages, and the booking they lead to."""

    index: int
    kind: str
    messages: List[str]
    booking: ExpectedBooking
    confirm_turn: int  # the message whose answer shows the booking reference


def booking_slots(profile: ClinicProfile, now: datetime, count: int) -> List[datetime]:
    """``count`` distinct whole-hour starts that ``check_slot`` accepts, from the day after
    tomorrow on (the clinic's timezone), day by day: one booking per slot, as
    ``max_bookings_per_slot`` may allow no more. Not tomorrow: a run that crosses the
    clinic's midnight would then ask for "today", which a booking does not take."""
    zone = ZoneInfo(profile.timezone)
    today = now.astimezone(zone).date()
    slots: List[datetime] = []
    for offset in range(2, profile.booking_horizon_days + 1):
        day = today + timedelta(days=offset)
        for hour in range(24):
            start = datetime.combine(day, clock(hour), tzinfo=zone)
            if check_slot(start, profile, now) is None:
                slots.append(start)
                if len(slots) == count:
                    return slots
    raise ValueError(
        f"the opening hours and booking_horizon_days of clinic.yml leave {len(slots)} "
        f"whole-hour starts; {count} bookings need as many"
    )


def slot_text(start: datetime) -> str:
    """How a visitor asks for ``start``: ``"tuesday november 24 at 2pm"``."""
    hour = start.hour % 12 or 12
    return f"{start:%A %B} {start.day} at {hour}{'am' if start.hour < 12 else 'pm'}".lower()


def booking_form(name: str, phone: str, email: str, when: str, concern: bool) -> List[str]:
    """The booking form's answers in its order (``booking_form`` in domain.yml)."""
    answers = [BOOK, name, phone, email, when]
    return [*answers, *([CONCERN] if concern else []), *PRACTITIONER_ANSWERS, CONFIRM]


def conversation_script(index: int, turns: int, start: datetime) -> Script:
    """Conversation ``index``: ``turns`` messages ending with a booking for ``start``.

    Three kinds in turn: questions, then a booking; the symptom guide (which fills in
    what the booking is about), then a booking; a booking stopped with "cancel" after
    the name, questions, then a whole booking. Questions fill the turns left."""
    if not 0 <= index < MAX_CONVERSATIONS:
        raise ValueError(f"the soak has names and phone numbers for {MAX_CONVERSATIONS}")
    first, last = FIRST_NAMES[index % len(FIRST_NAMES)], LAST_NAMES[index // len(FIRST_NAMES)]
    area, line = AREA_CODES[index // 100], 100 + index % 100
    name, email = f"{first} {last}", f"{first}.{last}.{index}@example.org".lower()
    phone_typed, phone = f"({area}) 555-{line:04d}", f"+1{area}555{line:04d}"
    kind = KINDS[index % len(KINDS)]
    concern = CONCERN
    if kind == "questions":
        opening = ["hello"]
        booking = booking_form(name, phone_typed, email, slot_text(start), concern=True)
    elif kind == "symptom guide":
        opening, concern = ["hi", *COMPLAINT], COMPLAINT[0]
        booking = booking_form(name, phone_typed, email, slot_text(start), concern=False)
    else:
        opening = ["hello", BOOK, name, "cancel"]
        booking = booking_form(name, phone_typed, email, slot_text(start), concern=True)
    free = turns - len(opening) - len(booking) - 1
    if free < 0:
        raise ValueError(f"a {kind!r} conversation needs at least {turns - free} turns")
    questions = [QUESTIONS[(index + n) % len(QUESTIONS)] for n in range(free)]
    messages = [*opening, *questions, *booking, GOODBYE]
    expected = ExpectedBooking(
        patient_name=name,
        phone=phone,
        email=email,
        preferred_start=iso_start(start),
        concern=concern,
    )
    return Script(index, kind, messages, expected, confirm_turn=len(messages) - 2)


def soak_scripts(
    profile: ClinicProfile, now: datetime, conversations: int, turns: int
) -> List[Script]:
    """The run's conversations, each booking its own slot; every slot is checked to be
    read back by ``parse_when`` as the start it stands for."""
    slots = booking_slots(profile, now, conversations)
    for start in slots:
        parsed = parse_when(slot_text(start), profile, now).start
        if parsed != start:
            raise ValueError(f"{slot_text(start)!r} is read as {parsed}, not {start}")
    return [conversation_script(i, turns, start) for i, start in enumerate(slots)]


# --- the load -------------------------------------------------------------------------


@dataclass
class Visit:
    """What happened to one script: statuses, replies, the session's Rasa sender id."""

    script: Script
    sent: List[str] = field(default_factory=list)
    statuses: List[str] = field(default_factory=list)  # "200", "503", "timeout", ...
    replies: List[str] = field(default_factory=list)  # each answer's texts, joined
    senders: List[str] = field(default_factory=list)  # distinct, in order of appearance


@dataclass
class LoadRun:
    visits: List[Visit]
    latencies_ms: List[float]
    wall_s: float
    timed_out: bool


def _check_loopback(url: str) -> None:
    host = httpx.URL(url).host
    if host not in LOOPBACK:
        raise ValueError(f"the soak only talks to loopback addresses, not {url}")


async def _visit(
    url: str, origin: str, visit: Visit, latencies: List[float], think_s: float
) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        timeout=CLIENT_TIMEOUT_S, headers={"Origin": origin}, limits=limits, trust_env=False
    ) as client:
        for text in visit.script.messages:
            visit.sent.append(text)
            started = time.perf_counter()
            try:
                response = await client.post(f"{url}/api/chat", json={"message": text})
            except httpx.TimeoutException:
                visit.statuses.append("timeout")
                visit.replies.append("")
                continue
            except httpx.HTTPError as exc:
                visit.statuses.append(type(exc).__name__)
                visit.replies.append("")
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            try:
                messages = response.json()["messages"] if response.status_code == 200 else []
                texts = " ".join(str(message["text"]) for message in messages)
            except (ValueError, KeyError, TypeError):  # a 200 that is no widget answer
                visit.statuses.append("200 not an answer")
                visit.replies.append("")
                continue
            visit.statuses.append(str(response.status_code))
            visit.replies.append(texts)
            if response.status_code == 200:
                latencies.append(elapsed_ms)
            session = client.cookies.get(COOKIE)
            if session and sender_id(session) not in visit.senders:
                visit.senders.append(sender_id(session))
            if think_s:
                await asyncio.sleep(think_s)


async def drive(
    url: str,
    origin: str,
    scripts: Sequence[Script],
    *,
    concurrency: int,
    deadline_s: float = DEFAULT_DEADLINE_S,
    think_s: float = 0.0,
) -> LoadRun:
    """Every script as one visitor (own cookie jar), ``concurrency`` at a time, each
    message sent when the previous one is answered; stops at ``deadline_s``."""
    _check_loopback(url)
    visits = [Visit(script) for script in scripts]
    latencies: List[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(visit: Visit) -> None:
        async with gate:
            await _visit(url, origin, visit, latencies, think_s)

    started = time.perf_counter()
    tasks = [asyncio.create_task(one(visit)) for visit in visits]
    done, pending = await asyncio.wait(tasks, timeout=deadline_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    wall_s = time.perf_counter() - started
    for task in done:
        task.result()
    return LoadRun(visits, latencies, wall_s, timed_out=bool(pending))


# --- the checks -----------------------------------------------------------------------


def _engine(url: str) -> sa.engine.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def stored_user_texts(tracker_url: str, senders: Sequence[str]) -> Dict[str, List[str]]:
    """The text of every ``user`` event per sender, in the order Rasa stored them."""
    found: Dict[str, List[str]] = {sender: [] for sender in senders}
    query = sa.text(
        "SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY sender_id, id"
    )
    engine = _engine(tracker_url)
    try:
        with engine.connect() as connection:
            for sender, data in connection.execute(query):
                found.setdefault(sender, []).append(json.loads(data).get("text"))
    finally:
        engine.dispose()
    return found


def tracker_problems(visits: Sequence[Visit], stored: Dict[str, List[str]]) -> List[str]:
    """Each visitor's messages must be its conversation's user events: all of them, each
    once, in order; and no conversation but the visitors'."""
    problems: List[str] = []
    senders = set()
    for visit in visits:
        label = f"conversation {visit.script.index}"
        if len(visit.senders) != 1:
            problems.append(f"{label}: {len(visit.senders)} chat sessions, not 1")
            continue
        sender = visit.senders[0]
        senders.add(sender)
        texts = stored.get(sender, [])
        if texts == visit.sent:
            continue
        counts, expected = Counter(texts), Counter(visit.sent)
        missing = sorted((expected - counts).elements())
        extra = sorted((counts - expected).elements())
        if missing or extra:
            problems.append(f"{label}: missing {missing}, more than sent {extra}")
        else:
            problems.append(f"{label}: stored in another order: {texts}")
    strangers = sorted(set(stored) - senders)
    if strangers:
        problems.append(f"user events of conversations no visitor had: {strangers[:5]}")
    return problems


BOOKING_COLUMNS = (
    "conversation_id",
    "kind",
    "patient_name",
    "phone",
    "email",
    "preferred_start",
    "concern",
    "reference",
)


def stored_bookings(database_url: str) -> List[Dict[str, Any]]:
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(f"SELECT {', '.join(BOOKING_COLUMNS)} FROM bookings ORDER BY id")
            ).fetchall()
    finally:
        engine.dispose()
    return [dict(zip(BOOKING_COLUMNS, row, strict=True)) for row in rows]


_REFERENCE = re.compile(r"\bRC-[A-Z0-9]{6}\b")


def booking_problems(visits: Sequence[Visit], rows: Sequence[Dict[str, Any]]) -> List[str]:
    """One ``bookings`` row per conversation, with what the visitor gave and the
    reference shown to them, and no other row."""
    problems: List[str] = []
    by_conversation: Dict[str, List[Dict[str, Any]]] = {}
    for row in rows:
        by_conversation.setdefault(row["conversation_id"], []).append(row)
    senders = set()
    for visit in visits:
        label = f"conversation {visit.script.index}"
        sender = visit.senders[0] if visit.senders else None
        senders.add(sender)
        found = by_conversation.get(sender or "", [])
        if len(found) != 1:
            problems.append(f"{label}: {len(found)} booking rows, not 1")
            continue
        row = found[0]
        got = {key: row[key] for key in visit.script.booking}
        if row["kind"] != "booking" or got != visit.script.booking:
            problems.append(f"{label}: stored {row}, expected {visit.script.booking}")
        shown = _REFERENCE.findall(visit.replies[visit.script.confirm_turn])
        if shown != [row["reference"]]:
            problems.append(f"{label}: shown {shown}, stored {row['reference']}")
    strangers = sorted(set(by_conversation) - senders)
    if strangers:
        problems.append(f"booking rows of conversations no visitor had: {strangers[:5]}")
    references = [row["reference"] for row in rows]
    if len(set(references)) != len(references):
        problems.append("two booking rows share a reference")
    return problems


# --- the run --------------------------------------------------------------------------


class SoakReport(TypedDict):
    measured_at: str
    conversations: int
    turns: int
    concurrency: int
    database: str
    messages_sent: int
    status_counts: Dict[str, int]
    server_errors: int  # 5xx
    rate_limited: int  # 429
    failed_requests: int  # anything but 200 (timeouts and transport errors included)
    throughput_msg_s: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    load_wall_s: float
    total_wall_s: float
    timed_out: bool
    user_events_checked: int
    tracker_problems: List[str]
    bookings_expected: int
    booking_rows: int
    booking_problems: List[str]
    gateway_log_statuses: Dict[str, int]
    cpu_s_during_load: Dict[str, float]  # per process tree; cores x wall time is the budget
    rate_limits: Dict[str, str]
    machine: Dict[str, Any]
    ok: bool


def log(text: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {text}", flush=True)


def gateway_log_statuses(log_file: Path) -> Dict[str, int]:
    """The status of every ``POST /api/chat`` in the web app's access log (JSON lines,
    ``clinic/logs.py``): the server's count."""
    statuses: Counter[str] = Counter()
    lines = log_file.read_text(errors="replace").splitlines() if log_file.exists() else []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if (
            isinstance(entry, dict)
            and entry.get("logger") == "uvicorn.access"
            and (entry.get("method"), entry.get("path")) == ("POST", "/api/chat")
        ):
            statuses[str(entry.get("status"))] += 1
    return dict(sorted(statuses.items()))


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its descendants, from /proc."""
    tree, total, todo = _children(), 0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = (Path("/proc") / str(current) / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(tree.get(current, []))
    return total / os.sysconf("SC_CLK_TCK")


def stack_cpu_s(stack: Stack) -> Dict[str, float]:
    return {server.name: tree_cpu_s(server.process.pid) for server in stack.servers}


def _create_database(pg: Postgres, name: str) -> str:
    engine = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))  # a constant name
    finally:
        engine.dispose()
    return pg.url.rsplit("/", 1)[0] + f"/{name}"


def rate_limits(conversations: int, turns: int) -> Dict[str, str]:
    """The gateway limits for the run: the whole run may come from one address within
    one window; a session keeps its default limit unless a script is longer."""
    window = f"{SESSION_LIMIT.window_s:g}"
    return {
        "CHAT_SESSION_LIMIT": f"{max(SESSION_LIMIT.limit, turns)}/{window}",
        "CHAT_ADDRESS_LIMIT": f"{conversations * turns}/{window}",
    }


def summarise(
    run: LoadRun,
    scripts: Sequence[Script],
    stored: Dict[str, List[str]],
    rows: Sequence[Dict[str, Any]],
) -> Dict[str, Any]:
    """The figures and the checks of one load run (no timing is judged)."""
    statuses = Counter(status for visit in run.visits for status in visit.statuses)
    sent = sum(len(visit.sent) for visit in run.visits)
    ordered = sorted(run.latencies_ms)
    tracker = tracker_problems(run.visits, stored)
    if run.timed_out:
        tracker.insert(0, "the run hit its deadline: some conversations did not finish")
    return {
        "messages_sent": sent,
        "status_counts": dict(sorted(statuses.items())),
        "server_errors": sum(n for s, n in statuses.items() if s.startswith("5")),
        "rate_limited": statuses.get("429", 0),
        "failed_requests": sent - statuses.get("200", 0),
        "throughput_msg_s": round(len(ordered) / run.wall_s, 1) if run.wall_s else None,
        "p50_ms": percentile(ordered, 50),
        "p95_ms": percentile(ordered, 95),
        "p99_ms": percentile(ordered, 99),
        "max_ms": round(ordered[-1], 1) if ordered else None,
        "load_wall_s": round(run.wall_s, 1),
        "timed_out": run.timed_out,
        "user_events_checked": sum(len(texts) for texts in stored.values()),
        "tracker_problems": tracker,
        "bookings_expected": len(scripts),
        "booking_rows": len(rows),
        "booking_problems": booking_problems(run.visits, rows),
    }


def run_soak(
    workdir: Path,
    *,
    conversations: int = 50,
    turns: int = 20,
    concurrency: int | None = None,
    postgres: bool = False,
    deadline_s: float = DEFAULT_DEADLINE_S,
    model: Path | None = None,
) -> SoakReport:
    """Starts the stack in ``workdir``, runs the soak, checks the stores, stops it all."""
    began = time.perf_counter()
    profile = load_clinic()
    if not profile.allowed_origins:
        raise ValueError("clinic.yml has no allowed_origins: the gateway would refuse all")
    origin = profile.allowed_origins[0].rstrip("/")  # what a browser on the clinic's site sends
    scripts = soak_scripts(profile, datetime.now(timezone.utc), conversations, turns)
    limits = rate_limits(conversations, turns)
    load_before = os.getloadavg()
    pg: Postgres | None = None
    stack: Stack | None = None
    try:
        extra: Dict[str, str] = {**limits, "RASA_TIMEOUT": f"{RASA_TIMEOUT_S:g}"}
        if postgres:
            log("starting PostgreSQL")
            pg = start_postgres()
            extra["TRACKER_STORE_URL"] = pg.url
            extra["DATABASE_URL"] = _create_database(pg, "clinic")
        log(f"starting the action server, Rasa and the web app in {workdir}")
        stack = start_stack(workdir, model or newest_model(), extra_env=extra)
        stack.web = start_gateway(workdir, stack.rasa[0].url, stack.env)
        log(
            f"{conversations} conversations x {turns} turns through {stack.web.url}/api/chat, "
            f"{concurrency or conversations} at a time"
        )
        cpu_before, client_before = stack_cpu_s(stack), time.process_time()
        run = asyncio.run(
            drive(
                stack.web.url,
                origin,
                scripts,
                concurrency=concurrency or conversations,
                deadline_s=deadline_s,
            )
        )
        load_after = os.getloadavg()
        cpu_after, client_cpu_s = stack_cpu_s(stack), time.process_time() - client_before
        cpu_s = {name: round(cpu_after[name] - cpu_before[name], 1) for name in cpu_after}
        cpu_s["soak client"] = round(client_cpu_s, 1)
        log("checking the tracker store and the bookings")
        senders = [sender for visit in run.visits for sender in visit.senders]
        stored = stored_user_texts(stack.env["TRACKER_STORE_URL"], senders)
        rows = stored_bookings(stack.env["DATABASE_URL"])
        figures = summarise(run, scripts, stored, rows)
    finally:
        if stack is not None:
            stop_stack(stack)
        if pg is not None:
            stop_postgres(pg)
    gateway_statuses = gateway_log_statuses(workdir / "gateway.log")
    ok = (
        not figures["tracker_problems"]
        and not figures["booking_problems"]
        and figures["failed_requests"] == 0
        and gateway_statuses == {"200": figures["messages_sent"]}
    )
    return SoakReport(
        measured_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        conversations=conversations,
        turns=turns,
        concurrency=concurrency or conversations,
        database="postgresql" if postgres else "sqlite",
        **figures,
        gateway_log_statuses=gateway_statuses,
        cpu_s_during_load=cpu_s,
        rate_limits=limits,
        total_wall_s=round(time.perf_counter() - began, 1),
        machine={
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
        ok=ok,
    )


def print_report(report: SoakReport) -> None:
    rows: List[Tuple[str, Any]] = [
        ("conversations x turns", f"{report['conversations']} x {report['turns']}"),
        ("concurrent conversations", report["concurrency"]),
        ("stores", report["database"]),
        ("messages sent", report["messages_sent"]),
        ("HTTP statuses (client)", report["status_counts"]),
        ("HTTP statuses (gateway log)", report["gateway_log_statuses"]),
        ("5xx / 429 / not answered", _failures(report)),
        ("throughput (answered msg/s)", report["throughput_msg_s"]),
        ("latency p50 / p95 / p99 / max (ms)", _latencies(report)),
        ("load wall time (s)", report["load_wall_s"]),
        ("total wall time incl. start-up (s)", report["total_wall_s"]),
        ("user events checked", report["user_events_checked"]),
        ("booking rows / expected", f"{report['booking_rows']} / {report['bookings_expected']}"),
        ("CPU s during the load", _cpu(report)),
        ("load average before / after", _loads(report)),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    for problem in [*report["tracker_problems"], *report["booking_problems"]][:20]:
        print(f"  PROBLEM: {problem}")
    print(f"  {'result':<{width}}  {'OK' if report['ok'] else 'FAILED'}")


def _failures(report: SoakReport) -> str:
    return f"{report['server_errors']} / {report['rate_limited']} / {report['failed_requests']}"


def _latencies(report: SoakReport) -> str:
    keys = ("p50_ms", "p95_ms", "p99_ms", "max_ms")
    return " / ".join(str(report[key]) for key in keys)  # type: ignore[literal-required]


def _cpu(report: SoakReport) -> str:
    used = ", ".join(f"{name} {value}" for name, value in report["cpu_s_during_load"].items())
    budget = (report["machine"]["cpus"] or 1) * report["load_wall_s"]
    share = sum(report["cpu_s_during_load"].values()) / budget if budget else 0
    return f"{used} ({share:.0%} of {report['machine']['cpus']} cores x load wall time)"


def _loads(report: SoakReport) -> str:
    machine = report["machine"]
    return f"{machine['load_average_before']} / {machine['load_average_after']}"


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--conversations", type=_positive, default=50)
    parser.add_argument("--turns", type=_positive, default=20)
    parser.add_argument("--concurrency", type=_positive, help="default: all at once")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "soak")
    parser.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL")
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE_S, help="seconds")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (data, logs)")
    args = parser.parse_args(argv)
    if args.conversations > MAX_CONVERSATIONS:
        parser.error(f"--conversations: at most {MAX_CONVERSATIONS}")
    workdir = Path(tempfile.mkdtemp(prefix="clinic-soak-"))
    try:
        report = run_soak(
            workdir,
            conversations=args.conversations,
            turns=args.turns,
            concurrency=args.concurrency,
            postgres=args.postgres,
            deadline_s=args.deadline,
        )
    except Exception:
        log(f"the soak failed; logs in {workdir}")
        raise
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    log(f"results in {args.out / 'soak.json'}")
    if not report["ok"]:
        for log_file in sorted(workdir.glob("*.log")):
            shutil.copy(log_file, args.out / log_file.name)
        log(f"server logs copied to {args.out}")
    if args.keep:
        log(f"databases and logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
