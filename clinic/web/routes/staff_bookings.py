"""Booking requests for staff: ``/staff/bookings`` (newest first, status changed with one
click) and ``/staff/bookings.csv`` (cells a spreadsheet cannot run as formulas)."""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from clinic.console.exports import bookings_csv
from clinic.console.queries import list_bookings, set_booking_status
from clinic.db.models import STATUSES

from ..staff_auth import checked_form, field, staff_only
from ..state import web_state
from .staff import log, render


async def bookings(request: Request) -> Response:
    sessions = web_state(request).console_sessions
    status = request.query_params.get("status", "")
    rows = await run_in_threadpool(list_bookings, sessions, status)
    await log(request, "view_bookings", status or "all")
    return render(request, "staff/bookings.html", bookings=rows, statuses=STATUSES, status=status)


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
        request.url_for("staff_bookings").path + f"#booking-{booking_id}", status_code=303
    )


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
        "/staff/bookings/{booking_id:int}/status",
        staff_only(change_status),
        methods=["POST"],
        name="staff_booking_status",
    ),
]
