"""Rasa's lock store configured by one URL (``LOCK_STORE_URL``).

``endpoints.yml`` names this class (``type: clinic.lock_store.UrlLockStore``)
and passes ``url: ${LOCK_STORE_URL}``; Rasa 3.6 builds a custom lock store as
``UrlLockStore(endpoint_config=...)``. The URL chooses Rasa's own store:

- ``memory://``: ``InMemoryLockStore`` (one Rasa process with one worker);
- ``redis://[user:password@]host[:port][/db]`` (``rediss://`` for TLS):
  ``RedisLockStore``, shared by several Rasa processes or ``SANIC_WORKERS``.

Other keys of the ``lock_store`` section (``key_prefix``, ``socket_timeout``)
are passed on to ``RedisLockStore``.
"""

from __future__ import annotations

import os
from typing import Any, Dict
from urllib.parse import unquote, urlsplit

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

REDIS_SCHEMES = ("redis", "rediss")


def redis_store_kwargs(url: str) -> Dict[str, Any]:
    """The ``RedisLockStore`` arguments that a ``redis://`` URL stands for."""
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES or not parts.hostname:
        raise ValueError(f"the lock store URL '{url}' is not redis://host[:port][/db]")
    db = parts.path.strip("/") or "1"  # Rasa's default lock database
    if not db.isdigit():
        raise ValueError(f"the lock store URL '{url}' names database '{db}', not a number")
    return {
        "host": parts.hostname,
        "port": parts.port or 6379,
        "db": int(db),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_ssl": parts.scheme == "rediss",
    }


def lock_store_from_url(url: str | None, **kwargs: Any) -> LockStore:
    """Rasa's ``InMemoryLockStore`` for ``memory://``, ``RedisLockStore`` for ``redis://``."""
    if not url:
        raise ValueError("the lock store needs a URL (set LOCK_STORE_URL)")
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        workers = os.environ.get("SANIC_WORKERS", "1").strip() or "1"
        if workers != "1":
            # Rasa lets a custom lock store run several workers; the memory store
            # cannot be shared between them, so conversations would interleave.
            raise ValueError(
                f"LOCK_STORE_URL={url} cannot serve SANIC_WORKERS={workers}: use redis://"
            )
        return InMemoryLockStore()
    if scheme in REDIS_SCHEMES:
        return RedisLockStore(**redis_store_kwargs(url), **kwargs)
    raise ValueError(f"the lock store URL '{url}' is neither memory:// nor redis://")


class UrlLockStore(LockStore):
    """Stands for the lock store that ``url`` names: constructing it returns
    Rasa's ``InMemoryLockStore`` or ``RedisLockStore`` itself, so Rasa's own
    checks (e.g. which stores allow several workers) see the real class."""

    def __new__(  # type: ignore[misc]
        cls, endpoint_config: EndpointConfig | None = None, url: str | None = None
    ) -> LockStore:
        kwargs: Dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        return lock_store_from_url(
            url or (endpoint_config.url if endpoint_config else None), **kwargs
        )
