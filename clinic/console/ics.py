"""A confirmed booking as an iCalendar file (RFC 5545), written with the standard library.

One VEVENT: UID from the reference, DTSTART/DTEND in UTC (the clinic's appointment length),
SUMMARY the reference only: a calendar is often shared or synced, so no name, concern or
answer for the practitioner goes in it. Lines end in CRLF and are folded at 75 octets.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import List

LINE_OCTETS = 75


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """TEXT values (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """Split a content line into pieces of at most 75 octets (RFC 5545 3.1), never inside a
    UTF-8 character; each continuation starts with one space."""
    pieces: List[str] = []
    current = ""
    size = 0
    limit = LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            pieces.append(current)
            current, size, limit = "", 0, LINE_OCTETS - 1  # the leading space counts
        current += char
        size += octets
    pieces.append(current)
    return "\r\n ".join(pieces)


def booking_ics(
    reference: str,
    start: datetime,
    minutes: int,
    clinic_name: str,
    domain: str,
    stamp: datetime | None = None,
) -> bytes:
    """The calendar file of one appointment; ``start`` must carry its UTC offset."""
    if start.tzinfo is None:
        raise ValueError("the start needs its UTC offset")
    stamp = stamp or datetime.now(timezone.utc)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{escape_text(clinic_name)}//Staff console//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{reference}@{domain}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(start)}",
        f"DTEND:{_utc(start + timedelta(minutes=minutes))}",
        f"SUMMARY:{escape_text(reference)}",
        "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")
