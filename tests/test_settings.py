"""clinic.yml is read, checked and turned into response slots."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinic.settings import (
    WEEKDAYS,
    ClinicProfile,
    ClinicSettingsError,
    clinic_slots,
    format_opening_hours,
    load_clinic,
    parse_clinic,
)

ROOT = Path(__file__).resolve().parents[1]


def profile_text(**changes) -> str:
    raw = yaml.safe_load((ROOT / "clinic.yml").read_text(encoding="utf-8"))
    raw.update(changes)
    return yaml.safe_dump(raw)


def test_the_shipped_clinic_yml_is_valid_and_names_all_contract_fields(clinic: ClinicProfile):
    assert clinic.name and clinic.phone and clinic.email and clinic.address
    assert set(clinic.opening_hours) == set(WEEKDAYS)
    assert clinic.appointment_minutes > 0
    assert clinic.timezone
    assert clinic.emergency_number and clinic.crisis_line
    assert clinic.allowed_origins


def test_emergency_and_crisis_numbers_default_to_911_and_988():
    raw = yaml.safe_load(profile_text())
    del raw["emergency_number"], raw["crisis_line"]
    profile = parse_clinic(yaml.safe_dump(raw))
    assert (profile.emergency_number, profile.crisis_line) == ("911", "988")


def test_days_missing_from_opening_hours_are_closed():
    profile = parse_clinic(profile_text(opening_hours={"monday": "09:00-17:00"}))
    assert profile.opening_hours["monday"] == "09:00-17:00"
    assert profile.opening_hours["sunday"] == "closed"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"opening_hours": {"funday": "09:00-17:00"}}, "unknown weekday"),
        ({"opening_hours": {"monday": "9am-5pm"}}, "monday"),
        ({"opening_hours": {"monday": "18:00-08:00"}}, "opening before closing"),
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"appointment_minutes": 0}, "appointment_minutes"),
        ({"name": ""}, "name"),
    ],
)
def test_an_invalid_profile_is_refused_with_a_message_naming_the_field(changes, message):
    with pytest.raises(ClinicSettingsError, match=message):
        parse_clinic(profile_text(**changes))


def test_a_missing_field_is_named():
    raw = yaml.safe_load(profile_text())
    del raw["phone"]
    with pytest.raises(ClinicSettingsError, match="phone: field required"):
        parse_clinic(yaml.safe_dump(raw))


def test_text_that_is_not_a_mapping_is_refused():
    with pytest.raises(ClinicSettingsError, match="mapping"):
        parse_clinic("- just\n- a list\n")
    with pytest.raises(ClinicSettingsError, match="not valid YAML"):
        parse_clinic("name: [unclosed")


def test_a_missing_file_gives_a_clear_error(tmp_path: Path):
    with pytest.raises(ClinicSettingsError, match="cannot read the clinic profile"):
        load_clinic(tmp_path / "nope.yml")


def test_opening_hours_are_listed_in_weekday_order_as_written():
    profile = parse_clinic(
        profile_text(opening_hours={"sunday": "closed", "monday": "08:00-12:30"})
    )
    text = format_opening_hours(profile)
    assert text.startswith("Monday 08:00–12:30; Tuesday closed")
    assert text.endswith("Sunday closed")


def test_clinic_slots_fill_every_clinic_slot_of_the_domain(clinic: ClinicProfile, domain):
    slots = clinic_slots(clinic)
    assert set(slots) <= set(domain["slots"])
    assert all(isinstance(value, str) and value for value in slots.values())
    assert slots["clinic_name"] == clinic.name
    assert slots["appointment_minutes"] == str(clinic.appointment_minutes)
