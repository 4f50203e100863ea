"""Server times of the staff console's list and filters on a seeded tracker store (not a test):

    python scripts/seed_conversations.py var/bench/tracker.db
    python scripts/bench_console.py var/bench/tracker.db

Indexes the events into a fresh app database (timed once), then times each list query
(first page, a page deep in the list by its keyset cursor, each filter, search) as the
median of a few runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clinic.console import queries  # noqa: E402
from clinic.console.index import ConversationIndexer  # noqa: E402
from clinic.console.queries import ConversationFilters as F  # noqa: E402
from clinic.db.engine import make_engine, make_session_factory  # noqa: E402
from clinic.db.migrate import upgrade  # noqa: E402
from clinic.settings import PROJECT_ROOT  # noqa: E402
from clinic.web.history import make_read_only_engine  # noqa: E402


def timed(run, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tracker_db", type=Path)
    parser.add_argument("--app-db", type=Path, default=None)
    args = parser.parse_args()
    app_db = args.app_db or Path(tempfile.mkdtemp()) / "clinic.db"
    url = f"sqlite:///{app_db}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    tracker = make_read_only_engine(f"sqlite:///{args.tracker_db.resolve()}", PROJECT_ROOT)
    indexer = ConversationIndexer(sessions, tracker)
    began = time.perf_counter()
    events = indexer.sync()
    print(
        f"index: {events} events, {queries.count_conversations(sessions)} conversations "
        f"in {time.perf_counter() - began:.1f} s (once; later syncs read only new events)"
    )
    print(f"sync with nothing new: {timed(indexer.sync):.1f} ms")
    deep = queries.list_conversations(sessions, F(), None, 90_000)
    deep_cursor = queries.encode_cursor(deep.rows[-1], _row_id(sessions, deep.rows[-1].sender_id))
    day = 86_400
    now = time.time()
    cases = {
        "first page": (F(), None),
        "page after 90,000 rows (keyset)": (F(), deep_cursor),
        "red flag": (F(red_flag=True), None),
        "booking": (F(booking=True), None),
        "fallback / low confidence": (F(low_confidence=True), None),
        "not reviewed": (F(reviewed="no"), None),
        "intent = headache": (F(intent="headache"), None),
        "last 7 days": (F(date_from=now - 7 * day), None),
        "days 90-97 ago": (F(date_from=now - 97 * day, date_to=now - 90 * day), None),
        "search 'crushing'": (F(search="crushing"), None),
        "search, no match": (F(search="no such words here"), None),
        "tag = follow-up": (F(tag="follow-up"), None),
    }
    print(f"{'list query':36} {'ms (median of 5)':>16}  rows")
    for name, (filters, cursor) in cases.items():
        page = queries.list_conversations(sessions, filters, cursor)
        ms = timed(lambda f=filters, c=cursor: queries.list_conversations(sessions, f, c))
        print(f"{name:36} {ms:16.1f}  {len(page.rows)}")
    print(f"{'inbox first page':36} {timed(lambda: queries.inbox(sessions)):16.1f}")
    engine.dispose()
    tracker.dispose()


def _row_id(sessions, sender: str) -> int:
    from sqlalchemy import select

    from clinic.db.models import ConversationIndex

    with sessions() as session:
        query = select(ConversationIndex.id).where(ConversationIndex.sender_id == sender)
        return session.execute(query).scalar_one()


if __name__ == "__main__":
    main()
