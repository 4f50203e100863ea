"""Shapes of the chat gateway's JSON."""

from __future__ import annotations

from typing import List, Literal, TypedDict


class Button(TypedDict):
    title: str  # shown on the quick reply
    payload: str  # sent when it is clicked, e.g. "/ask_safety"


class ChatMessage(TypedDict):
    """One bot message as the widget renders it."""

    text: str
    buttons: List[Button]
    urgent: bool  # a red-flag answer: the widget shows it as an alert


class TranscriptMessage(ChatMessage):
    sender: Literal["user", "bot"]
