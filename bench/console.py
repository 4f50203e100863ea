"""The staff console at 100,000 conversations: list and filter pages under 300 ms server time.

    python -m bench.console [--conversations N] [--backend sqlite|postgresql|both]

(``make bench-console``; ``make bench`` adds the same figures to ``results.json`` under
``"console"``.) For each database: writes N synthetic conversations into a fresh tracker
store, in the ``events`` schema of Rasa's ``SQLTrackerStore`` (``seed``), indexes them into
a fresh app database once (timed), then times every list query (first page, a page deep in
the list by its keyset cursor, each filter, search, the inbox) twice, as the median of a few
runs: the query alone, and the whole page as the web app serves it (``create_app`` in
Starlette's ``TestClient``, logged in: session check, index sync, query, filter lists, audit
row, template). SQLite files in a temporary folder; PostgreSQL on a throw-away server
(``bench/services.py``, ``make scaleout-deps``), skipped when it is not installed.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

TARGET_MS = 300.0
CONVERSATIONS = 100_000
REPEAT = 5
STAFF_PASSWORD = "bench password of the console"

# Rasa 3.6's SQLTrackerStore.SQLEvent: the table the tracker store writes and the console reads
EVENTS = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)
COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
COPY_EVENTS = (
    "COPY events (sender_id, type_name, timestamp, intent_name, action_name, data)"
    " FROM STDIN WITH (FORMAT csv)"
)
INTENTS = {
    "ask_safety": "is dry needling safe for me",
    "ask_soreness": "will I be sore after the session",
    "back_pain": "my lower back has hurt for weeks",
    "neck_pain": "stiff neck from working at a desk",
    "headache": "I get tension headaches every afternoon",
    "ask_clinic_info": "what are your opening hours",
    "book_appointment": "I'd like to book an appointment",
    "ask_what_is_dry_needling": "what is dry needling exactly",
}
Row = Tuple[str, str, float, str | None, str | None, str]


# --- the synthetic tracker store ------------------------------------------------------------


def conversation(rng: random.Random, number: int, start: float) -> List[Row]:
    """A session start, 1-5 user messages with intents and confidences, bot answers and the
    odd slot; about 3 % carry a red flag, 8 % a fallback, 5 % a booking reference."""
    sender = f"seed-{number:07d}"
    rows: List[Row] = []
    at = start

    def add(type_name: str, data: dict, intent: str | None = None, action: str | None = None):
        nonlocal at
        at += rng.uniform(0.5, 40)
        rows.append((sender, type_name, at, intent, action, json.dumps({**data, "timestamp": at})))

    start_action = "action_session_start"
    add("action", {"event": "action", "name": start_action}, action=start_action)
    add("session_started", {"event": "session_started"})
    red = rng.random() < 0.03
    fallback = rng.random() < 0.08
    for turn in range(rng.randint(1, 5)):
        intent, text = rng.choice(list(INTENTS.items()))
        confidence = rng.uniform(0.55, 1.0)
        entities = []
        if red and turn == 0:
            text += " and I have crushing chest pain"
            entities = [{"entity": "red_flag", "value": "cardiac", "start": 0, "end": 5}]
        if fallback and turn == 0:
            intent, confidence, text = "nlu_fallback", 0.3, f"blorp {number} zonk"
        parse = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities,
            "text": text,
        }
        add("user", {"event": "user", "text": f"{text} #{number}", "parse_data": parse}, intent)
        action = "action_default_fallback" if intent == "nlu_fallback" else f"utter_{intent}"
        add("action", {"event": "action", "name": action}, action=action)
        add("bot", {"event": "bot", "text": "An answer from the domain."})
    if rng.random() < 0.05:
        add(
            "slot",
            {"event": "slot", "name": "booking_reference", "value": f"RC-{number:06d}"},
            action="booking_reference",
        )
    return rows


def _batches(conversations: int, days: int, seed: int) -> Iterator[List[Row]]:
    rng = random.Random(seed)
    now = time.time()
    starts = sorted(now - rng.uniform(0, days * 86_400) for _ in range(conversations))
    batch: List[Row] = []
    for number, start in enumerate(starts):
        batch += conversation(rng, number, start)
        if len(batch) >= 50_000:
            yield batch
            batch = []
    if batch:
        yield batch


def _copy_into_postgres(engine: Engine, batch: List[Row]) -> None:
    """PostgreSQL's COPY: a million rows in seconds, where INSERTs take minutes."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(batch)
    buffer.seek(0)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.copy_expert(COPY_EVENTS, buffer)
        raw.commit()
    finally:
        raw.close()


def seed(url: str, conversations: int = CONVERSATIONS, days: int = 180, seed: int = 7) -> int:
    """Writes ``conversations`` synthetic conversations spread over ``days`` into the tracker
    store at ``url`` (the ``events`` table is created when missing); the number of events.
    Never point it at a tracker store with real conversations."""
    engine = sa.create_engine(url, future=True)
    try:
        EVENTS.metadata.create_all(engine)
        for batch in _batches(conversations, days, seed):
            if engine.dialect.name == "postgresql":
                _copy_into_postgres(engine, batch)
            else:
                with engine.begin() as connection:
                    connection.execute(
                        EVENTS.insert(), [dict(zip(COLUMNS, r, strict=True)) for r in batch]
                    )
        with engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar())
    finally:
        engine.dispose()


def database_url(target: str) -> str:
    """A database URL as given, or a SQLite file's path (its folder is created)."""
    if "://" in target:
        return target
    path = Path(target).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


# --- the measurements ---------------------------------------------------------------------


def timed_ms(run: Callable[[], Any], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 1)


def _cursor_after(sessions: Any, rows: int) -> str | None:
    """The keyset cursor of the list's ``rows``-th row (as "Next page" links carry it)."""
    from clinic.console import queries
    from clinic.db.models import ConversationIndex as C

    query = (
        sa.select(C.pinned, C.started_at, C.id)
        .order_by(C.pinned.desc(), C.started_at.desc(), C.id.desc())
        .offset(rows - 1)
        .limit(1)
    )
    with sessions() as session:
        found = session.execute(query).first()
    if found is None:
        return None
    pinned, started_at, row_id = found
    row = queries.ConversationRow(
        sender_id="",
        started_at=started_at,
        last_at=started_at,
        first_message="",
        turns=0,
        red_flag=False,
        booking=False,
        low_confidence=False,
        reviewed=False,
        pinned=pinned,
    )
    return queries.encode_cursor(row, row_id)


def cases(deep_cursor: str | None) -> List[Tuple[str, Dict[str, Any], Dict[str, str]]]:
    """(name, ConversationFilters arguments, the same as the page's query string)."""
    day, now = 86_400, time.time()
    week_ago = time.strftime("%Y-%m-%d", time.localtime(now - 7 * day))
    from_day = time.strftime("%Y-%m-%d", time.localtime(now - 97 * day))
    to_day = time.strftime("%Y-%m-%d", time.localtime(now - 91 * day))
    listed = [
        ("first page", {}, {}),
        ("red flag", {"red_flag": True}, {"red_flag": "1"}),
        ("booking", {"booking": True}, {"booking": "1"}),
        ("fallback / low confidence", {"low_confidence": True}, {"low_confidence": "1"}),
        ("not reviewed", {"reviewed": "no"}, {"reviewed": "no"}),
        ("intent = headache", {"intent": "headache"}, {"intent": "headache"}),
        ("intent, no match", {"intent": "no_such_intent"}, {"intent": "no_such_intent"}),
        ("last 7 days", {"date_from": now - 7 * day}, {"from": week_ago}),
        (
            "a week 90 days ago",
            {"date_from": now - 97 * day, "date_to": now - 90 * day},
            {"from": from_day, "to": to_day},
        ),
        ("search 'crushing'", {"search": "crushing"}, {"q": "crushing"}),
        ("search, no match", {"search": "no such words here"}, {"q": "no such words here"}),
        ("tag, no match", {"tag": "follow-up"}, {"tag": "follow-up"}),
    ]
    if deep_cursor:
        listed.insert(1, ("page after 90,000 rows (keyset)", {}, {"after": deep_cursor}))
    return listed


def measure(tracker_url: str, app_url: str, repeat: int = REPEAT) -> Dict[str, Any]:
    """Indexes the tracker store into the (empty) app database, then times each list
    query and page; milliseconds, medians of ``repeat`` runs."""
    from starlette.testclient import TestClient

    from clinic.console import queries
    from clinic.console.accounts import create_user
    from clinic.console.index import ConversationIndexer
    from clinic.db.engine import make_engine, make_session_factory
    from clinic.db.migrate import upgrade
    from clinic.settings import PROJECT_ROOT, load_clinic
    from clinic.web.app import create_app
    from clinic.web.history import make_read_only_engine
    from clinic.web.settings import WebSettings
    from tests.web.staff import log_in

    upgrade(app_url)
    engine = make_engine(app_url)
    sessions = make_session_factory(engine)
    tracker = make_read_only_engine(tracker_url, PROJECT_ROOT)
    figures: Dict[str, Any] = {}
    try:
        began = time.perf_counter()
        events = ConversationIndexer(sessions, tracker).sync()
        figures["index_s"] = round(time.perf_counter() - began, 1)
        figures["indexed_events"] = events
        figures["conversations"] = queries.count_conversations(sessions)
        figures["sync_nothing_new_ms"] = timed_ms(ConversationIndexer(sessions, tracker).sync)
        create_user(sessions, "bench", "staff", STAFF_PASSWORD)
        settings = WebSettings(
            clinic=load_clinic(),
            rasa_url="http://127.0.0.1:9",  # not used by the console's pages
            tracker_store_url=tracker_url,
            database_url=app_url,
        )
        pages = []
        with TestClient(create_app(settings)) as client:
            log_in(client, "bench", STAFF_PASSWORD)

            def page_ms(path: str, params: Dict[str, str]) -> float:
                def get() -> None:
                    response = client.get(path, params=params)
                    assert response.status_code == 200, (path, response.status_code)

                return timed_ms(get, repeat)

            for name, arguments, params in cases(_cursor_after(sessions, 90_000)):
                filters = queries.ConversationFilters(**arguments)
                cursor = params.get("after")
                listed = queries.list_conversations(sessions, filters, cursor)
                query_ms = timed_ms(
                    lambda f=filters, c=cursor: queries.list_conversations(sessions, f, c), repeat
                )
                pages.append(
                    {"name": name, "rows": len(listed.rows), "query_ms": query_ms}
                    | {"page_ms": page_ms("/staff/conversations", params)}
                )
            pages.append(
                {
                    "name": "inbox",
                    "rows": len(queries.inbox(sessions)[0]),
                    "query_ms": timed_ms(lambda: queries.inbox(sessions), repeat),
                    "page_ms": page_ms("/staff/inbox", {}),
                }
            )
        figures["pages"] = pages
        figures["slowest_page_ms"] = max(p["page_ms"] for p in pages)
    finally:
        engine.dispose()
        tracker.dispose()
    return figures


def run_backend(backend: str, conversations: int, work: Path) -> Dict[str, Any]:
    """Seeds and measures one database kind: ``sqlite`` or ``postgresql``."""
    if backend == "sqlite":
        work.mkdir(parents=True, exist_ok=True)
        tracker_url, app_url = f"sqlite:///{work / 'tracker.db'}", f"sqlite:///{work / 'clinic.db'}"
        began = time.perf_counter()
        events = seed(tracker_url, conversations)
        seed_s = round(time.perf_counter() - began, 1)
        return {"events": events, "seed_s": seed_s, **measure(tracker_url, app_url)}
    from .services import create_database, postgres_bin, start_postgres, stop_postgres

    if postgres_bin() is None:
        return {"skipped": "PostgreSQL is not installed (make scaleout-deps)"}
    pg = start_postgres()
    try:
        tracker_url, app_url = pg.url, create_database(pg, "clinic")
        began = time.perf_counter()
        events = seed(tracker_url, conversations)
        seed_s = round(time.perf_counter() - began, 1)
        return {"events": events, "seed_s": seed_s, **measure(tracker_url, app_url)}
    finally:
        stop_postgres(pg)


def figures(
    work: Path,
    conversations: int = CONVERSATIONS,
    backends: Tuple[str, ...] = ("sqlite", "postgresql"),
) -> Dict[str, Any]:
    """What ``make bench`` puts under ``"console"`` in results.json."""
    out: Dict[str, Any] = {"conversations": conversations, "target_ms": TARGET_MS, "backends": {}}
    for backend in backends:
        out["backends"][backend] = run_backend(backend, conversations, work / backend)
    return out


def for_bench(work: Path, quick: bool = False) -> Dict[str, Any]:
    """``make bench``: 100,000 conversations on SQLite and PostgreSQL; ``make bench-quick``:
    10,000 on SQLite. The seeded files are removed afterwards."""
    try:
        if quick:
            return figures(work, 10_000, ("sqlite",))
        return figures(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: List[str] | None = None) -> int:
    from . import report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=CONVERSATIONS)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--keep", type=Path, default=None, help="keep the SQLite files here")
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    work = args.keep or Path(tempfile.mkdtemp(prefix="clinic-console-bench-"))
    try:
        result = figures(work, args.conversations, backends)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(report.console_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
