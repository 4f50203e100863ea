"""Names, phone numbers and e-mail addresses are checked and normalised, or refused with a code."""

from __future__ import annotations

import pytest

from clinic.booking.email import normalise_email
from clinic.booking.name import normalise_name
from clinic.booking.phone import normalise_phone
from clinic.booking.reasons import Reason


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("(202) 555-0143", "US", "+12025550143"),
        ("202.555.0143", "US", "+12025550143"),
        ("  +1 212 555 1234 ", "US", "+12125551234"),
        ("2125551234", "US", "+12125551234"),
        ("+44 20 7946 0958", "US", "+442079460958"),  # a country code wins over the region
        ("011 44 20 7946 0958", "US", "+442079460958"),  # US international prefix
        ("020 7946 0958", "GB", "+442079460958"),  # national format of another region
        ("0049 30 12345678", "DE", "+493012345678"),
    ],
)
def test_a_valid_phone_number_becomes_e164(text: str, region: str, e164: str):
    result = normalise_phone(text, region)
    assert result.ok and result.e164 == e164 and result.reason is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "555-0143",  # too short: no area code
        "12345",
        "+1 555 123 4567",  # no such area code
        "1-800-FLOWERS",  # letters are refused, not turned into digits
        "call me on 202 555 0143",
        "202 555 0143 ext 12",
        "202/555/0143 👍",
        "+1 202 555 01434444",  # too long
    ],
)
def test_an_invalid_phone_number_is_refused_with_invalid_phone(text: str):
    result = normalise_phone(text, "US")
    assert not result.ok and result.e164 is None and result.reason is Reason.INVALID_PHONE


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("jane@example.com", "jane@example.com"),
        ("  Jane.Doe@Example.COM ", "Jane.Doe@example.com"),  # domain lower-cased, local kept
        ("jane+physio@mail.example.org", "jane+physio@mail.example.org"),
        ("josé@exämple.com", "josé@exämple.com"),  # international addresses
    ],
)
def test_a_valid_email_is_returned_in_normal_form(text: str, normalised: str):
    result = normalise_email(text)
    assert result.ok and result.email == normalised


@pytest.mark.parametrize(
    "text",
    [
        "",
        "jane",
        "jane@",
        "@example.com",
        "jane@example",  # no dot in the domain
        "jane@localhost",
        "jane@site.test",  # special-use domain
        "jane doe@example.com",
        "jane@@example.com",
        "jane@exa mple.com",
    ],
)
def test_an_invalid_email_is_refused_with_invalid_email(text: str):
    result = normalise_email(text)
    assert not result.ok and result.email is None and result.reason is Reason.INVALID_EMAIL


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("Jane Doe", "Jane Doe"),
        ("  mary-jane   o'neil  ", "mary-jane o'neil"),
        ("Seán O’Brien", "Seán O'Brien"),  # typographic apostrophe becomes '
        ("Zoe\u0308 Smith", "Zoë Smith"),  # decomposed accent composed (NFC)
        ("李小龍", "李小龍"),
        ("Владимир Иванов", "Владимир Иванов"),
        ("محمد علي", "محمد علي"),
        ("अनिल कुमार", "अनिल कुमार"),  # Devanagari vowel signs are combining marks
        ("Jo\tAnn\nLee", "Jo Ann Lee"),
        ("A", "A"),
        ("x" * 100, "x" * 100),
    ],
)
def test_a_name_of_letters_spaces_hyphens_and_apostrophes_is_kept_tidied(
    text: str, normalised: str
):
    result = normalise_name(text)
    assert result.ok and result.name == normalised


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Jane2",
        "R2-D2",
        "Jane_Doe",
        "Dr. Smith",
        "jane@example.com",
        "<script>",
        "Jane 😀",
        "--",
        "'",
        "x" * 101,
    ],
)
def test_a_name_with_digits_symbols_or_no_letter_is_refused_with_invalid_name(text: str):
    result = normalise_name(text)
    assert not result.ok and result.name is None and result.reason is Reason.INVALID_NAME


def test_reason_codes_are_plain_strings_for_slots():
    assert Reason.INVALID_PHONE == "invalid_phone"
    assert normalise_phone("12", "US").reason.value == "invalid_phone"
