"""The clinic profile (``clinic.yml``), read and checked in one place.

Everything the assistant says about the clinic comes from this file. Loading is
explicit (``load_clinic``) and cached, so importing this module does no work.
"""

from __future__ import annotations

import os
import re
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Tuple

import yaml
from pydantic import BaseModel, Field, ValidationError, validator

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
CLOSED = "closed"


class ClinicSettingsError(ValueError):
    """clinic.yml is missing or does not describe a clinic."""


class ClinicProfile(BaseModel):
    """The fields of clinic.yml."""

    name: str = Field(..., min_length=1)
    phone: str = Field(..., min_length=3)
    phone_region: str = Field("US", min_length=2, max_length=2)
    email: str = Field(..., min_length=3)
    address: str = Field(..., min_length=1)
    timezone: str = Field(..., min_length=1)
    appointment_minutes: int = Field(..., gt=0, le=480)
    opening_hours: Dict[str, str]
    prices: str = ""
    insurance: str = ""
    parking: str = ""
    emergency_number: str = "911"
    crisis_line: str = "988"
    allowed_origins: List[str] = Field(default_factory=list)
    max_bookings_per_slot: int = Field(1, ge=1, le=50)
    booking_horizon_days: int = Field(90, ge=1, le=730)
    retention_days: int = Field(180, ge=1)
    # who is e-mailed about each new booking request, call-back request and red-flag
    # conversation (clinic.alerts); empty: no alerts
    staff_alerts: List[str] = Field(default_factory=list)

    @validator("opening_hours")
    def _check_hours(cls, hours: Dict[str, str]) -> Dict[str, str]:
        unknown = sorted(set(hours) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday(s) {unknown}; use {list(WEEKDAYS)}")
        for day, span in hours.items():
            span = str(span).strip().lower()
            if span == CLOSED:
                continue
            match = _HOURS.match(span.replace(" ", ""))
            if not match or match.group(1, 2) >= match.group(3, 4):
                raise ValueError(f"{day}: '{span}' is not 'HH:MM-HH:MM' (opening before closing)")
        return {day: str(hours.get(day, CLOSED)).strip() for day in WEEKDAYS}

    @validator("staff_alerts", pre=True)
    def _check_staff_alerts(cls, addresses: object) -> List[str]:
        from email_validator import EmailNotValidError, validate_email

        if addresses is None:
            return []
        if not isinstance(addresses, list):
            raise ValueError("must be a list of e-mail addresses (or [] for no alerts)")
        checked: List[str] = []
        for address in addresses:
            try:
                result = validate_email(str(address).strip(), check_deliverability=False)
            except EmailNotValidError as exc:
                raise ValueError(f"'{address}' is not an e-mail address: {exc}") from exc
            if result.normalized not in checked:
                checked.append(result.normalized)
        return checked

    @validator("timezone")
    def _check_timezone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone '{name}'") from exc
        return name


def opening_span(profile: ClinicProfile, weekday: int) -> Tuple[time, time] | None:
    """Opening and closing time on ``weekday`` (0 = Monday), or None when closed."""
    span = profile.opening_hours[WEEKDAYS[weekday]].replace(" ", "").lower()
    match = _HOURS.match(span)
    if span == CLOSED or not match:
        return None
    open_h, open_m, close_h, close_m = (int(part) for part in match.groups())
    return time(open_h, open_m), time(close_h, close_m)


def clinic_file() -> Path:
    """Where clinic.yml is: ``CLINIC_FILE`` or the project root."""
    return Path(os.environ.get("CLINIC_FILE", PROJECT_ROOT / "clinic.yml"))


def parse_clinic(text: str, source: str = "clinic.yml") -> ClinicProfile:
    """Parses and checks the YAML text of a clinic profile."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ClinicSettingsError(f"{source} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ClinicSettingsError(f"{source} must be a mapping of clinic fields")
    try:
        return ClinicProfile(**raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ClinicSettingsError(f"{source} is invalid: {problems}") from exc


@lru_cache(maxsize=1)
def load_clinic(path: Path | None = None) -> ClinicProfile:
    """Reads clinic.yml once per process."""
    path = path or clinic_file()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClinicSettingsError(f"cannot read the clinic profile {path}: {exc}") from exc
    return parse_clinic(text, str(path))


def format_opening_hours(profile: ClinicProfile) -> str:
    """One line per weekday, as clinic.yml states it: ``Monday 08:00-18:00``."""
    return "; ".join(
        f"{day.title()} {profile.opening_hours[day].replace('-', '–')}" for day in WEEKDAYS
    )


def clinic_slots(profile: ClinicProfile) -> Dict[str, str]:
    """The domain slots that carry clinic facts into responses."""
    return {
        "clinic_name": profile.name,
        "clinic_phone": profile.phone,
        "clinic_email": profile.email,
        "clinic_address": profile.address,
        "clinic_hours": format_opening_hours(profile),
        "clinic_prices": profile.prices,
        "clinic_insurance": profile.insurance,
        "clinic_parking": profile.parking,
        "appointment_minutes": str(profile.appointment_minutes),
        "booking_horizon_days": str(profile.booking_horizon_days),
        "emergency_number": profile.emergency_number,
        "crisis_line": profile.crisis_line,
    }
