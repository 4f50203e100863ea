"""The chat gateway: ``POST /api/chat``, ``GET /api/chat/history``, ``GET /api/chat/config``.

The gateway is the only way from the internet to Rasa. It issues the session
cookie, checks the ``Origin``, the message size and the rate, and answers with an
apology and the clinic's phone number whenever Rasa cannot.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Dict, List

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..history import HistoryUnavailable, offered_payloads
from ..rasa_client import RasaUnavailable, send_to_rasa
from ..security import origin_allowed
from ..sessions import new_session_id, sender_id, session_from_cookie, set_session_cookie
from ..shapes import ChatMessage
from ..state import WebState, web_state

log = logging.getLogger(__name__)
NO_STORE = {"Cache-Control": "no-store"}


class BodyTooLarge(Exception):
    pass


def error(
    status: int, text: str, headers: Dict[str, str] | None = None, detail: str | None = None
) -> JSONResponse:
    """``{"error": text}``: the widget shows the text and keeps the visitor's message.
    ``detail`` says exactly what is wrong with a request no widget would send."""
    body = {"error": text} if detail is None else {"error": text, "detail": detail}
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **(headers or {})})


def apology(web: WebState) -> JSONResponse:
    """Rasa could not answer: say sorry and give the clinic's phone number."""
    text = web.texts.say("apology")
    message: ChatMessage = {"text": text, "buttons": [], "urgent": False}
    return JSONResponse({"messages": [message], "error": text}, status_code=503, headers=NO_STORE)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return body


class NotAMessage(ValueError):
    """The body is not ``{"message": "..."}``; ``args[0]`` names the text saying why."""


def message_text(body: bytes) -> str:
    """The ``message`` of a ``{"message": "..."}`` body; ``NotAMessage`` when it is not one."""
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not UTF-8 is a ValueError too; deep nesting
        raise NotAMessage("not_json") from exc
    if not isinstance(data, dict):
        raise NotAMessage("not_an_object")
    if "message" not in data:
        raise NotAMessage("no_message")
    if not isinstance(data["message"], str):
        raise NotAMessage("message_not_text")
    return data["message"]


# control characters but tab and line breaks; lone surrogates, which UTF-8 cannot hold
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def readable(text: str) -> str:
    """The visitor's text as Rasa can read and store it: control characters become
    spaces, lone surrogates (half an emoji) U+FFFD, and the ends are trimmed."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", text)).strip()


def json_body(content_type: str) -> bool:
    """Whether a ``Content-Type`` header allows a JSON body (none at all does too)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("", "application/json")


async def checked_payload(web: WebState, sender: str, text: str) -> str:
    """Text starting with "/" reaches Rasa as an intent only when it is a quick reply
    the bot offered in this session; otherwise the slashes are dropped and NLU reads it."""
    if not text.startswith("/") or web.offered.offered(sender, text):
        return text
    assert web.history is not None
    try:
        transcript = await run_in_threadpool(web.history.transcript, sender)
    except HistoryUnavailable:
        transcript = []
    if text in offered_payloads(transcript):
        return text
    return text.lstrip("/").strip()


async def chat(request: Request) -> Response:
    web = web_state(request)
    try:
        return await _chat(request, web)
    except Exception:  # never a blank answer or a stack trace to the visitor
        log.exception("chat gateway failed")
        return apology(web)


async def _chat(request: Request, web: WebState) -> Response:
    settings, texts = web.settings, web.texts
    if not origin_allowed(request.headers.get("origin"), settings.allowed_origins):
        return error(403, texts.say("forbidden_origin"))

    session_id = session_from_cookie(request, settings.cookie_name)
    is_new = session_id is None
    session_id = session_id or new_session_id()
    address = request.client.host if request.client else "unknown"
    retry_after = max(
        web.session_limiter.retry_after(session_id), web.address_limiter.retry_after(address)
    )
    if retry_after:
        return error(
            429, texts.say("slow_down", retry_after=retry_after), {"Retry-After": str(retry_after)}
        )
    web.session_limiter.record(session_id)
    web.address_limiter.record(address)

    if not json_body(request.headers.get("content-type", "")):
        return error(415, texts.say("wrong_content_type"))
    too_long = texts.say("too_long", max_chars=settings.max_message_chars)
    try:
        body = await read_body(request, settings.max_body_bytes)
    except BodyTooLarge:
        return error(413, too_long)
    try:
        text = readable(message_text(body))
    except NotAMessage as problem:
        return error(400, texts.say("bad_request"), detail=texts.say(problem.args[0]))
    if len(text) > settings.max_message_chars:
        return error(413, too_long)
    sender = sender_id(session_id)
    text = await checked_payload(web, sender, text) if text else ""
    if not text:
        return error(400, texts.say("empty"))

    assert web.rasa is not None
    try:
        messages: List[ChatMessage] = await send_to_rasa(web.rasa, sender, text)
        web.offered.remember(sender, messages)
        response: Response = JSONResponse({"messages": messages}, headers=NO_STORE)
    except RasaUnavailable as exc:
        log.warning("no answer from Rasa for %s: %s", sender, exc)
        response = apology(web)
    if is_new:
        set_session_cookie(response, request, settings.cookie_name, session_id)
    return response


async def history(request: Request) -> Response:
    """The transcript of the cookie's session (empty without a session)."""
    web = web_state(request)
    origin = request.headers.get("origin")
    if origin and not origin_allowed(origin, web.settings.allowed_origins):
        return error(403, web.texts.say("forbidden_origin"))
    session_id = session_from_cookie(request, web.settings.cookie_name)
    if session_id is None:
        return JSONResponse({"messages": []}, headers=NO_STORE)
    assert web.history is not None
    try:
        transcript = await run_in_threadpool(web.history.transcript, sender_id(session_id))
    except HistoryUnavailable as exc:
        log.warning("transcript unavailable: %s", exc)
        return JSONResponse(
            {"messages": [], "error": web.texts.say("apology")}, status_code=503, headers=NO_STORE
        )
    return JSONResponse({"messages": transcript}, headers=NO_STORE)


async def config(request: Request) -> Response:
    """The widget's texts (clinic facts filled in) and limits."""
    web = web_state(request)
    texts = {
        **web.texts.widget,
        "apology": web.texts.say("apology"),
        "too_long": web.texts.say("too_long", max_chars=web.settings.max_message_chars),
    }
    body = {
        "texts": texts,
        "max_chars": web.settings.max_message_chars,
        "privacy_url": request.url_for("privacy").path,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


async def post_only(request: Request) -> Response:
    return error(405, web_state(request).texts.say("post_only"), {"Allow": "POST"})


async def get_only(request: Request) -> Response:
    return error(405, web_state(request).texts.say("get_only"), {"Allow": "GET, HEAD"})


# every other method gets 405 with a text and ``Allow`` (CORS preflights never get here)
OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

routes = [
    Route("/api/chat", chat, methods=["POST"], name="chat"),
    Route("/api/chat/history", history, methods=["GET"], name="chat_history"),
    Route("/api/chat/config", config, methods=["GET"], name="chat_config"),
    Route("/api/chat", post_only, methods=[m for m in OTHER_METHODS if m != "POST"]),
    Route("/api/chat/history", get_only, methods=[m for m in OTHER_METHODS if m != "GET"]),
    Route("/api/chat/config", get_only, methods=[m for m in OTHER_METHODS if m != "GET"]),
]
