"""A preferred day and time said in plain words, and whether the clinic can take it.

``parse_when`` reads phrasings such as "next Tuesday at 2pm", "tomorrow at 10",
"Dec 3 at 4:30" or "in two days at 11" into an aware datetime in the clinic's
timezone, relative to an injected ``now``. It splits the text into a time of
day, read here, and a day, read here when relative ("tomorrow", "friday",
"monday next week", "in 2 days") and by dateparser when it is a calendar date
("Dec 3", "3rd of december", "12/03"). Raw dateparser alone misreads several of
these (``tests/test_date_parsing.py`` keeps the score), hence the thin layer.

Rules worth knowing (the tests pin each one):

- A weekday name means its next occurrence after today, with or without
  "next"/"coming" ("next friday" said on a Wednesday is in two days); "this
  <today's weekday>" is today; "<weekday> next week" is that day of the next
  Monday-to-Sunday week. The chat layer reads the full date back to confirm.
- A clock hour 1-7 without am/pm is afternoon ("at 4:30" -> 16:30): no clinic
  opens then. "in the morning/afternoon/evening" overrides that.
- Numeric dates follow the clinic's region: month first in the US ("12/03" is
  3 December), day first elsewhere (12 March). See ``date_order_for``.
- A day without a time ("monday morning", "tomorrow") is ``vague_time``; a time
  without a day ("2pm") or a span ("next week", "this weekend", "monday or
  tuesday") is ``vague_day``. ``day=`` passes a day agreed in an earlier turn, so
  "10am" after "monday morning" resolves.
- English only.

``check_slot`` then says whether the clinic takes that start, and
``nearest_open_slots`` offers the closest starts it does take. Starts are offered
on a 15-minute grid counted from each day's opening time (10:00, 10:15, ...),
whatever the appointment length, because those are the times people ask for;
``check_slot`` accepts any start, since a request is confirmed by staff.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Dict, Iterator, List, Mapping, Tuple
from zoneinfo import ZoneInfo

import dateparser

from clinic.settings import ClinicProfile, opening_span

from .reasons import Reason

GRID_MINUTES = 15
_MDY_REGIONS = {"US", "PR", "GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW"}

_WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tues": 1,
    "tue": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thurs": 3,
    "thur": 3,
    "thu": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_WEEKDAY = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "thirty": 30,
    "forty five": 45,
    "forty-five": 45,
}

# Times of day. Each alternative names its hour (h), minutes (m) and am/pm (ap) groups.
_TIME = re.compile(
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*(?P<ap1>am|pm)?\b"
    r"|\b(?P<h2>\d{1,2}) (?P<m2>00|15|30|45) ?(?P<ap2>am|pm)\b"
    r"|\b(?P<h3>\d{1,2}) ?(?P<ap3>am|pm)\b"
    r"|\b(?P<h4>\d{1,2}) ?(?:oclock|ish)\b"
    r"|\b(?P<phrase>half past|quarter past|quarter to) (?P<h5>\d{1,2})\b"
    r"|\b(?:at|@|around|about) (?P<h6>\d{1,2})(?: (?P<m6>[0-5]\d))?\b"
    rf"(?![:/.\-]|(?:st|nd|rd|th)\b| ?(?:am|pm|oclock|ish)\b| (?:days?|weeks?|of|{_MONTH})\b)"
)
_PHRASE_MINUTES = {"half past": 30, "quarter past": 15, "quarter to": -15}
_PART = re.compile(
    r"\b(?:(?P<this>this) |in the |early |late |mid )?"
    r"(?P<part>morning|afternoon|evening|tonight|lunch ?time|lunch)\b"
)
_PART_NAMES = {"tonight": "evening", "lunch": "lunchtime", "lunch time": "lunchtime"}
_VAGUE_DAY = re.compile(
    r"\b(?:(?:this|next|coming|the following) (?:week|month|weekend)|weekend|week"
    r"|soon|asap|as soon as possible|whenever|any ?time|any day|some ?time|some day"
    r"|later|next available|first available|earliest)\b"
)
_RELATIVE = re.compile(
    r"\b(?P<dat>(?:the )?day after (?:tomorrow|tmrw|tmr))\b"
    r"|\b(?P<tomorrow>tomorrow|tmrw|tmr|tomorow|tommorow|tommorrow)\b"
    r"|\b(?P<today>today|tonight)\b"
    r"|\b(?P<yesterday>yesterday)\b"
    r"|\bin (?P<n1>\d{1,3}) (?P<u1>days?|weeks?)(?: time)?\b"
    r"|\b(?P<n2>\d{1,3}) (?P<u2>days?|weeks?) from (?:now|today)\b"
    rf"|\b(?:(?P<mod>this|next|coming|on) )?(?P<weekday>{_WEEKDAY})\b"
)
_BARE_HOUR = re.compile(r"(?P<h>\d{1,2})")
_NEXT_WEEK = re.compile(r"\b(?:of )?next week\b")
# "may" is a month only next to a number ("may 3", "3rd of may"): "may I come friday?"
_MAY = r"may(?= \d)|(?<=\d )may|(?<=st |nd |rd |th |of )may"
_DATE_LIKE = re.compile(
    rf"\b(?:{_MONTH.replace('|may|', '|')}|{_MAY})\b"
    r"|\b\d{1,4}[/\-.]\d{1,2}(?:[/\-.]\d{2,4})?\b|\b\d{1,2}(?:st|nd|rd|th)\b|\bthe \d{1,2}\b"
)
_FILLERS = re.compile(
    r"\b(?:please|pls|maybe|perhaps|how about|what about|can i|could i|can we|could we"
    r"|i'd like|id like|i would like|i want|book|booking|me|an|a|appointment|come in|come"
    r"|around|about|at|on|ok|okay|is|that|works|would|be|great|good|fine|for|or so|ish"
    r"|if possible|if you can|possible|then|yes|sure|early|late|in|the|to|i|we|do)\b"
)


@dataclass(frozen=True)
class WhenResult:
    """A parsed start, or a reason with whatever was understood (to ask for the rest)."""

    start: datetime | None = None
    reason: Reason | None = None
    day: date | None = None
    time: time | None = None
    part: str | None = None  # "morning", "afternoon", "evening", "lunchtime"

    @property
    def ok(self) -> bool:
        return self.reason is None


def date_order_for(region: str) -> str:
    """``"MDY"`` where numeric dates put the month first (the US), else ``"DMY"``."""
    return "MDY" if region.upper() in _MDY_REGIONS else "DMY"


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = text.replace("\u2019", "'")
    text = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", text)
    text = re.sub(r"\bo'? ?clock\b", " oclock", text)
    text = re.sub(r"\b(\d{1,2})\.(\d{2})\s*(am|pm)\b", r"\1:\2\3", text)
    text = re.sub(r"\b(?:12 )?(?:noon|midday)\b", "12:00pm", text)
    text = re.sub(r"\b(?:12 )?midnight\b", "12:00am", text)
    text = re.sub(r"[^\w\s:/\-.@']", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    for word, number in _NUMBER_WORDS.items():
        text = re.sub(rf"\b{word}\b", str(number), text)
    text = re.sub(r"\ba (?:couple|couple of) days\b", "2 days", text)
    text = re.sub(r"\ba fortnight\b", "2 weeks", text)
    text = re.sub(r"\ban? (day|week)\b", r"1 \1", text)
    return re.sub(r"\s+", " ", text).strip()


def _read_time(match: re.Match[str], part: str | None) -> time | None:
    """The time a ``_TIME`` match names; None when it is no clock time ("25:00")."""
    groups = {key: value for key, value in match.groupdict().items() if value}
    hour = int(next(value for key, value in groups.items() if key[0] == "h"))
    minute = int(next((value for key, value in groups.items() if key[0] == "m"), 0))
    meridiem = next((value for key, value in groups.items() if key.startswith("ap")), None)
    if minute > 59:
        return None
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif hour > 23:
        return None
    elif (part in ("afternoon", "evening") and hour < 12) or (
        part != "morning" and 1 <= hour <= 7  # no clinic opens at 4:30 in the morning
    ):
        hour += 12
    shift = timedelta(minutes=_PHRASE_MINUTES.get(groups.get("phrase", ""), 0))
    return (datetime.combine(date.min, time(hour, minute)) + shift + timedelta(days=1)).time()


def _weekday_date(today: date, weekday: int, mod: str | None, next_week: bool) -> date:
    if next_week:
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday + timedelta(days=weekday)
    if mod == "this" and weekday == today.weekday():
        return today
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _relative_days(text: str, today: date) -> Tuple[List[date], str]:
    """The days that relative expressions name, and the text without them."""
    moved = bool(_NEXT_WEEK.search(text)) and bool(re.search(rf"\b(?:{_WEEKDAY})\b", text))
    if moved:  # "monday next week", "next week on monday"
        text = _NEXT_WEEK.sub(" ", text)
    days: List[date] = []
    for match in _RELATIVE.finditer(text):
        groups = match.groupdict()
        if groups["dat"]:
            days.append(today + timedelta(days=2))
        elif groups["tomorrow"]:
            days.append(today + timedelta(days=1))
        elif groups["today"]:
            days.append(today)
        elif groups["yesterday"]:
            days.append(today - timedelta(days=1))
        elif groups["weekday"]:
            weekday = _WEEKDAYS[groups["weekday"]]
            days.append(_weekday_date(today, weekday, groups["mod"], moved))
        else:
            number = int(groups["n1"] or groups["n2"])
            unit = groups["u1"] or groups["u2"]
            days.append(today + timedelta(days=number * (7 if unit.startswith("week") else 1)))
    return days, _RELATIVE.sub(" ", text)


def _calendar_date(text: str, profile: ClinicProfile, now: datetime) -> date | None:
    """A calendar date ("dec 3", "3rd of december", "12/03") by dateparser, or None."""
    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "TIMEZONE": profile.timezone,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "RELATIVE_BASE": now.replace(tzinfo=None),
            "DATE_ORDER": date_order_for(profile.phone_region),
            "REQUIRE_PARTS": ["day"],
        },
    )
    return parsed.date() if parsed else None


def _strip(text: str) -> str:
    return re.sub(r"\s+", " ", _FILLERS.sub(" ", text)).strip()


def parse_when(
    text: str, profile: ClinicProfile, now: datetime, *, day: date | None = None
) -> WhenResult:
    """Reads a preferred start from ``text``; ``now`` must be timezone-aware."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(profile.timezone)
    now = now.astimezone(zone)
    today = now.date()
    text = _normalise(text)

    part_match = _PART.search(text)
    part = part_match.group("part") if part_match else None
    said_today = bool(part_match and (part_match.group("this") or part == "tonight"))
    part = _PART_NAMES.get(part or "", part)
    times = [_read_time(match, part) for match in _TIME.finditer(text)]
    text = _PART.sub(" ", _TIME.sub(" ", text)) + (" today" if said_today else "")

    weekday_named = re.search(rf"\b({_WEEKDAY})\b", text)
    if _DATE_LIKE.search(text):
        rest = _VAGUE_DAY.sub(" ", text)
        found = _calendar_date(_strip(rest), profile, now)
        if found is None:
            if re.search(r"\d", rest):
                return WhenResult(reason=Reason.UNPARSEABLE)
            return WhenResult(reason=Reason.VAGUE_DAY, time=times[0] if times else None)
        if weekday_named and _WEEKDAYS[weekday_named.group(1)] != found.weekday():
            return WhenResult(reason=Reason.WEEKDAY_MISMATCH, day=found)
        days, rest = [found], ""
    else:
        days, rest = _relative_days(text, today)
        rest = _strip(_VAGUE_DAY.sub(" ", rest))

    bare_hour = _BARE_HOUR.fullmatch(rest)
    if bare_hour and not times and len(days) == 1:  # "friday 3": a lone number is an hour
        times, rest = [_read_time(bare_hour, part)], ""
    if re.search(r"\d", rest) or None in times:
        return WhenResult(reason=Reason.UNPARSEABLE)

    vague_day = bool(_VAGUE_DAY.search(text)) and not days
    if len(set(days)) > 1:
        return WhenResult(reason=Reason.VAGUE_DAY, time=times[0] if times else None)
    found_day = days[0] if days else (None if vague_day else day)
    if len(set(times)) > 1:
        return WhenResult(reason=Reason.VAGUE_TIME, day=found_day, part=part)
    found_time = times[0] if times else None

    if found_day and found_time:
        start = datetime.combine(found_day, found_time, tzinfo=zone)
        return WhenResult(start=start, day=found_day, time=found_time, part=part)
    if found_day:
        return WhenResult(reason=Reason.VAGUE_TIME, day=found_day, part=part)
    if found_time or vague_day:
        return WhenResult(reason=Reason.VAGUE_DAY, time=found_time, part=part)
    if part:
        return WhenResult(reason=Reason.VAGUE_TIME, part=part)
    return WhenResult(reason=Reason.UNPARSEABLE)


def _local(start: datetime, profile: ClinicProfile) -> datetime:
    if start.tzinfo is None:
        raise ValueError("a start time must be timezone-aware")
    return start.astimezone(ZoneInfo(profile.timezone))


def check_slot(
    start: datetime,
    profile: ClinicProfile,
    now: datetime,
    taken_counts: Mapping[datetime, int] | None = None,
) -> Reason | None:
    """None when the clinic can take a request for ``start``, else why not.

    Checked in this order: ``past`` (at or before ``now``); ``too_far_ahead`` (later
    than ``booking_horizon_days`` after today, counted in whole days);
    ``closed_day``; ``outside_hours`` (before opening, or the appointment of
    ``appointment_minutes`` would end after closing); ``slot_full`` (the requests
    already at that exact start, ``taken_counts[start]``, reach
    ``max_bookings_per_slot``). ``taken_counts`` keys are aware datetimes, which
    compare by instant whatever their timezone.
    """
    local = _local(start, profile)
    now = _local(now, profile)
    if local <= now:
        return Reason.PAST
    if local.date() > now.date() + timedelta(days=profile.booking_horizon_days):
        return Reason.TOO_FAR_AHEAD
    span = opening_span(profile, local.weekday())
    if span is None:
        return Reason.CLOSED_DAY
    opens, closes = span
    wall = local.replace(tzinfo=None)
    end = wall + timedelta(minutes=profile.appointment_minutes)
    if wall.time() < opens or end > datetime.combine(wall.date(), closes):
        return Reason.OUTSIDE_HOURS
    if (taken_counts or {}).get(start, 0) >= profile.max_bookings_per_slot:
        return Reason.SLOT_FULL
    return None


def _grid(profile: ClinicProfile, now: datetime) -> Iterator[datetime]:
    """Every start on the 15-minute grid from today to the end of the horizon."""
    zone = ZoneInfo(profile.timezone)
    today = now.date()
    for offset in range(profile.booking_horizon_days + 1):
        current = today + timedelta(days=offset)
        span = opening_span(profile, current.weekday())
        if span is None:
            continue
        step = datetime.combine(current, span[0])
        last = datetime.combine(current, span[1]) - timedelta(minutes=profile.appointment_minutes)
        while step <= last:
            yield step.replace(tzinfo=zone)
            step += timedelta(minutes=GRID_MINUTES)


def nearest_open_slots(
    start: datetime,
    profile: ClinicProfile,
    now: datetime,
    taken_counts: Mapping[datetime, int] | None = None,
    n: int = 3,
) -> List[datetime]:
    """The ``n`` starts nearest to ``start`` that ``check_slot`` accepts, in time order.

    Candidates lie on the 15-minute grid from each day's opening; equally near
    ones go to the earlier. ``start`` itself is included when it is open.
    """
    local = _local(start, profile)
    now = _local(now, profile)
    counts: Dict[datetime, int] = dict(taken_counts or {})
    open_starts = (
        candidate
        for candidate in _grid(profile, now)
        if check_slot(candidate, profile, now, counts) is None
    )
    nearest = sorted(open_starts, key=lambda candidate: (abs(candidate - local), candidate))
    return sorted(nearest[:n])
