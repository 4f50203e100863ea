"""What the routes share: settings, texts, limiters and the clients built at start-up."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, List, Set

import httpx
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from .history import TrackerHistory
from .ratelimit import SlidingWindowLimiter
from .settings import WebSettings
from .shapes import ChatMessage
from .texts import Texts

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic.console.index import ConversationIndexer


class OfferedPayloads:
    """The quick-reply payloads each sender was offered last (bounded, in memory)."""

    def __init__(self, max_senders: int = 10_000) -> None:
        self._max = max_senders
        self._by_sender: OrderedDict[str, Set[str]] = OrderedDict()

    def remember(self, sender: str, messages: List[ChatMessage]) -> None:
        payloads = {button["payload"] for message in messages for button in message["buttons"]}
        self._by_sender[sender] = payloads
        self._by_sender.move_to_end(sender)
        while len(self._by_sender) > self._max:
            self._by_sender.popitem(last=False)

    def offered(self, sender: str, payload: str) -> bool:
        return payload in self._by_sender.get(sender, set())


@dataclass
class WebState:
    settings: WebSettings
    texts: Texts
    templates: Jinja2Templates
    session_limiter: SlidingWindowLimiter
    address_limiter: SlidingWindowLimiter
    offered: OfferedPayloads = field(default_factory=OfferedPayloads)
    # built by the app's lifespan (start-up), closed at shut-down
    rasa: httpx.AsyncClient | None = None
    history: TrackerHistory | None = None
    # the staff console: sessions on the app database, the tracker store's conversation index
    console_sessions: Callable[[], Session] | None = None
    indexer: ConversationIndexer | None = None


def web_state(request: Request) -> WebState:
    return request.app.state.web
