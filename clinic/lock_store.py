"""Rasa's lock store configured by one URL (``LOCK_STORE_URL``).

``endpoints.yml`` names this class (``type: clinic.lock_store.UrlLockStore``)
and passes ``url: ${LOCK_STORE_URL}``; Rasa 3.6 builds a custom lock store as
``UrlLockStore(endpoint_config=...)``. The URL chooses Rasa's own store:

- ``memory://``: ``InMemoryLockStore`` (one Rasa process with one worker);
- ``redis://[user:password@]host[:port][/db]`` (``rediss://`` for TLS):
  ``AtomicRedisLockStore``, shared by several Rasa processes or ``SANIC_WORKERS``.

Other keys of the ``lock_store`` section (``key_prefix``, ``socket_timeout``)
are passed on to ``RedisLockStore``.

``AtomicRedisLockStore`` is Rasa's ``RedisLockStore`` with every change of a
lock made in one Lua script, so in one atomic step in Redis. Rasa's own store
reads the lock, changes it in Python and writes it back (RasaHQ/rasa#9213): two
processes issuing a ticket for one conversation at the same instant both got
ticket 0 and handled their messages at once, and one message's events were
lost; a ticket issued while another process finished its own could be wiped
out. The lock stays Rasa's ``TicketLock`` JSON, so Rasa's ``lock()`` context
manager, ``get_lock`` and ``is_someone_waiting`` work unchanged.
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict
from urllib.parse import unquote, urlsplit

from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
    RedisLockStore,
)
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


# Shared by the scripts: KEYS[1] is the lock, ARGV[1] the caller's time.time().
# The ticket strings are kept as Rasa wrote them (``Ticket.dumps``) and new ones
# are written in the same form, so ``TicketLock.from_dict`` reads the lock.
_LUA_READ = """
local now = tonumber(ARGV[1])
local raw = redis.call('GET', KEYS[1])
local conversation_id = ARGV[2]
local tickets = {}
if raw then
  local lock = cjson.decode(raw)
  if type(lock.conversation_id) == 'string' then conversation_id = lock.conversation_id end
  for _, text in ipairs(lock.tickets or {}) do
    local ticket = cjson.decode(text)
    if ticket.expires >= now then  -- Rasa: expired when time.time() > expires
      table.insert(tickets, {number = ticket.number, expires = ticket.expires, text = text})
    end
  end
end
local function write()
  if #tickets == 0 then
    redis.call('DEL', KEYS[1])
    return
  end
  local texts, last = {}, now
  for i, ticket in ipairs(tickets) do
    texts[i] = cjson.encode(ticket.text)
    if ticket.expires > last then last = ticket.expires end
  end
  local lock = '{"conversation_id": ' .. cjson.encode(conversation_id)
    .. ', "tickets": [' .. table.concat(texts, ', ') .. ']}'
  -- the key outlives its last ticket by a second: a process that died holding
  -- a ticket leaves nothing behind
  redis.call('SET', KEYS[1], lock, 'PX', math.ceil((last - now) * 1000) + 1000)
end
"""

# ARGV: now, conversation id, lifetime in seconds. Returns the new ticket's number.
_LUA_ISSUE = (
    _LUA_READ
    + """
local number = 0
if #tickets > 0 then number = tickets[#tickets].number + 1 end
local expires = now + tonumber(ARGV[3])
table.insert(tickets, {number = number, expires = expires,
  text = string.format('{"number": %d, "expires": %.6f}', number, expires)})
write()
return number
"""
)

# ARGV: now, conversation id, ticket number. Drops that ticket and the expired
# ones; no ticket left deletes the lock, as Rasa's cleanup does when no one waits.
_LUA_REMOVE = (
    _LUA_READ
    + """
local number = tonumber(ARGV[3])
for i = #tickets, 1, -1 do
  if tickets[i].number == number then table.remove(tickets, i) end
end
if raw then write() end
return #tickets
"""
)


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's ``RedisLockStore`` whose tickets are issued, expired and returned
    atomically (one Lua script each), keeping Rasa's ticket-lock semantics."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._issue = self.red.register_script(_LUA_ISSUE)
        self._remove = self.red.register_script(_LUA_REMOVE)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """One past the last live ticket (0 for a new lock), in one step."""
        try:
            return int(
                self._issue(
                    keys=[self.key_prefix + conversation_id],
                    args=[repr(time.time()), conversation_id, repr(float(lock_lifetime))],
                )
            )
        except Exception as e:  # Rasa's message for any failure to issue
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def _remove_ticket(self, conversation_id: str, ticket_number: int) -> None:
        self._remove(
            keys=[self.key_prefix + conversation_id],
            args=[repr(time.time()), conversation_id, int(ticket_number)],
        )

    def update_lock(self, conversation_id: str) -> None:
        """Drops the expired tickets (no ticket number is below -1)."""
        self._remove_ticket(conversation_id, -2)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._remove_ticket(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Returns the ticket and deletes the lock when no one else holds one,
        in the same step, so a ticket issued meanwhile is never deleted."""
        self._remove_ticket(conversation_id, ticket_number)


def lock_store_from_url(url: str | None, **kwargs: Any) -> LockStore:
    """Rasa's ``InMemoryLockStore`` for ``memory://``, ``AtomicRedisLockStore`` for ``redis://``."""
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
        return AtomicRedisLockStore(**redis_store_kwargs(url), **kwargs)
    raise ValueError(f"the lock store URL '{url}' is neither memory:// nor redis://")


class UrlLockStore(LockStore):
    """Stands for the lock store that ``url`` names: constructing it returns
    Rasa's ``InMemoryLockStore`` or ``AtomicRedisLockStore`` (a ``RedisLockStore``),
    so Rasa's own checks (e.g. which stores allow several workers) see the real class."""

    def __new__(  # type: ignore[misc]
        cls, endpoint_config: EndpointConfig | None = None, url: str | None = None
    ) -> LockStore:
        kwargs: Dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        return lock_store_from_url(
            url or (endpoint_config.url if endpoint_config else None), **kwargs
        )
