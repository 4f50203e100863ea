"""Booking requests for staff: ``/staff/bookings`` (newest first, search, filters, keyset
paging, status changed with one click), ``/staff/bookings.csv`` (cells a spreadsheet cannot
run as formulas) and ``/staff/bookings/{id}.ics`` (a confirmed booking for a calendar)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from clinic.console import booking_search
from clinic.console.booking_search import BookingPage, check_query, decode_cursor
from clinic.console.exports import bookings_csv
from clinic.console.ics import booking_ics
from clinic.console.queries import get_booking, list_bookings, set_booking_status
from clinic.db.models import KINDS, STATUSES

from ..staff_auth import checked_form, field, staff_only
from ..state import web_state
from .staff import log, render


async def bookings(request: Request) -> Response:
    web = web_state(request)
    clinic = web.settings.clinic
    params = request.query_params
    filters, errors = check_query(params, ZoneInfo(clinic.timezone), clinic.phone_region)
    older = params.get("older", "")
    newer = params.get("newer", "")
    older_key = decode_cursor(older) if older else None
    newer_key = decode_cursor(newer) if newer else None
    if (older and older_key is None) or (newer and newer_key is None):
        errors.append("bad_cursor")
    raw = {
        name: params.get(name, "").strip()[: booking_search.QUERY_CHARS + 1]
        for name in booking_search.FIELDS
    }
    active = {k: v for k, v in raw.items() if v}
    if errors:
        # Nothing is listed: an unfiltered list under a filter form would look filtered.
        page = BookingPage(rows=[], older=None, newer=None)
        await log(request, "view_bookings", "refused", urlencode(active)[:300])
    else:
        page = await run_in_threadpool(
            booking_search.search_bookings, web.console_sessions, filters, older_key, newer_key
        )
        await log(request, "view_bookings", raw["status"] or "all", urlencode(active)[:300])
    path = request.url_for("staff_bookings").path
    here = {**active, **({"older": older} if older else {}), **({"newer": newer} if newer else {})}
    return render(
        request,
        "staff/bookings.html",
        status_code=400 if errors else 200,
        bookings=page.rows,
        statuses=STATUSES,
        kinds=KINDS,
        filters=raw,
        errors=errors,
        filtered=bool(active),
        older_url=f"{path}?{urlencode({**active, 'older': page.older})}" if page.older else None,
        newer_url=f"{path}?{urlencode({**active, 'newer': page.newer})}" if page.newer else None,
        first_url=f"{path}?{urlencode(active)}" if older or newer else None,
        back=urlencode(here),
    )


async def booking_calendar(request: Request) -> Response:
    booking_id = request.path_params["booking_id"]
    web = web_state(request)
    booking = await run_in_threadpool(get_booking, web.console_sessions, booking_id)
    if booking is None or booking.status != "confirmed" or not booking.preferred_start:
        raise HTTPException(status_code=404, detail="no confirmed booking with that number")
    clinic = web.settings.clinic
    domain = clinic.email.rsplit("@", 1)[-1] if clinic.email else "clinic.invalid"
    body = booking_ics(
        booking.reference,
        datetime.fromisoformat(booking.preferred_start),
        clinic.appointment_minutes,
        clinic.name,
        domain,
    )
    await log(request, "booking_calendar", booking.reference)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{booking.reference}.ics"'},
    )


async def change_status(request: Request) -> Response:
    form = await checked_form(request)
    status = field(form, "status")
    if status not in STATUSES:
        raise HTTPException(status_code=400, detail="unknown status")
    booking_id = request.path_params["booking_id"]
    sessions = web_state(request).console_sessions
    reference = await run_in_threadpool(set_booking_status, sessions, booking_id, status)
    if reference is None:
        raise HTTPException(status_code=404, detail="no such booking request")
    await log(request, "booking_status", reference, status)
    return RedirectResponse(
        request.url_for("staff_bookings").path
        + _back(field(form, "back"))
        + f"#booking-{booking_id}",
        status_code=303,
    )


def _back(query: str) -> str:
    """The list's search, filters and page the change was made on; only those, as a query."""
    kept = [
        (name, value[:200])
        for name, value in parse_qsl(query[:2000])
        if name in booking_search.FIELDS or name in ("older", "newer")
    ]
    return "?" + urlencode(kept) if kept else ""


async def bookings_export(request: Request) -> Response:
    sessions = web_state(request).console_sessions
    rows = await run_in_threadpool(list_bookings, sessions, "", 100_000)
    await log(request, "export_bookings_csv", "", f"{len(rows)} rows")
    name = f"booking-requests-{datetime.now():%Y%m%d-%H%M}.csv"
    return Response(
        bookings_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


routes = [
    Route("/staff/bookings", staff_only(bookings), methods=["GET"], name="staff_bookings"),
    Route(
        "/staff/bookings.csv",
        staff_only(bookings_export),
        methods=["GET"],
        name="staff_bookings_csv",
    ),
    Route(
        "/staff/bookings/{booking_id:int}.ics",
        staff_only(booking_calendar),
        methods=["GET"],
        name="staff_booking_calendar",
    ),
    Route(
        "/staff/bookings/{booking_id:int}/status",
        staff_only(change_status),
        methods=["POST"],
        name="staff_booking_status",
    ),
]
