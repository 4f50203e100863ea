"""Conversations for staff, read from Rasa's tracker store (never written):

- ``/staff/conversations``: date, first message, turns, badges; filters, search, keyset
  paging; red-flag conversations first until reviewed;
- ``/staff/conversations/{id}``: the transcript with intents, confidence, entities and slot
  changes; tags, a note, "mark reviewed"; ``.../story.yml`` exports it as a test story;
- ``/staff/inbox``: low-confidence and fallback messages; ``/staff/inbox/nlu.yml``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Dict
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from clinic.console import queries
from clinic.console.exports import nlu_examples, story_yaml
from clinic.console.queries import ConversationFilters

from ..staff_auth import checked_form, field, staff_only
from ..state import WebState, web_state
from .staff import log, render

SENDER_CHARS = 255


async def _sync(web: WebState) -> None:
    if web.indexer is not None:
        await run_in_threadpool(web.indexer.sync)


def _day_start(value: str, zone: ZoneInfo, days: int = 0) -> float | None:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    moment = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(days=days)
    return moment.timestamp()


def filters_from(request: Request) -> tuple[ConversationFilters, Dict[str, str]]:
    params = request.query_params
    zone = ZoneInfo(web_state(request).settings.clinic.timezone)
    raw = {
        name: params.get(name, "").strip()[:200]
        for name in (
            "from",
            "to",
            "intent",
            "red_flag",
            "booking",
            "low_confidence",
            "reviewed",
            "tag",
            "q",
        )
    }
    filters = ConversationFilters(
        date_from=_day_start(raw["from"], zone) if raw["from"] else None,
        date_to=_day_start(raw["to"], zone, days=1) if raw["to"] else None,
        intent=raw["intent"],
        red_flag=raw["red_flag"] == "1",
        booking=raw["booking"] == "1",
        low_confidence=raw["low_confidence"] == "1",
        reviewed=raw["reviewed"] if raw["reviewed"] in ("yes", "no") else "",
        tag=raw["tag"],
        search=raw["q"],
    )
    return filters, raw


async def conversations(request: Request) -> Response:
    web = web_state(request)
    await _sync(web)
    filters, raw = filters_from(request)
    cursor = request.query_params.get("after") or None
    sessions = web.console_sessions
    page = await run_in_threadpool(queries.list_conversations, sessions, filters, cursor)
    intents = await run_in_threadpool(queries.known_intents, sessions)
    tags = await run_in_threadpool(queries.known_tags, sessions)
    await log(request, "view_conversations", "", urlencode({k: v for k, v in raw.items() if v}))
    active = {k: v for k, v in raw.items() if v}
    next_url = (
        request.url_for("staff_conversations").path
        + "?"
        + urlencode({**active, "after": page.next_cursor})
        if page.next_cursor
        else None
    )
    return render(
        request,
        "staff/conversations.html",
        page=page,
        filters=raw,
        intents=intents,
        tags=tags,
        next_url=next_url,
        first_url=request.url_for("staff_conversations").path + "?" + urlencode(active),
        paged=bool(cursor),
    )


def _sender(request: Request) -> str:
    sender = request.path_params["sender"]
    if not sender or len(sender) > SENDER_CHARS:
        raise HTTPException(status_code=404, detail="no such conversation")
    return sender


async def conversation(request: Request) -> Response:
    web = web_state(request)
    sender = _sender(request)
    assert web.indexer is not None
    events = await run_in_threadpool(queries.read_events, web.indexer.tracker, sender)
    if not events:
        raise HTTPException(status_code=404, detail="no such conversation")
    review = await run_in_threadpool(queries.review_state, web.console_sessions, sender)
    await log(request, "view_conversation", sender)
    return render(
        request,
        "staff/conversation.html",
        sender=sender,
        turns=queries.transcript(events),
        review=review,
        tag_error=request.query_params.get("tag_error") == "1",
    )


def _back(request: Request, sender: str, extra: str = "") -> Response:
    path = request.url_for("staff_conversation", sender=sender).path
    return RedirectResponse(path + extra, status_code=303)


async def review(request: Request) -> Response:
    form = await checked_form(request)
    sender = _sender(request)
    reviewed = field(form, "reviewed", "1") == "1"
    staff = request.state.staff
    await run_in_threadpool(
        queries.set_reviewed,
        web_state(request).console_sessions,
        sender,
        staff.account.name,
        reviewed,
    )
    await log(request, "mark_reviewed" if reviewed else "mark_unreviewed", sender)
    return _back(request, sender)


async def note(request: Request) -> Response:
    form = await checked_form(request)
    sender = _sender(request)
    staff = request.state.staff
    await run_in_threadpool(
        queries.set_note,
        web_state(request).console_sessions,
        sender,
        staff.account.name,
        field(form, "note"),
    )
    await log(request, "note", sender)
    return _back(request, sender, "#note")


async def tags(request: Request) -> Response:
    form = await checked_form(request)
    sender = _sender(request)
    sessions = web_state(request).console_sessions
    remove = field(form, "remove")
    if remove:
        await run_in_threadpool(queries.remove_tag, sessions, sender, remove)
        await log(request, "untag", sender, remove)
        return _back(request, sender, "#tags")
    tag = queries.normal_tag(field(form, "tag"))
    if tag is None:
        return _back(request, sender, "?tag_error=1#tags")
    await run_in_threadpool(queries.add_tag, sessions, sender, tag)
    await log(request, "tag", sender, tag)
    return _back(request, sender, "#tags")


async def story(request: Request) -> Response:
    web = web_state(request)
    sender = _sender(request)
    assert web.indexer is not None
    events = await run_in_threadpool(queries.read_events, web.indexer.tracker, sender)
    if not events:
        raise HTTPException(status_code=404, detail="no such conversation")
    await log(request, "export_story", sender)
    body = story_yaml(sender, events)
    safe = "".join(ch for ch in sender if ch.isalnum() or ch in "-_")[:60] or "conversation"
    return Response(
        body,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="story-{safe}.yml"'},
    )


def _inbox_cursor(request: Request) -> Any:
    raw = request.query_params.get("before", "")
    try:
        at, event_id = raw.split("_", 1)
        return float(at), int(event_id)
    except ValueError:
        return None


async def inbox(request: Request) -> Response:
    web = web_state(request)
    await _sync(web)
    before = _inbox_cursor(request)
    items, more = await run_in_threadpool(queries.inbox, web.console_sessions, before)
    await log(request, "view_inbox")
    next_url = (
        request.url_for("staff_inbox").path + f"?before={more[0]!r}_{more[1]}" if more else None
    )
    return render(request, "staff/inbox.html", items=items, next_url=next_url)


async def inbox_export(request: Request) -> Response:
    web = web_state(request)
    await _sync(web)
    items, _ = await run_in_threadpool(queries.inbox, web.console_sessions, None, 5000)
    await log(request, "export_nlu", "", f"{len(items)} messages")
    body = nlu_examples([(item.text, item.best_guess) for item in items])
    return Response(
        body,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="nlu-from-inbox.yml"'},
    )


routes = [
    Route(
        "/staff/conversations",
        staff_only(conversations),
        methods=["GET"],
        name="staff_conversations",
    ),
    Route(
        "/staff/conversations/{sender}",
        staff_only(conversation),
        methods=["GET"],
        name="staff_conversation",
    ),
    Route(
        "/staff/conversations/{sender}/review",
        staff_only(review),
        methods=["POST"],
        name="staff_review",
    ),
    Route(
        "/staff/conversations/{sender}/note",
        staff_only(note),
        methods=["POST"],
        name="staff_note",
    ),
    Route(
        "/staff/conversations/{sender}/tags",
        staff_only(tags),
        methods=["POST"],
        name="staff_tags",
    ),
    Route(
        "/staff/conversations/{sender}/story.yml",
        staff_only(story),
        methods=["GET"],
        name="staff_story",
    ),
    Route("/staff/inbox", staff_only(inbox), methods=["GET"], name="staff_inbox"),
    Route(
        "/staff/inbox/nlu.yml", staff_only(inbox_export), methods=["GET"], name="staff_inbox_nlu"
    ),
]
