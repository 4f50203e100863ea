"""Shapes of the chat gateway's JSON."""

from __future__ import annotations

from typing import List, Literal, TypedDict

from typing_extensions import NotRequired


class Button(TypedDict):
    title: str  # shown on the quick reply
    payload: str  # sent when it is clicked, e.g. "/ask_safety"


class ChatMessage(TypedDict):
    """One bot message as the widget renders it."""

    text: str
    buttons: List[Button]
    urgent: bool  # a red-flag answer: the widget shows it as an alert
    # the article an answer comes from (Rasa's custom.source): a line below the answer
    source: NotRequired[str]


class TranscriptMessage(ChatMessage):
    sender: Literal["user", "bot"]
