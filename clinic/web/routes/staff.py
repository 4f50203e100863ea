"""The staff console's entrance: ``/staff/login``, ``/staff/logout``, ``/staff``.

Every other ``/staff`` route is wrapped in ``staff_only`` (``clinic/web/staff_auth.py``);
shared page helpers live here.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from clinic.console.accounts import MAX_PASSWORD_CHARS, authenticate
from clinic.console.queries import audit
from clinic.db.models import utc_now

from ..staff_auth import (
    NO_STORE,
    PRE_SESSION_COOKIE,
    StaffContext,
    checked_form,
    clear_failures,
    current_staff,
    end_session,
    field,
    locked,
    login_csrf,
    login_csrf_valid,
    read_form,
    record_failure,
    set_staff_cookie,
    staff_only,
    start_session,
    throttle_keys,
)
from ..state import web_state


def local_time(request: Request, epoch_or_dt: Any) -> str:
    """A moment in the clinic's timezone: ``2026-11-21 14:05``."""
    zone = ZoneInfo(web_state(request).settings.clinic.timezone)
    if epoch_or_dt is None:
        return ""
    if isinstance(epoch_or_dt, datetime):
        moment = epoch_or_dt if epoch_or_dt.tzinfo else epoch_or_dt.replace(tzinfo=timezone.utc)
    else:
        moment = datetime.fromtimestamp(float(epoch_or_dt), tz=timezone.utc)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def iso_local(value: str | None) -> str:
    """A stored ISO 8601 start as ``Tue 2026-11-24 14:00`` (it already is in clinic time)."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).strftime("%a %Y-%m-%d %H:%M")
    except ValueError:
        return value


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    web = web_state(request)
    staff: StaffContext | None = getattr(request.state, "staff", None)
    base: Dict[str, Any] = {
        "clinic": web.settings.clinic,
        "staff": staff,
        "csrf": staff.csrf if staff else "",
        "local_time": lambda value: local_time(request, value),
        "iso_local": iso_local,
    }
    return web.templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code, headers=NO_STORE
    )


def safe_next(target: str) -> str:
    """Only a path of the console itself (no other host, no scheme)."""
    if target.startswith("/staff") and not target.startswith("//") and "\\" not in target:
        return target
    return "/staff/conversations"


async def log(request: Request, action: str, target: str = "", detail: str = "") -> None:
    staff: StaffContext = request.state.staff
    sessions = web_state(request).console_sessions
    assert sessions is not None
    await run_in_threadpool(audit, sessions, staff.account.name, action, target, detail)


def _login_page(
    request: Request, error: str = "", status_code: int = 200, name: str = ""
) -> Response:
    token, fresh = login_csrf(request)
    response = render(
        request,
        "staff/login.html",
        status_code=status_code,
        login_csrf=token,
        error=error,
        name=name,
        next=safe_next(request.query_params.get("next", "")),
    )
    if fresh:
        set_staff_cookie(response, request, PRE_SESSION_COOKIE, fresh)
    return response


async def login(request: Request) -> Response:
    web = web_state(request)
    if web.console_sessions is None:
        return render(request, "staff/unavailable.html", status_code=503)
    if request.method == "GET":
        if await current_staff(request) is not None:
            return RedirectResponse(request.url_for("staff_conversations").path, status_code=303)
        return _login_page(request)
    form = await read_form(request)
    if not login_csrf_valid(request, field(form, "csrf")):
        return _login_page(request, web.texts.staff["login_form_expired"], 403)
    name, password = field(form, "name").strip()[:64], field(form, "password")
    address = request.client.host if request.client else "unknown"
    keys = throttle_keys(name, address)
    settings = web.settings
    sessions = web.console_sessions

    def attempt() -> Any:
        now = utc_now()
        with sessions() as session:
            if locked(session, keys, now):
                return None
        account = authenticate(sessions, name, password[:MAX_PASSWORD_CHARS]) if name else None
        with sessions() as session:
            if account is None:
                record_failure(
                    session, keys, now, settings.login_max_failures, settings.login_lock_s
                )
            else:
                clear_failures(session, keys)
        return account

    account = await run_in_threadpool(attempt)
    if account is None:
        await run_in_threadpool(audit, sessions, name or "?", "login_failed", address)
        return _login_page(request, web.texts.staff["login_failed"], 400, name=name)
    token = await run_in_threadpool(start_session, request, account)
    await run_in_threadpool(audit, sessions, account.name, "login", address)
    target = safe_next(field(form, "next"))
    response = RedirectResponse(target, status_code=303)
    set_staff_cookie(response, request, settings.staff_cookie_name, token)
    response.delete_cookie(PRE_SESSION_COOKIE, path="/staff")
    return response


async def logout(request: Request) -> Response:
    await checked_form(request)
    staff: StaffContext = request.state.staff
    await run_in_threadpool(end_session, request, staff.token_hash)
    await log(request, "logout")
    response = RedirectResponse(request.url_for("staff_login").path, status_code=303)
    response.delete_cookie(web_state(request).settings.staff_cookie_name, path="/staff")
    return response


async def home(request: Request) -> Response:
    return RedirectResponse(request.url_for("staff_conversations").path, status_code=303)


routes = [
    Route("/staff/login", login, methods=["GET", "POST"], name="staff_login"),
    Route("/staff/logout", staff_only(logout), methods=["POST"], name="staff_logout"),
    Route("/staff", staff_only(home), methods=["GET"], name="staff_home"),
]
