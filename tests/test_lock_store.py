"""The lock store is configured by one URL (LOCK_STORE_URL); on Redis its tickets are
issued and returned atomically (tests against a real redis-server on loopback)."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from typing import Callable, Iterator, List

import pytest
from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockError, LockStore, RedisLockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from bench.services import Redis, missing_packages, start_redis, stop_redis
from clinic.lock_store import AtomicRedisLockStore, UrlLockStore, redis_store_kwargs


def endpoint(url: str | None, **kwargs: object) -> EndpointConfig:
    return EndpointConfig(url=url, type="clinic.lock_store.UrlLockStore", **kwargs)


def test_memory_url_gives_rasas_in_memory_lock_store(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SANIC_WORKERS", raising=False)
    store = LockStore.create(endpoint("memory://"))
    assert type(store) is InMemoryLockStore


def test_redis_url_gives_the_atomic_redis_lock_store_with_host_port_db_and_prefix():
    store = LockStore.create(endpoint("redis://127.0.0.1:6390/3", key_prefix="clinic"))
    assert type(store) is AtomicRedisLockStore and isinstance(store, RedisLockStore)
    assert store.red.connection_pool.connection_kwargs["port"] == 6390
    assert store.red.connection_pool.connection_kwargs["db"] == 3
    assert store.key_prefix.startswith("clinic:")


def test_a_redis_url_is_split_into_the_store_arguments():
    assert redis_store_kwargs("rediss://rasa:s%40cret@cache.local/2") == {
        "host": "cache.local",
        "port": 6379,
        "db": 2,
        "username": "rasa",
        "password": "s@cret",
        "use_ssl": True,
    }
    assert redis_store_kwargs("redis://127.0.0.1")["db"] == 1


@pytest.mark.parametrize("url", [None, "", "mysql://x", "redis://", "redis://h/db"])
def test_a_missing_or_wrong_url_is_refused_with_the_setting_named(url: str | None):
    with pytest.raises(ValueError, match="LOCK_STORE_URL|lock store URL"):
        UrlLockStore(endpoint(url))


def test_the_memory_store_refuses_several_workers(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(endpoint("memory://")) == 2  # Rasa would allow it ...
    with pytest.raises(ValueError, match="SANIC_WORKERS=2"):  # ... so the store refuses
        UrlLockStore(endpoint("memory://"))


@pytest.fixture(scope="module")
def redis_server() -> Iterator[Redis]:
    if "redis-server" in missing_packages():
        pytest.fail("redis-server is not installed: run `make scaleout-deps`")
    server = start_redis()
    yield server
    stop_redis(server)


@pytest.fixture
def store(redis_server: Redis) -> Iterator[AtomicRedisLockStore]:
    store = UrlLockStore(endpoint(redis_server.url))
    assert isinstance(store, AtomicRedisLockStore)
    store.red.flushdb()
    yield store
    store.red.flushdb()


def in_threads(count: int, work: Callable[[int], object]) -> List[object]:
    """``work(n)`` in ``count`` threads released together; their results."""
    results: List[object] = [None] * count
    start = threading.Barrier(count)

    def run(n: int) -> None:
        start.wait()
        results[n] = work(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_tickets_are_rasas_ticket_lock_in_order_and_the_key_expires_with_them(
    store: AtomicRedisLockStore,
):
    assert [store.issue_ticket("c1", 30) for _ in range(3)] == [0, 1, 2]
    lock = store.get_lock("c1")
    assert isinstance(lock, TicketLock) and lock.conversation_id == "c1"
    assert [t.number for t in lock.tickets] == [0, 1, 2]
    assert lock.now_serving == 0 and not lock.is_locked(0) and lock.is_locked(1)
    assert 29 < lock.tickets[-1].expires - time.time() <= 30
    assert 29_000 < store.red.pttl("lock:c1") <= 31_000  # gone soon after its last ticket


def test_a_lock_written_by_rasas_own_store_is_read_and_extended(
    store: AtomicRedisLockStore, redis_server: Redis
):
    rasas = RedisLockStore(host="127.0.0.1", port=redis_server.port)
    assert rasas.issue_ticket("c2", 30) == 0
    assert store.issue_ticket("c2", 30) == 1
    assert [t.number for t in rasas.get_lock("c2").tickets] == [0, 1]


def test_expired_tickets_are_dropped_and_numbering_goes_on_after_the_last_live_one(
    store: AtomicRedisLockStore,
):
    assert store.issue_ticket("c3", 30) == 0
    assert store.issue_ticket("c3", 0.05) == 1
    time.sleep(0.1)
    store.update_lock("c3")
    assert [t.number for t in store.get_lock("c3").tickets] == [0]
    assert store.issue_ticket("c3", 30) == 1
    store.finish_serving("c3", 0)
    store.finish_serving("c3", 1)
    assert store.get_lock("c3") is None  # no ticket left: no lock, as after Rasa's cleanup


def test_cleanup_keeps_the_lock_while_another_message_holds_a_ticket(
    store: AtomicRedisLockStore,
):
    first, second = store.issue_ticket("c4"), store.issue_ticket("c4")
    store.cleanup("c4", first)
    assert store.is_someone_waiting("c4")
    assert not store.get_lock("c4").is_locked(second)  # the second message's turn
    store.cleanup("c4", second)
    assert store.red.keys("*") == []


def test_many_threads_get_distinct_consecutive_tickets_for_one_conversation(
    store: AtomicRedisLockStore, redis_server: Redis
):
    stores = [UrlLockStore(endpoint(redis_server.url)) for _ in range(40)]  # own connections
    tickets = in_threads(40, lambda n: stores[n].issue_ticket("burst"))
    assert sorted(tickets) == list(range(40))  # type: ignore[type-var]
    assert [t.number for t in store.get_lock("burst").tickets] == list(range(40))


def _issue_in_a_process(url: str, start_at: float, count: int, out: multiprocessing.Queue) -> None:
    store = UrlLockStore(endpoint(url))
    time.sleep(max(0.0, start_at - time.time()))
    out.put([store.issue_ticket("processes") for _ in range(count)])


def test_many_processes_get_distinct_consecutive_tickets_for_one_conversation(
    store: AtomicRedisLockStore, redis_server: Redis
):
    context = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = context.Queue()
    start_at = time.time() + 1.0
    processes = [
        context.Process(target=_issue_in_a_process, args=(redis_server.url, start_at, 25, out))
        for _ in range(6)
    ]
    for process in processes:
        process.start()
    issued = [out.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert sorted(t for tickets in issued for t in tickets) == list(range(150))
    assert all(tickets == sorted(tickets) for tickets in issued)


def test_rasas_lock_context_manager_lets_one_message_in_at_a_time(
    store: AtomicRedisLockStore, redis_server: Redis
):
    inside: List[int] = []
    handled: List[int] = []
    overlaps: List[List[int]] = []

    async def handle(n: int, own: LockStore) -> None:
        async with own.lock("one-conversation", lock_lifetime=30, wait_time_in_seconds=0.01):
            inside.append(n)
            if len(inside) > 1:
                overlaps.append(list(inside))
            await asyncio.sleep(0.005)
            handled.append(n)
            inside.remove(n)

    stores = [UrlLockStore(endpoint(redis_server.url)) for _ in range(20)]
    in_threads(20, lambda n: asyncio.run(handle(n, stores[n])))
    assert overlaps == []
    assert sorted(handled) == list(range(20))
    assert store.red.keys("*") == []  # the last one out deleted the lock


def test_a_failing_redis_raises_rasas_lock_error(redis_server: Redis):
    store = UrlLockStore(endpoint("redis://127.0.0.1:1/1", socket_timeout=1))
    with pytest.raises(LockError, match="Error while acquiring lock"):
        store.issue_ticket("c5")


def test_a_conversation_id_with_quotes_slashes_and_accents_survives_the_script(
    store: AtomicRedisLockStore, redis_server: Redis
):
    sender = 'zoë "x"/y\\z'
    assert [store.issue_ticket(sender), store.issue_ticket(sender)] == [0, 1]
    assert store.get_lock(sender).conversation_id == sender
    rasas = RedisLockStore(host="127.0.0.1", port=redis_server.port)
    assert rasas.issue_ticket(sender) == 2  # Rasa's own store reads what the script wrote
