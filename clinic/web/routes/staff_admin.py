"""Admins only: the audit log (``/staff/audit``) and staff accounts (``/staff/users``)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from clinic.console.accounts import AccountError, create_user, list_users, update_user
from clinic.console.queries import audit_entries
from clinic.db.models import ROLES

from ..staff_auth import checked_form, field, staff_only
from ..state import web_state
from .staff import log, render


async def audit_log(request: Request) -> Response:
    sessions = web_state(request).console_sessions
    before = request.query_params.get("before", "")
    before_id = int(before) if before.isdigit() else None
    entries = await run_in_threadpool(audit_entries, sessions, before_id)
    next_url = (
        request.url_for("staff_audit").path + f"?before={entries[-1].id}"
        if len(entries) == 100
        else None
    )
    return render(request, "staff/audit.html", entries=entries, next_url=next_url)


async def _users_page(request: Request, error: str = "", status_code: int = 200) -> Response:
    users = await run_in_threadpool(list_users, web_state(request).console_sessions)
    return render(
        request, "staff/users.html", status_code=status_code, users=users, roles=ROLES, error=error
    )


async def users(request: Request) -> Response:
    await log(request, "view_users")
    return await _users_page(request)


async def create(request: Request) -> Response:
    form = await checked_form(request)
    name, role = field(form, "name").strip(), field(form, "role")
    sessions = web_state(request).console_sessions
    try:
        await run_in_threadpool(create_user, sessions, name, role, field(form, "password"))
    except AccountError as exc:
        return await _users_page(request, str(exc), 400)
    await log(request, "create_user", name, role)
    return RedirectResponse(request.url_for("staff_users").path, status_code=303)


async def change(request: Request) -> Response:
    form = await checked_form(request)
    user_id = request.path_params["user_id"]
    sessions = web_state(request).console_sessions
    role = field(form, "role") or None
    active = {"1": True, "0": False}.get(field(form, "active"))
    password = field(form, "password") or None
    if role is None and active is None and password is None:
        raise HTTPException(status_code=400, detail="nothing to change")
    try:
        account = await run_in_threadpool(update_user, sessions, user_id, role, active, password)
    except AccountError as exc:
        return await _users_page(request, str(exc), 400)
    changes = ", ".join(
        part
        for part in (
            f"role={role}" if role else "",
            f"active={active}" if active is not None else "",
            "password" if password else "",
        )
        if part
    )
    await log(request, "change_user", account.name, changes)
    return RedirectResponse(request.url_for("staff_users").path, status_code=303)


routes = [
    Route("/staff/audit", staff_only(audit_log, admin=True), methods=["GET"], name="staff_audit"),
    Route("/staff/users", staff_only(users, admin=True), methods=["GET"], name="staff_users"),
    Route(
        "/staff/users/new",
        staff_only(create, admin=True),
        methods=["POST"],
        name="staff_user_create",
    ),
    Route(
        "/staff/users/{user_id:int}",
        staff_only(change, admin=True),
        methods=["POST"],
        name="staff_user_change",
    ),
]
