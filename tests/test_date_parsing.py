"""Preferred days and times in plain words, the slot checks, and why dateparser alone is not enough.

``PHRASINGS`` is the table: what a visitor types, and the start (ISO 8601 in the
clinic timezone) or the reason code the project's parser must give, with "now"
fixed at Wednesday 18 November 2026, 10:00 in New York (EST, UTC-5).

The same table goes through the raw libraries, each used as its documentation
shows with the same reference time and timezone: dateparser, parsedatetime and
ctparse (ctparse 0.3.6 installs on Python 3.10 with Rasa's pins, so it is
compared too). A library gets a row right when it returns exactly the expected
start, or, for a row whose answer is a reason code, when it returns no
datetime at all (returning today's date for "2pm" would book the wrong day).
Scores at the locked versions, out of the 56 rows: dateparser 1.2.0 36,
parsedatetime 2.6 28, ctparse 0.3.6 36; the project's parser 56. Typical misses:
"next tuesday" and "this saturday" (dateparser: nothing), "Dec 3 at 4:30" read
as 04:30 (all three), "in two days at 11" losing the hour, "2pm" and "next week"
turned into a definite start.
``pytest -s`` prints each library's score and misses.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable, Dict, List, Tuple
from zoneinfo import ZoneInfo

import pytest
import yaml

from clinic.booking.reasons import Reason
from clinic.booking.when import (
    check_slot,
    date_order_for,
    nearest_open_slots,
    parse_when,
)
from clinic.settings import ClinicProfile, ClinicSettingsError, parse_clinic

ROOT = Path(__file__).resolve().parents[1]
NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=NY)  # a Wednesday

PHRASINGS: List[Tuple[str, str]] = [
    # weekdays: the next one after today, with or without "next"/"this"
    ("next Tuesday at 2pm", "2026-11-24T14:00:00-05:00"),
    ("friday 3pm", "2026-11-20T15:00:00-05:00"),
    ("Friday 3PM.", "2026-11-20T15:00:00-05:00"),
    ("this saturday 9:30", "2026-11-21T09:30:00-05:00"),
    ("next friday at 10:00", "2026-11-20T10:00:00-05:00"),
    ("on monday at 1pm", "2026-11-23T13:00:00-05:00"),
    ("wed 2pm", "2026-11-25T14:00:00-05:00"),  # a weekday name never means today
    ("sat 9am", "2026-11-21T09:00:00-05:00"),
    ("thursday at 5:15pm", "2026-11-19T17:15:00-05:00"),
    ("at 3pm on friday", "2026-11-20T15:00:00-05:00"),
    ("friday at 3", "2026-11-20T15:00:00-05:00"),  # a bare hour 1-7 is afternoon
    ("friday 3", "2026-11-20T15:00:00-05:00"),
    ("monday next week at 10", "2026-11-23T10:00:00-05:00"),
    ("noon on saturday", "2026-11-21T12:00:00-05:00"),
    ("quarter past 10 on friday", "2026-11-20T10:15:00-05:00"),
    ("may I come on friday at 3pm?", "2026-11-20T15:00:00-05:00"),
    # relative days
    ("tomorrow at 10", "2026-11-19T10:00:00-05:00"),
    ("tomorrow at noon", "2026-11-19T12:00:00-05:00"),
    ("tomorrow at 10 a.m.", "2026-11-19T10:00:00-05:00"),
    ("tomorrow 10:30am", "2026-11-19T10:30:00-05:00"),
    ("tomorrow at 4.30pm", "2026-11-19T16:30:00-05:00"),
    ("tomorrow at 3 in the afternoon", "2026-11-19T15:00:00-05:00"),
    ("half past two tomorrow", "2026-11-19T14:30:00-05:00"),
    ("quarter to 11 tomorrow", "2026-11-19T10:45:00-05:00"),
    ("at ten thirty tomorrow", "2026-11-19T10:30:00-05:00"),
    ("the day after tomorrow at 3pm", "2026-11-20T15:00:00-05:00"),
    ("in two days at 11", "2026-11-20T11:00:00-05:00"),
    ("2 days from now at 9", "2026-11-20T09:00:00-05:00"),
    ("in a week at 9am", "2026-11-25T09:00:00-05:00"),
    ("a week from today at 2pm", "2026-11-25T14:00:00-05:00"),
    ("today at 4pm", "2026-11-18T16:00:00-05:00"),
    ("yesterday at 3pm", "2026-11-17T15:00:00-05:00"),  # parsed; check_slot says "past"
    # calendar dates (US: month first)
    ("Dec 3 at 4:30", "2026-12-03T16:30:00-05:00"),
    ("3rd of december at 16:30", "2026-12-03T16:30:00-05:00"),
    ("3 December 16:30", "2026-12-03T16:30:00-05:00"),
    ("12:30 on the 3rd of December", "2026-12-03T12:30:00-05:00"),
    ("12/03 10am", "2026-12-03T10:00:00-05:00"),
    ("dec 3 10am", "2026-12-03T10:00:00-05:00"),
    ("dec 1st 11am", "2026-12-01T11:00:00-05:00"),
    ("11/23 2:30pm", "2026-11-23T14:30:00-05:00"),
    ("november 23rd at 2:30 pm", "2026-11-23T14:30:00-05:00"),
    ("tuesday the 24th at 9am", "2026-11-24T09:00:00-05:00"),
    ("2026-11-23 14:00", "2026-11-23T14:00:00-05:00"),
    ("march 20 at 10am", "2027-03-20T10:00:00-04:00"),  # next year, daylight saving time
    # not enough to book: ask for the missing part
    ("monday morning", "vague_time"),
    ("morning", "vague_time"),
    ("tomorrow afternoon", "vague_time"),
    ("tonight", "vague_time"),
    ("between 2pm and 4pm tomorrow", "vague_time"),
    ("2pm", "vague_day"),
    ("next week", "vague_day"),
    ("sometime next week at 2pm", "vague_day"),
    ("this weekend", "vague_day"),
    ("monday or tuesday at 2pm", "vague_day"),
    ("monday the 24th at 10", "weekday_mismatch"),  # the 24th is a Tuesday
    ("asdf", "unparseable"),
]


def expected_start(expected: str) -> datetime | None:
    return (
        None
        if expected in {reason.value for reason in Reason}
        else datetime.fromisoformat(expected)
    )


def profile_text(**changes) -> str:
    """The shipped clinic.yml (New York, region US) with ``changes``."""
    raw = yaml.safe_load((ROOT / "clinic.yml").read_text(encoding="utf-8"))
    raw.update(changes)
    return yaml.safe_dump(raw)


@pytest.fixture(scope="module")
def us_clinic() -> ClinicProfile:
    return parse_clinic(profile_text())


@pytest.mark.parametrize(("text", "expected"), PHRASINGS)
def test_the_project_parser_reads_every_phrasing_of_the_table(
    text: str, expected: str, us_clinic: ClinicProfile
):
    result = parse_when(text, us_clinic, NOW)
    got = result.start.isoformat() if result.start else result.reason.value
    assert got == expected
    assert result.ok == (expected_start(expected) is not None)


def test_the_table_is_long_enough_and_its_phrasings_distinct():
    assert len(PHRASINGS) >= 30
    assert len({text.lower() for text, _ in PHRASINGS}) == len(PHRASINGS)


def test_a_vague_answer_keeps_what_was_understood(us_clinic: ClinicProfile):
    monday = parse_when("monday morning", us_clinic, NOW)
    assert (monday.reason, monday.day, monday.part) == (
        Reason.VAGUE_TIME,
        date(2026, 11, 23),
        "morning",
    )
    two = parse_when("2pm", us_clinic, NOW)
    assert (two.reason, two.day, two.time) == (Reason.VAGUE_DAY, None, time(14, 0))


def test_a_time_given_after_the_day_completes_it(us_clinic: ClinicProfile):
    monday = parse_when("monday morning", us_clinic, NOW).day
    result = parse_when("10am", us_clinic, NOW, day=monday)
    assert result.start == datetime(2026, 11, 23, 10, 0, tzinfo=NY)
    # a day in the new answer wins over the one agreed before
    assert parse_when("tuesday at 9am", us_clinic, NOW, day=monday).day == date(2026, 11, 24)


def test_numeric_dates_are_day_first_outside_the_us():
    uk = parse_clinic(profile_text(phone_region="GB", timezone="Europe/London"))
    now = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    assert parse_when("12/03 10am", uk, now).start.isoformat() == "2027-03-12T10:00:00+00:00"
    assert (date_order_for("US"), date_order_for("gb")) == ("MDY", "DMY")


def test_now_in_another_timezone_is_read_in_the_clinic_timezone(us_clinic: ClinicProfile):
    # 03:30 UTC on Thursday is still Wednesday 22:30 in New York: "tomorrow" is Thursday.
    now_utc = datetime(2026, 11, 19, 3, 30, tzinfo=ZoneInfo("UTC"))
    result = parse_when("tomorrow at 10", us_clinic, now_utc)
    assert result.start == datetime(2026, 11, 19, 10, 0, tzinfo=NY)


def test_a_naive_now_is_a_programming_error(us_clinic: ClinicProfile):
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_when("tomorrow at 10", us_clinic, datetime(2026, 11, 18, 10, 0))


# --- raw libraries, for comparison -----------------------------------------------------


def raw_dateparser(text: str) -> datetime | None:
    import dateparser

    return dateparser.parse(
        text,
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "TIMEZONE": "America/New_York",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "RELATIVE_BASE": NOW.replace(tzinfo=None),
            "DATE_ORDER": "MDY",
        },
    )


def raw_parsedatetime(text: str) -> datetime | None:
    import parsedatetime

    calendar = parsedatetime.Calendar(version=parsedatetime.VERSION_CONTEXT_STYLE)
    parsed, context = calendar.parseDT(text, sourceTime=NOW.replace(tzinfo=None), tzinfo=NY)
    return parsed if context.hasDateOrTime else None


def raw_ctparse(text: str) -> datetime | None:
    from ctparse import ctparse
    from ctparse.types import Time

    parsed = ctparse(text, ts=NOW.replace(tzinfo=None), timeout=0)
    found = parsed.resolution if parsed else None
    if not isinstance(found, Time) or None in (found.year, found.month, found.day, found.hour):
        return None  # nothing, an interval, or a day without a time
    return datetime(found.year, found.month, found.day, found.hour, found.minute or 0, tzinfo=NY)


RAW_LIBRARIES: Dict[str, Callable[[str], datetime | None]] = {
    "dateparser": raw_dateparser,
    "parsedatetime": raw_parsedatetime,
    "ctparse": raw_ctparse,
}


def right(answer: datetime | None, expected: str) -> bool:
    wanted = expected_start(expected)
    if wanted is None:
        return answer is None
    return answer is not None and answer == wanted and answer.utcoffset() == wanted.utcoffset()


@pytest.mark.parametrize("library", sorted(RAW_LIBRARIES))
def test_each_raw_library_misreads_some_phrasings_that_the_project_parser_reads(library: str):
    parse = RAW_LIBRARIES[library]
    misses = []
    for text, expected in PHRASINGS:
        answer = parse(text)
        if not right(answer, expected):
            misses.append(f"  {text!r}: wanted {expected}, got {answer and answer.isoformat()}")
    score = f"{library}: {len(PHRASINGS) - len(misses)}/{len(PHRASINGS)} right"
    print(f"\n{score}; misses:\n" + "\n".join(misses))
    assert misses, f"{score}: the raw library needs no normalising layer any more"


# --- check_slot and nearest_open_slots against the shipped clinic.yml ------------------
# Mon-Wed 08:00-18:00, Thu 08:00-19:00, Fri 08:00-16:00, Sat 09:00-13:00, Sun closed;
# 45-minute appointments, one request per start, 90 days ahead.


def at(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        (at(19, 10), None),  # Thursday
        (at(20, 15, 15), None),  # Friday: ends 16:00, at closing
        (at(20, 15, 30), Reason.OUTSIDE_HOURS),  # would end 16:15
        (at(19, 18, 15), None),  # Thursday closes at 19:00
        (at(18, 18, 15), Reason.OUTSIDE_HOURS),  # Wednesday closes at 18:00
        (at(23, 7, 45), Reason.OUTSIDE_HOURS),  # before opening
        (at(23, 8, 0), None),
        (at(21, 12, 15), None),  # Saturday
        (at(21, 12, 30), Reason.OUTSIDE_HOURS),
        (at(22, 10), Reason.CLOSED_DAY),  # Sunday
        (at(17, 15), Reason.PAST),
        (at(18, 9), Reason.PAST),  # earlier today
        (at(18, 10), Reason.PAST),  # now
        (at(18, 10, 15), None),
        (at(16, 10, month=2, year=2027), None),  # Tuesday, day 90
        (at(17, 10, month=2, year=2027), Reason.TOO_FAR_AHEAD),  # day 91
        (at(21, 10, month=2, year=2027), Reason.TOO_FAR_AHEAD),  # a Sunday, but too far first
    ],
)
def test_check_slot_follows_the_shipped_opening_hours(
    start: datetime, reason: Reason | None, clinic: ClinicProfile
):
    assert check_slot(start, clinic, NOW, {}) == reason


def test_a_start_with_as_many_requests_as_the_slot_takes_is_full(clinic: ClinicProfile):
    start = at(19, 10)
    assert check_slot(start, clinic, NOW, {start: 1}) is Reason.SLOT_FULL
    assert check_slot(start, clinic, NOW, {at(19, 10, 45): 1}) is None
    # the same instant in UTC counts for the same start
    assert check_slot(start, clinic, NOW, {start.astimezone(ZoneInfo("UTC")): 1}) is not None
    roomier = clinic.copy(update={"max_bookings_per_slot": 2})
    assert check_slot(start, roomier, NOW, {start: 1}) is None
    assert check_slot(start, roomier, NOW, {start: 2}) is Reason.SLOT_FULL


def test_a_parsed_phrase_in_the_past_is_refused_as_past(clinic: ClinicProfile):
    start = parse_when("yesterday at 3pm", clinic, NOW).start
    assert check_slot(start, clinic, NOW) is Reason.PAST


def test_after_closing_on_friday_the_last_starts_of_friday_are_offered(clinic: ClinicProfile):
    assert nearest_open_slots(at(20, 19), clinic, NOW, {}) == [
        at(20, 14, 45),
        at(20, 15, 0),
        at(20, 15, 15),
    ]


def test_on_sunday_the_nearest_starts_of_saturday_and_monday_are_offered(clinic: ClinicProfile):
    # Sunday 10:00: Saturday 12:15 is 21h45 away; Saturday 12:00 and Monday 08:00 are 22h away.
    assert nearest_open_slots(at(22, 10), clinic, NOW, {}) == [
        at(21, 12, 0),
        at(21, 12, 15),
        at(23, 8, 0),
    ]


def test_full_starts_are_skipped(clinic: ClinicProfile):
    taken = {at(23, 10): 1, at(23, 9, 45): 1}
    assert nearest_open_slots(at(23, 10), clinic, NOW, taken) == [
        at(23, 9, 30),
        at(23, 10, 15),
        at(23, 10, 30),
    ]


def test_a_past_start_gets_the_next_starts_from_now(clinic: ClinicProfile):
    assert nearest_open_slots(at(17, 15), clinic, NOW, {}, n=2) == [at(18, 10, 15), at(18, 10, 30)]


def test_a_start_too_far_ahead_gets_the_last_bookable_starts(clinic: ClinicProfile):
    last_day = NOW.date() + timedelta(days=clinic.booking_horizon_days)  # Tuesday 16 Feb 2027
    slots = nearest_open_slots(at(1, 10, month=4, year=2027), clinic, NOW, {}, n=2)
    assert [slot.date() for slot in slots] == [last_day, last_day]
    assert slots[-1].time() == time(17, 15)


def test_every_offered_start_is_accepted_by_check_slot(clinic: ClinicProfile):
    for asked in (at(18, 23), at(22, 3), at(28, 13, 5)):
        slots = nearest_open_slots(asked, clinic, NOW, {}, n=5)
        assert len(slots) == 5 and slots == sorted(slots)
        assert all(check_slot(slot, clinic, NOW, {}) is None for slot in slots)
        assert all(slot.minute % 15 == 0 for slot in slots)


@pytest.mark.parametrize(
    "changes",
    [{"max_bookings_per_slot": 0}, {"booking_horizon_days": 0}, {"retention_days": -1}],
)
def test_booking_keys_below_one_are_refused(changes: Dict[str, int]):
    with pytest.raises(ClinicSettingsError, match=next(iter(changes))):
        parse_clinic(profile_text(**changes))


def test_a_profile_without_the_booking_keys_gets_the_documented_defaults():
    raw = yaml.safe_load(profile_text())
    for key in ("max_bookings_per_slot", "booking_horizon_days", "retention_days"):
        del raw[key]
    profile = parse_clinic(yaml.safe_dump(raw))
    assert (
        profile.max_bookings_per_slot,
        profile.booking_horizon_days,
        profile.retention_days,
    ) == (1, 90, 180)
