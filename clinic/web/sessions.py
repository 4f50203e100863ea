"""Chat session ids: unguessable tokens in an HttpOnly, SameSite=Strict cookie.

The Rasa sender id is a one-way hash of the session id, so nothing stored in the
tracker store (which staff can read) lets anyone take over a visitor's session.

The cookie alone leads to the conversation, and its transcript is read from the
tracker store; the web app's memory holds only rate limits and a cache of the quick
replies offered (which falls back to the transcript). So a visitor goes on where they
were after the web app restarts (``tests/faults/test_web_app_restart.py``).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from starlette.requests import Request
from starlette.responses import Response

TOKEN_BYTES = 32  # 256 bits; token_urlsafe makes 43 characters of them
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
SENDER_PREFIX = "web-"


def new_session_id() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def session_from_cookie(request: Request, cookie_name: str) -> str | None:
    """The session id of the request's cookie, when it is one we could have issued."""
    value = request.cookies.get(cookie_name, "")
    return value if _TOKEN.match(value) else None


def sender_id(session_id: str) -> str:
    """The Rasa sender id of a session: ``web-`` and 32 hex digits of its SHA-256."""
    digest = hashlib.sha256(f"clinic-chat:{session_id}".encode()).hexdigest()
    return SENDER_PREFIX + digest[:32]


def set_session_cookie(response: Response, request: Request, name: str, session_id: str) -> None:
    """A browser-session cookie: gone when the browser closes, never readable by scripts."""
    response.set_cookie(
        name,
        session_id,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
