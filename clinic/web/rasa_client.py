"""Talks to Rasa's REST channel and turns its output into the widget's messages."""

from __future__ import annotations

from typing import Any, List

import httpx

from .shapes import Button, ChatMessage

REST_WEBHOOK = "/webhooks/rest/webhook"
MAX_BUTTONS = 8
MAX_SOURCE_CHARS = 200


class RasaUnavailable(RuntimeError):
    """Rasa (or the action server behind it) failed, timed out or said nothing."""


def _buttons(raw: Any) -> List[Button]:
    if not isinstance(raw, list):
        return []
    buttons: List[Button] = []
    for button in raw[:MAX_BUTTONS]:
        if not isinstance(button, dict):
            continue
        title, payload = button.get("title"), button.get("payload")
        if isinstance(title, str) and isinstance(payload, str) and title and payload:
            buttons.append({"title": title, "payload": payload})
    return buttons


def _is_urgent(custom: Any) -> bool:
    return isinstance(custom, dict) and custom.get("urgent") is True


def _source(custom: Any) -> str | None:
    """The article title an answer names (``{"custom": {"source": "..."}}``)."""
    if isinstance(custom, dict) and isinstance(custom.get("source"), str):
        return custom["source"].strip()[:MAX_SOURCE_CHARS] or None
    return None


def messages_from_rest_output(output: Any) -> List[ChatMessage]:
    """Rasa's REST output as widget messages.

    A message ``{"custom": {"urgent": true}}`` marks the text message before it
    as urgent, and ``{"custom": {"source": "..."}}`` gives it its source line (Rasa sends a
    response's ``custom`` as a message of its own after the text); other messages without
    text (images, other custom data) are left out.
    """
    messages: List[ChatMessage] = []
    if not isinstance(output, list):
        return messages
    for item in output:
        if not isinstance(item, dict):
            continue
        text = item.get("text")
        custom = item.get("custom")
        if isinstance(text, str) and text.strip():
            message: ChatMessage = {
                "text": text,
                "buttons": _buttons(item.get("buttons")),
                "urgent": _is_urgent(custom),
            }
            messages.append(message)
        elif messages:
            message = messages[-1]
            if _is_urgent(custom):
                message["urgent"] = True
        else:
            continue
        source = _source(custom)
        if source:
            message["source"] = source
    return messages


async def send_to_rasa(client: httpx.AsyncClient, sender: str, text: str) -> List[ChatMessage]:
    """Sends one visitor message; raises ``RasaUnavailable`` unless a reply comes back."""
    try:
        response = await client.post(REST_WEBHOOK, json={"sender": sender, "message": text})
    except httpx.HTTPError as exc:
        raise RasaUnavailable(f"Rasa did not answer: {exc!r}") from exc
    if response.status_code != 200:
        raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
    try:
        output = response.json()
    except ValueError as exc:
        raise RasaUnavailable("Rasa's answer is not JSON") from exc
    messages = messages_from_rest_output(output)
    if not messages:  # e.g. a custom action failed and Rasa sent nothing
        raise RasaUnavailable("Rasa sent no message")
    return messages
