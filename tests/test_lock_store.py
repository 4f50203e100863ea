"""The lock store is configured by one URL (LOCK_STORE_URL)."""

from __future__ import annotations

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from clinic.lock_store import UrlLockStore, redis_store_kwargs


def endpoint(url: str | None, **kwargs: object) -> EndpointConfig:
    return EndpointConfig(url=url, type="clinic.lock_store.UrlLockStore", **kwargs)


def test_memory_url_gives_rasas_in_memory_lock_store(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SANIC_WORKERS", raising=False)
    store = LockStore.create(endpoint("memory://"))
    assert type(store) is InMemoryLockStore


def test_redis_url_gives_rasas_redis_lock_store_with_host_port_db_and_prefix():
    store = LockStore.create(endpoint("redis://127.0.0.1:6390/3", key_prefix="clinic"))
    assert type(store) is RedisLockStore
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
