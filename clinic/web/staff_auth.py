"""The staff console's guards: server-side sessions, CSRF tokens, login throttling.

- A session is a random token in the cookie ``clinic_staff`` (HttpOnly,
  SameSite=Strict, Secure over https); the table ``staff_sessions`` keeps only an
  HMAC of it under ``STAFF_SECRET_KEY``, so a copy of the database opens nothing.
  A session ends at logout, after ``staff_idle_timeout_s`` without a request, or
  when the account is disabled or its password changes.
- Every form carries a CSRF token: an HMAC of the session token (or, on the login
  page, of a pre-session cookie). A POST without the right one gets 403.
- ``login_max_failures`` failed logins for an account or from an address lock that
  account or address for ``login_lock_s``; the message never says which it was.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import wraps
from typing import Awaitable, Callable, Dict, List
from urllib.parse import parse_qs, quote

from sqlalchemy import delete
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from clinic.console.accounts import Account, get_user
from clinic.db.models import LoginThrottle, StaffSession, utc_now

from .state import web_state

Handler = Callable[[Request], Awaitable[Response]]
PRE_SESSION_COOKIE = "clinic_staff_pre"
MAX_FORM_BYTES = 64 * 1024
NO_STORE = {"Cache-Control": "no-store"}


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class StaffContext:
    account: Account
    token_hash: str
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.account.role == "admin"


# --- sessions -------------------------------------------------------------------


def start_session(request: Request, account: Account) -> str:
    """A new session for ``account``; returns the cookie's token."""
    web = web_state(request)
    token = secrets.token_urlsafe(32)
    token_hash = keyed_hash(web.settings.staff_secret_key, "session", token)
    with web.console_sessions() as session:
        session.add(StaffSession(token_hash=token_hash, user_id=account.id))
        session.commit()
    return token


def set_staff_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path="/staff",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def end_session(request: Request, token_hash: str) -> None:
    web = web_state(request)
    with web.console_sessions() as session:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash))
        session.commit()


def _session_context(request: Request) -> StaffContext | None:
    web = web_state(request)
    settings = web.settings
    token = request.cookies.get(settings.staff_cookie_name, "")
    if not token or len(token) > 100 or web.console_sessions is None:
        return None
    token_hash = keyed_hash(settings.staff_secret_key, "session", token)
    now = utc_now()
    with web.console_sessions() as session:
        row = session.get(StaffSession, token_hash)
        if row is None:
            return None
        idle_limit = timedelta(seconds=settings.staff_idle_timeout_s)
        if now - aware(row.last_seen_at) > idle_limit:
            session.delete(row)
            session.commit()
            return None
        account = get_user(web.console_sessions, row.user_id)
        if account is None or not account.active:
            session.delete(row)
            session.commit()
            return None
        row.last_seen_at = now
        session.commit()
    csrf = keyed_hash(settings.staff_secret_key, "csrf", token)
    return StaffContext(account=account, token_hash=token_hash, csrf=csrf)


async def current_staff(request: Request) -> StaffContext | None:
    return await run_in_threadpool(_session_context, request)


def staff_only(handler: Handler, admin: bool = False) -> Handler:
    """Runs ``handler`` for a logged-in member of staff (``admin``: an admin) only.

    No session: GET/HEAD are redirected to the login page, anything else gets 401.
    A staff member on an admin page: 403. ``request.state.staff`` is the context.
    """

    @wraps(handler)
    async def guarded(request: Request) -> Response:
        web = web_state(request)
        if web.console_sessions is None:
            return PlainTextResponse(web.texts.staff["not_configured"], status_code=503)
        staff = await current_staff(request)
        if staff is None:
            if request.method in ("GET", "HEAD"):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                login = request.url_for("staff_login").path
                return RedirectResponse(f"{login}?next={quote(target, safe='')}", status_code=303)
            return PlainTextResponse(
                web.texts.staff["log_in_first"], status_code=401, headers=NO_STORE
            )
        if admin and not staff.is_admin:
            return PlainTextResponse(
                web.texts.staff["admins_only"], status_code=403, headers=NO_STORE
            )
        request.state.staff = staff
        response = await handler(request)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return guarded


# --- forms and CSRF ---------------------------------------------------------------


async def read_form(request: Request) -> Dict[str, List[str]]:
    """An ``application/x-www-form-urlencoded`` body (the console's forms send nothing else)."""
    texts = web_state(request).texts.staff
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise HTTPException(status_code=400, detail=texts["forms_only"])
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(status_code=413, detail=texts["form_too_large"])
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(status_code=400, detail=texts["not_a_form"]) from exc


def field(form: Dict[str, List[str]], name: str, default: str = "") -> str:
    values = form.get(name)
    return values[0] if values else default


async def checked_form(request: Request) -> Dict[str, List[str]]:
    """The posted form of a logged-in request, after its CSRF token matched (else 403)."""
    staff: StaffContext = request.state.staff
    form = await read_form(request)
    if not hmac.compare_digest(field(form, "csrf"), staff.csrf):
        raise HTTPException(status_code=403, detail=web_state(request).texts.staff["form_expired"])
    return form


def login_csrf(request: Request) -> tuple[str, str | None]:
    """(token for the login form, new pre-session cookie value or None when one exists)."""
    secret = web_state(request).settings.staff_secret_key
    pre = request.cookies.get(PRE_SESSION_COOKIE, "")
    fresh = None
    if not pre or len(pre) > 100:
        pre = fresh = secrets.token_urlsafe(24)
    return keyed_hash(secret, "login-csrf", pre), fresh


def login_csrf_valid(request: Request, token: str) -> bool:
    secret = web_state(request).settings.staff_secret_key
    pre = request.cookies.get(PRE_SESSION_COOKIE, "")
    return bool(pre) and hmac.compare_digest(token, keyed_hash(secret, "login-csrf", pre))


# --- login throttling ------------------------------------------------------------


def throttle_keys(name: str, address: str) -> List[str]:
    return [f"user:{name.strip().lower()[:200]}", f"addr:{address}"]


def locked(session: Session, keys: List[str], now: datetime) -> bool:
    for key in keys:
        row = session.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and aware(row.locked_until) > now:
            return True
    return False


def record_failure(
    session: Session, keys: List[str], now: datetime, max_failures: int, lock_s: float
) -> None:
    """One more failure per key; the ``max_failures``-th within ``lock_s`` locks the key."""
    window = timedelta(seconds=lock_s)
    for key in keys:
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_start=now)
            session.add(row)
        if now - aware(row.window_start) > window:
            row.failures, row.window_start = 0, now
        row.failures = (row.failures or 0) + 1
        if row.failures >= max_failures:
            row.locked_until, row.failures, row.window_start = now + window, 0, now
    session.commit()


def clear_failures(session: Session, keys: List[str]) -> None:
    """After a good login: the account's count starts again (the address's does not)."""
    keys = [key for key in keys if key.startswith("user:")]
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    session.commit()
