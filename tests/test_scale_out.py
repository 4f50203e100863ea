"""Scale-out: 2 and then 4 Rasa server processes share a PostgreSQL tracker store and a
Redis lock store (``LOCK_STORE_URL``, the project's ``AtomicRedisLockStore``), and
conversations stay complete and in order, also when messages of one conversation
reach different processes at the same instant.

Starts real PostgreSQL and Redis servers (``make scaleout-deps``) on free loopback
ports, one action server and the Rasa servers. Runs only when asked for
(``pytest -m scaleout``, ``make test-scaleout``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Dict, Iterator, List, Tuple

import httpx
import pytest
import sqlalchemy as sa

from bench.load import Target, run_load
from bench.services import (
    Postgres,
    Redis,
    missing_packages,
    start_postgres,
    start_redis,
    stop_postgres,
    stop_redis,
)
from bench.stack import Stack, start_stack, stop_stack
from tests.servers import newest_model

pytestmark = pytest.mark.scaleout
CONVERSATIONS = 20


@pytest.fixture(scope="module")
def stores(request: pytest.FixtureRequest) -> Iterator[Tuple[Postgres, Redis]]:
    if "scaleout" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("starts PostgreSQL, Redis and 2, then 4 Rasa servers: run `make test-scaleout`")
    if missing := missing_packages():
        pytest.fail(f"missing Debian packages {missing}: run `make scaleout-deps`")
    pg = start_postgres()
    try:
        redis = start_redis()
    except Exception:
        stop_postgres(pg)
        raise
    yield pg, redis
    stop_redis(redis)
    stop_postgres(pg)


@pytest.fixture(scope="module", params=[2, 4], ids=lambda n: f"{n}-processes")
def rasa_processes(
    stores: Tuple[Postgres, Redis],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Stack]:
    pg, redis = stores
    stack = start_stack(
        tmp_path_factory.mktemp("scaleout"),
        newest_model(),
        rasa_processes=request.param,
        extra_env={"TRACKER_STORE_URL": pg.url, "LOCK_STORE_URL": redis.url},
    )
    yield stack
    stop_stack(stack)


def stored_events(pg: Postgres, sender: str) -> List[Dict[str, object]]:
    engine = sa.create_engine(pg.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT type_name, action_name, timestamp, data FROM events "
                    "WHERE sender_id = :sender ORDER BY id"
                ),
                {"sender": sender},
            ).fetchall()
    finally:
        engine.dispose()
    return [
        {"type": t, "action": a, "timestamp": ts, "text": json.loads(d).get("text")}
        for t, a, ts, d in rows
    ]


def assert_turns_complete_and_in_order(events: List[Dict[str, object]], texts: List[str]) -> None:
    """The user's messages in the order sent; each answered (some action) and closed
    by action_listen before the next one arrives; timestamps never go back."""
    assert [e["text"] for e in events if e["type"] == "user"] == texts
    timestamps = [float(e["timestamp"]) for e in events]  # type: ignore[arg-type]
    assert timestamps == sorted(timestamps)
    turns: List[List[Dict[str, object]]] = []
    for event in events:
        if event["type"] == "user":
            turns.append([])
        elif turns:
            turns[-1].append(event)
    for turn in turns:
        actions = [e["action"] for e in turn if e["type"] == "action"]
        assert actions and actions[-1] == "action_listen", actions
        assert any(a != "action_listen" for a in actions), actions
    assert sum(e["action"] == "action_session_start" for e in events) == 1


def test_rasa_processes_keep_every_conversation_complete_and_in_order(
    stores: Tuple[Postgres, Redis], rasa_processes: Stack
):
    pg, _ = stores
    urls = [server.url for server in rasa_processes.rasa]
    target = Target("rest", urls)  # each conversation goes round the processes message by message
    result = asyncio.run(
        run_load(
            target,
            label=f"{len(urls)} processes",
            concurrency=CONVERSATIONS,
            conversations=CONVERSATIONS,
            sender_prefix="scaleout",
            deadline_s=300,
        )
    )
    assert result.errors == 0, result.error_samples
    assert not result.timed_out
    assert len(result.sent) == CONVERSATIONS
    for sender, texts in result.sent.items():
        assert_turns_complete_and_in_order(stored_events(pg, sender), texts)


async def _at_once(urls: List[str], sender: str, texts: List[str]) -> List[int]:
    """``texts`` of one conversation posted at the same instant, message n to process n mod N."""
    async with httpx.AsyncClient(timeout=120, trust_env=False) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{urls[n % len(urls)]}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text},
                )
                for n, text in enumerate(texts)
            )
        )
    return [r.status_code for r in responses]


BURST = [
    "what are your opening hours?",
    "is there parking?",
    "where is the clinic?",
    "what are your prices?",
]


def test_messages_of_one_conversation_sent_to_several_processes_at_once_are_handled_one_by_one(
    stores: Tuple[Postgres, Redis], rasa_processes: Stack
):
    """The project's AtomicRedisLockStore issues each message its own ticket in one
    atomic step (Rasa's own RedisLockStore could give two of them ticket 0,
    RasaHQ/rasa#9213), so each conversation's messages run one after another."""
    pg, _ = stores
    urls = [server.url for server in rasa_processes.rasa]
    senders = [f"burst{len(urls)}-{n}" for n in range(CONVERSATIONS)]

    async def burst() -> List[List[int]]:
        return await asyncio.gather(*(_at_once(urls, sender, BURST) for sender in senders))

    statuses = asyncio.run(burst())
    assert statuses == [[200] * len(BURST)] * CONVERSATIONS
    stored = {sender: stored_events(pg, sender) for sender in senders}
    lost = [s for s, events in stored.items() if sum(e["type"] == "user" for e in events) != 4]
    print(f"conversations that lost or doubled a message: {len(lost)}/{CONVERSATIONS}")
    assert lost == []
    for events in stored.values():
        texts = [str(e["text"]) for e in events if e["type"] == "user"]
        assert sorted(texts) == sorted(BURST)  # each message stored exactly once
        rows = [(e["type"], e["action"], e["timestamp"], e["text"]) for e in events]
        assert len(set(rows)) == len(rows)  # no event stored twice
        # the Redis lock serialises them: each starts after the one before was answered
        assert_turns_complete_and_in_order(events, texts)


def test_every_process_took_its_conversation_locks_in_redis(
    rasa_processes: Stack, stores: Tuple[Postgres, Redis]
):
    import redis as redis_client

    _, redis = stores
    client = redis_client.Redis(host="127.0.0.1", port=redis.port, db=1)
    client.config_resetstat()  # only this stack's commands
    for n, server in enumerate(rasa_processes.rasa):
        reply = httpx.post(
            f"{server.url}/webhooks/rest/webhook",
            json={"sender": f"lock{len(rasa_processes.rasa)}-{n}", "message": "hello"},
            timeout=60,
        )
        assert reply.status_code == 200 and reply.json()
    stats = client.info("commandstats")
    assert stats.get("cmdstat_evalsha", {}).get("calls", 0) > 0  # the atomic Lua scripts ...
    assert stats.get("cmdstat_set", {}).get("calls", 0) > 0  # ... wrote locks ...
    assert stats.get("cmdstat_del", {}).get("calls", 0) > 0  # ... and released
    assert client.keys("*") == []  # none left behind
