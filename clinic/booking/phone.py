"""Phone numbers as typed by a visitor, checked and turned into E.164."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from .reasons import Reason

# What people type around the digits; anything else (letters, "ext", emoji) is refused,
# so a vanity number such as 1-800-FLOWERS is not silently turned into digits.
_ALLOWED = re.compile(r"^[\d\s+\-().]+$")
_MIN_DIGITS = 7


@dataclass(frozen=True)
class PhoneResult:
    e164: str | None = None
    reason: Reason | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def normalise_phone(text: str, region: str) -> PhoneResult:
    """``"(202) 555-0143"`` in region ``"US"`` -> ``PhoneResult("+12025550143")``.

    ``region`` (clinic.yml ``phone_region``) applies to numbers typed without a
    country code; ``+44 ...`` or ``011 44 ...`` reach other countries.
    """
    text = (text or "").strip()
    if not _ALLOWED.match(text) or sum(char.isdigit() for char in text) < _MIN_DIGITS:
        return PhoneResult(reason=Reason.INVALID_PHONE)
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        return PhoneResult(reason=Reason.INVALID_PHONE)
    if not phonenumbers.is_valid_number(number):
        return PhoneResult(reason=Reason.INVALID_PHONE)
    return PhoneResult(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
