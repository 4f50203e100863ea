"""Rasa's REST channel with its input checked: ``/webhooks/rest/webhook``.

``credentials.yml`` names this class instead of ``rest``; the URL, the request
``{"sender": "...", "message": "..."}`` and the answer (a JSON list of bot
messages) stay exactly Rasa's. What changes:

- a body that is not a JSON object with a text ``message`` (and, when given, a
  text ``sender``, a text ``input_channel``, an object ``metadata``) gets 400
  ``{"error": "..."}`` naming what is wrong, where Rasa's own channel answers 500
  or runs the message with ``None`` and answers ``[]``; another method than POST
  gets 405 ``{"error": "..."}``;
- characters that UTF-8 cannot hold (lone surrogates, which stop spaCy) become
  U+FFFD, and a message longer than ``max_message_chars`` is cut there (NLU time
  grows faster than the length: 100,000 characters took 77 s on one core);
- a failure logs its exception type, never the message text (Rasa's own channel
  logs the text and the local variables of every frame at ERROR).
"""

from __future__ import annotations

import json
import logging
import re
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, NamedTuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_CHARS = 2000  # the chat gateway's limit too
MAX_SENDER_CHARS = 255  # the sender_id column of Rasa's SQL tracker store
_SURROGATE = re.compile("[\ud800-\udfff]")
# what a client did wrong, as the 4xx answer says it (for developers, not visitors)
PROBLEMS = {
    "not_json": 'The body must be JSON (UTF-8), like {"sender": "...", "message": "..."}.',
    "not_object": 'The body must be a JSON object, like {"sender": "...", "message": "..."}.',
    "no_message": 'The body has no "message".',
    "message_not_text": '"message" must be a string.',
    "sender_not_text": f'"sender" must be a string of 1 to {MAX_SENDER_CHARS} characters.',
    "channel_not_text": '"input_channel" must be a string.',
    "metadata_not_object": '"metadata" must be a JSON object.',
    "post_only": "Send messages with POST.",
}


class MessageProblem(ValueError):
    """The request is not a message; ``str()`` says why."""


class RestMessage(NamedTuple):
    sender: str
    text: str
    input_channel: str | None
    metadata: Dict[str, Any] | None


def readable_text(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars``, with lone surrogates (not UTF-8) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text[:max_chars])


def read_message(body: bytes, max_chars: int) -> RestMessage:
    """The message of a REST request body; ``MessageProblem`` when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not UTF-8 is a ValueError too; deep nesting
        raise MessageProblem(PROBLEMS["not_json"]) from exc
    if not isinstance(data, dict):
        raise MessageProblem(PROBLEMS["not_object"])
    if "message" not in data:
        raise MessageProblem(PROBLEMS["no_message"])
    text, sender = data["message"], data.get("sender", "default")
    channel, metadata = data.get("input_channel"), data.get("metadata")
    if not isinstance(text, str):
        raise MessageProblem(PROBLEMS["message_not_text"])
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_CHARS:
        raise MessageProblem(PROBLEMS["sender_not_text"])
    if channel is not None and not isinstance(channel, str):
        raise MessageProblem(PROBLEMS["channel_not_text"])
    if metadata is not None and not isinstance(metadata, dict):
        raise MessageProblem(PROBLEMS["metadata_not_object"])
    return RestMessage(
        readable_text(sender, MAX_SENDER_CHARS), readable_text(text, max_chars), channel, metadata
    )


class CheckedRestInput(RestInput):
    """Rasa's REST channel (name ``rest``), refusing what is not a message."""

    def __init__(self, max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS) -> None:
        self.max_message_chars = max_message_chars

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> CheckedRestInput:
        limit = (credentials or {}).get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValueError(f"credentials.yml: max_message_chars={limit!r} is not a count")
        return cls(max_message_chars=limit)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET", "PUT", "PATCH", "DELETE"])
        async def not_post(request: Request) -> HTTPResponse:
            return response.json(
                {"error": PROBLEMS["post_only"]}, status=405, headers={"Allow": "POST"}
            )

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> ResponseStream | HTTPResponse:
            try:
                message = read_message(request.body, self.max_message_chars)
            except MessageProblem as problem:
                return response.json({"error": str(problem)}, status=400)
            input_channel = message.input_channel or self.name()
            if bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(
                        on_new_message,
                        message.text,
                        message.sender,
                        input_channel,
                        message.metadata,
                    ),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        message.text,
                        collector,
                        message.sender,
                        input_channel=input_channel,
                        metadata=message.metadata,
                    )
                )
            except CancelledError:
                logger.error("rest channel: the message timed out")
            except Exception as exc:  # noqa: BLE001 - Rasa's channel answers with what it has too
                # the traceback only at DEBUG: an exception's text may quote the message
                logger.error("rest channel: the message failed (%s)", type(exc).__name__)
                logger.debug("rest channel failure", exc_info=True)
            return response.json(collector.messages)

        return webhook
