"""Why a booking answer was refused: codes the chat layer maps to responses."""

from __future__ import annotations

from enum import Enum


class Reason(str, Enum):
    """A refusal code. Being a ``str``, ``Reason.PAST == "past"``."""

    INVALID_NAME = "invalid_name"
    INVALID_PHONE = "invalid_phone"
    INVALID_EMAIL = "invalid_email"
    UNPARSEABLE = "unparseable"
    VAGUE_DAY = "vague_day"  # a time but no day ("2pm", "next week"): ask which day
    VAGUE_TIME = "vague_time"  # a day but no time ("monday morning"): ask which time
    WEEKDAY_MISMATCH = "weekday_mismatch"  # "monday the 24th" when the 24th is a Tuesday
    PAST = "past"
    CLOSED_DAY = "closed_day"
    OUTSIDE_HOURS = "outside_hours"
    TOO_FAR_AHEAD = "too_far_ahead"
    SLOT_FULL = "slot_full"
