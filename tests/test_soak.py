"""The soak (``make soak``, ``bench/soak.py``) in small: concurrent whole conversations
with bookings through the real web gateway, then every message and booking is stored
exactly once. Also the soak's own parts: its scripts, slots and checkers."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Dict

import pytest

from bench.soak import (
    Script,
    Visit,
    booking_problems,
    booking_slots,
    rate_limits,
    run_soak,
    slot_text,
    soak_scripts,
    tracker_problems,
)
from clinic.booking.when import check_slot, parse_when
from clinic.settings import ClinicProfile
from clinic.web.settings import load_settings

CONVERSATIONS, TURNS = 8, 20
NOW = datetime(2026, 11, 21, 15, 30, tzinfo=timezone.utc)


def test_the_booking_slots_are_distinct_open_starts_that_the_parser_reads_back(
    clinic: ClinicProfile,
):
    slots = booking_slots(clinic, NOW, 60)
    assert len(set(slots)) == 60
    for start in slots:
        assert check_slot(start, clinic, NOW) is None
        assert parse_when(slot_text(start), clinic, NOW).start == start


def test_no_booking_slot_is_tomorrow_so_a_run_across_midnight_still_asks_for_a_later_day(
    clinic: ClinicProfile,
):
    just_before_midnight = datetime(2026, 12, 1, 4, 59, 59, tzinfo=timezone.utc)  # New York
    slots = booking_slots(clinic, just_before_midnight, 5)
    assert min(start.date() for start in slots) > date(2026, 12, 1)
    after_midnight = datetime(2026, 12, 1, 5, 0, 30, tzinfo=timezone.utc)
    for start in slots:
        assert parse_when(slot_text(start), clinic, after_midnight).start == start


def test_more_bookings_than_open_hours_in_the_horizon_is_refused(clinic: ClinicProfile):
    short = clinic.copy(update={"booking_horizon_days": 2})
    with pytest.raises(ValueError, match="whole-hour starts"):
        booking_slots(short, NOW, 500)


def test_every_script_has_the_turns_asked_for_and_its_own_contact_and_slot(
    clinic: ClinicProfile,
):
    scripts = soak_scripts(clinic, NOW, 60, TURNS)
    assert {len(script.messages) for script in scripts} == {TURNS}
    assert {script.kind for script in scripts} == {
        "questions",
        "symptom guide",
        "booking restarted",
    }
    for key in ("patient_name", "phone", "email", "preferred_start"):
        assert len({script.booking[key] for script in scripts}) == 60, key
    for script in scripts:
        assert script.booking["patient_name"] in script.messages
        assert script.messages[script.confirm_turn] == "yes"


def test_a_script_too_short_for_a_booking_is_refused(clinic: ClinicProfile):
    with pytest.raises(ValueError, match="needs at least"):
        soak_scripts(clinic, NOW, 3, 10)


def test_the_soak_raises_the_address_limit_to_let_the_whole_run_through_one_address():
    defaults, settings = load_settings({}), load_settings(rate_limits(50, 20))
    assert defaults.address_limit.limit < 50 * 20 <= settings.address_limit.limit
    assert settings.session_limit.limit >= 20
    assert settings.session_limit.window_s == settings.address_limit.window_s == 30


def visit(script: Script) -> Visit:
    """``script`` sent whole by the session of sender ``web-a``, shown RC-ABC123."""
    result = Visit(script, sent=list(script.messages), senders=["web-a"])
    result.replies = [""] * len(script.messages)
    result.replies[script.confirm_turn] = "your reference is **RC-ABC123**."
    result.statuses = ["200"] * len(script.messages)
    return result


@pytest.fixture
def script(clinic: ClinicProfile) -> Script:
    return soak_scripts(clinic, NOW, 1, TURNS)[0]


def test_the_tracker_check_passes_only_for_each_message_once_in_order(script: Script):
    sent = list(script.messages)
    assert tracker_problems([visit(script)], {"web-a": sent}) == []
    twice = [*sent[:3], sent[2], *sent[3:]]
    missing = sent[:-1]
    swapped = [sent[1], sent[0], *sent[2:]]
    for stored in (twice, missing, swapped):
        assert len(tracker_problems([visit(script)], {"web-a": stored})) == 1
    stranger = tracker_problems([visit(script)], {"web-a": sent, "web-b": ["hello"]})
    assert stranger and "no visitor had" in stranger[0]


def booking_row(script: Script, **changes: Any) -> Dict[str, Any]:
    row = {**script.booking, "conversation_id": "web-a", "kind": "booking"}
    return {**row, "reference": "RC-ABC123", **changes}


def test_the_booking_check_passes_only_for_one_right_row_per_conversation(script: Script):
    done = visit(script)
    assert booking_problems([done], [booking_row(script)]) == []
    second = booking_row(script, reference="RC-XYZ789")
    wrong_phone = booking_row(script, phone="+12025550999")
    not_shown = booking_row(script, reference="RC-ZZZ999")
    stranger = booking_row(script, conversation_id="web-b", reference="RC-QQQ111")
    assert "2 booking rows" in booking_problems([done], [booking_row(script), second])[0]
    assert "0 booking rows" in booking_problems([done], [])[0]
    assert "expected" in booking_problems([done], [wrong_phone])[0]
    assert "shown" in booking_problems([done], [not_shown])[0]
    assert "no visitor had" in booking_problems([done], [booking_row(script), stranger])[0]


@pytest.mark.e2e
def test_concurrent_conversations_through_the_gateway_store_every_message_and_booking_once(
    tmp_path: Path,
):
    report = run_soak(tmp_path, conversations=CONVERSATIONS, turns=TURNS)
    messages = CONVERSATIONS * TURNS
    assert report["tracker_problems"] == []
    assert report["booking_problems"] == []
    assert report["status_counts"] == {"200": messages}
    assert report["gateway_log_statuses"] == {"200": messages}
    assert (report["server_errors"], report["rate_limited"], report["failed_requests"]) == (
        0,
        0,
        0,
    )
    assert report["user_events_checked"] == messages
    assert report["booking_rows"] == CONVERSATIONS
    assert report["ok"]
