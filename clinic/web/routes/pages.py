"""The demo clinic page (``/``) and the privacy page (``/privacy``).

Every clinic fact on them comes from clinic.yml; both embed the widget with one
script tag (``templates/base.html``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clinic.settings import WEEKDAYS, ClinicProfile

from ..state import web_state


def opening_hours(clinic: ClinicProfile) -> List[Tuple[str, str]]:
    """(weekday, "08:00–18:00" or "Closed") in week order."""
    rows = []
    for day in WEEKDAYS:
        span = clinic.opening_hours[day].strip()
        shown = "Closed" if span.lower() == "closed" else span.replace(" ", "").replace("-", "–")
        rows.append((day.title(), shown))
    return rows


def tel_href(phone: str) -> str:
    return "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+")


def _page(request: Request, template: str, **context: Any) -> Response:
    web = web_state(request)
    clinic = web.settings.clinic
    base: Dict[str, Any] = {
        "clinic": clinic,
        "hours": opening_hours(clinic),
        "tel_href": tel_href(clinic.phone),
    }
    return web.templates.TemplateResponse(request, template, {**base, **context})


async def index(request: Request) -> Response:
    return _page(request, "index.html")


async def privacy(request: Request) -> Response:
    return _page(request, "privacy.html")


routes = [
    Route("/", index, name="index"),
    Route("/privacy", privacy, name="privacy"),
]
