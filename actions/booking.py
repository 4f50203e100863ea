"""Booking and call-back requests: collected by forms, checked, saved once.

The checks are the pure helpers of ``clinic.booking``; this module maps their
refusal codes to responses and keeps the form going.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.store import session_factory
from actions.triage import clean_answer
from clinic.booking.answers import detect_correction, strip_lead_in
from clinic.booking.email import normalise_email
from clinic.booking.name import normalise_name
from clinic.booking.phone import normalise_phone
from clinic.booking.reasons import Reason
from clinic.booking.slot_answer import Kind, decide
from clinic.booking.up_front import given_up_front, time_phrase
from clinic.booking.when import check_slot, nearest_open_slots, parse_when
from clinic.db.repository import BookingRequest, BookingStoreError, iso_start, save_request
from clinic.db.repository import taken_counts as stored_counts
from clinic.settings import ClinicProfile, load_clinic

logger = logging.getLogger(__name__)

NO_EMAIL = "none"
YES = "yes"
BOOKING_SLOTS = (
    "patient_name",
    "phone",
    "email",
    "preferred_start",
    "preferred_start_text",
    "preferred_day",
    "visited_before",
    "pregnant",
    "blood_thinners",
    "needle_fear",
    "booking_confirmed",
    "booking_reference",
)
CALLBACK_SLOTS = ("callback_time", "booking_reference")
# Call-back slot <- the piece of a booking request given up front that fills it.
CALLBACK_UP_FRONT = {
    "patient_name": "patient_name",
    "phone": "phone",
    "callback_time": "preferred_start",
    "concern": "concern",
}
DAY_FORMAT = "%A %-d %B"
START_FORMAT = "%A %-d %B at %H:%M"

# The clock, replaceable in tests.
now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: E731


def show_start(start: datetime) -> str:
    return start.strftime(START_FORMAT)


def taken_counts(profile: ClinicProfile, today: date) -> Dict[datetime, int]:
    """Requests per start within the booking horizon; none known when the database fails."""
    try:
        last = today + timedelta(days=profile.booking_horizon_days + 1)
        return stored_counts(session_factory(), today, last)
    except BookingStoreError as exc:
        logger.warning("slot counts unavailable, offering times unchecked: %s", exc)
        return {}


def check_preferred_start(
    text: str, profile: ClinicProfile, current: datetime, day: date | None = None
) -> tuple[Dict[str, Any], str | None, Dict[str, str]]:
    """Slots to set, and the response (with its values) when the answer can't be taken."""
    result = parse_when(text, profile, current, day=day)
    if result.ok and result.start is not None:
        counts = taken_counts(profile, current.date())
        reason = check_slot(result.start, profile, current, counts)
        if reason is None:
            return (
                {
                    "preferred_start": iso_start(result.start),
                    "preferred_start_text": show_start(result.start),
                    "preferred_day": None,
                },
                None,
                {},
            )
        anchor = result.start if reason != Reason.PAST else current
        options = nearest_open_slots(anchor, profile, current, counts)
        values = {"booking_suggestions": "; ".join(show_start(o) for o in options)}
        return {"preferred_start": None}, f"utter_booking_time_{reason.value}", values
    slots: Dict[str, Any] = {"preferred_start": None}
    values: Dict[str, str] = {}
    if result.day is not None:
        slots["preferred_day"] = result.day.isoformat()
        values["preferred_day"] = result.day.strftime(DAY_FORMAT)
    return slots, f"utter_booking_time_{(result.reason or Reason.UNPARSEABLE).value}", values


def check_name(text: str) -> str | None:
    result = normalise_name(strip_lead_in(text))
    return result.name if result.ok else None


def name_answer(text: str, intent: str | None) -> tuple[str | None, str | None]:
    """The name in an answer, or the response that asks again: "yes", a greeting, a
    symptom or a question is no name (clinic.booking.slot_answer decides)."""
    decision = decide("patient_name", text, intent)
    if decision.kind is not Kind.ANSWER:
        shape = decision.reason == "shape"
        return None, "utter_booking_invalid_name" if shape else "utter_booking_not_a_name"
    name = check_name(decision.value or "")
    return name, None if name else "utter_booking_invalid_name"


def check_phone(text: str, profile: ClinicProfile) -> str | None:
    result = normalise_phone(strip_lead_in(text), profile.phone_region)
    return result.e164 if result.ok else None


def check_email(text: str) -> str | None:
    if text == NO_EMAIL:
        return NO_EMAIL
    result = normalise_email(strip_lead_in(text))
    return result.email if result.ok else None


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def preferred_day(tracker: Tracker) -> date | None:
    """The day already understood: a day said without a time, else the accepted start's."""
    try:
        return date.fromisoformat(tracker.get_slot("preferred_day") or "")
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(tracker.get_slot("preferred_start") or "").date()
    except ValueError:  # empty, or still the visitor's own words being validated
        return None


def skip_cleared(validate: Callable[..., Dict[str, Any]]) -> Callable[..., Dict[str, Any]]:
    """Slots cleared when a form starts are validated too: they pass silently."""

    def checked(self: Any, value: Any, *args: Any) -> Dict[str, Any]:
        if value is None:
            return {validate.__name__.removeprefix("validate_"): None}
        return validate(self, value, *args)

    checked.__name__ = validate.__name__
    return checked


class ContactValidation:
    """Name and phone checks shared by the booking and call-back forms."""

    @skip_cleared
    def validate_patient_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        name, response = name_answer(str(value or ""), latest_intent(tracker))
        if response:
            dispatcher.utter_message(response=response)
        return {"patient_name": name}

    @skip_cleared
    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        text = str(value or "")
        answer = decide("phone", text, latest_intent(tracker)).kind is Kind.ANSWER
        phone = check_phone(text, load_clinic()) if answer else None
        if phone is None:
            dispatcher.utter_message(response="utter_booking_invalid_phone")
        return {"phone": phone}


class ValidateBookingForm(ContactValidation, FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    @skip_cleared
    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        decision = decide("email", str(value or ""), latest_intent(tracker))
        email = check_email(decision.value or "") if decision.kind is Kind.ANSWER else None
        if email is None:
            dispatcher.utter_message(response="utter_booking_invalid_email")
        return {"email": email}

    @skip_cleared
    def validate_preferred_start(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        text = str(value or "")
        if decide("preferred_start", text, latest_intent(tracker)).kind is not Kind.ANSWER:
            dispatcher.utter_message(response="utter_booking_not_a_time")
            return {"preferred_start": None}
        slots, response, values = check_preferred_start(
            text, load_clinic(), now(), day=preferred_day(tracker)
        )
        if response:
            dispatcher.utter_message(response=response, **values)
        return slots

    @skip_cleared
    def validate_concern(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        # "yes", "ok" or "hello" is no concern: the form asks its question again.
        if decide("concern", str(value or ""), latest_intent(tracker)).kind is not Kind.ANSWER:
            return {"concern": None}
        return {"concern": clean_answer(value)}

    @skip_cleared
    def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if latest_intent(tracker) == "affirm":
            return {"booking_confirmed": YES}
        field, new_value = detect_correction(str(value or ""))
        if field is None:
            dispatcher.utter_message(response="utter_booking_what_to_change")
            return {"booking_confirmed": None}
        return {**self.corrected(field, new_value, tracker), "booking_confirmed": None}

    def corrected(self, field: str, value: str, tracker: Tracker) -> Dict[str, Any]:
        """The slots a correction changes; an unusable value empties the item to ask again."""
        profile = load_clinic()
        if field == "preferred_start":
            slots, response, _ = check_preferred_start(
                value, profile, now(), day=preferred_day(tracker)
            )
            return slots if response is None else {"preferred_start": None, "preferred_day": None}
        checks: Dict[str, Callable[[str], str | None]] = {
            "patient_name": check_name,
            "phone": lambda text: check_phone(text, profile),
            "email": check_email,
            "concern": clean_answer,
        }
        return {field: checks[field](value)}


class ValidateCallbackForm(ContactValidation, FormValidationAction):
    def name(self) -> str:
        return "validate_callback_form"

    @skip_cleared
    def validate_callback_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if decide("callback_time", str(value or ""), latest_intent(tracker)).kind is Kind.ANSWER:
            return {"callback_time": clean_answer(value, limit=100)}
        dispatcher.utter_message(response="utter_booking_not_a_time")
        return {"callback_time": None}


def said_up_front(texts: List[str], parsed_times_only: bool = True) -> Dict[str, str]:
    """What the messages that asked for a booking or a call-back already said (name, phone,
    email, time, concern; a later message's piece wins): the form validates it when it
    starts and asks only for the rest. A booking's time must be one the clinic's time
    parser reads; a call-back's is free text ("after 5"), so any words of time will do."""
    profile, current = load_clinic(), now()

    def names_a_time(text: str) -> bool:
        if not parsed_times_only:
            return True
        result = parse_when(text, profile, current)
        return any(part is not None for part in (result.start, result.day, result.time))

    found: Dict[str, str] = {}
    for text in texts:
        found.update(given_up_front(text, profile.phone_region, names_a_time))
    return found


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def earlier_user_text(tracker: Tracker) -> str:
    """The text of the user message before the latest one ("" when there is none)."""
    users = [event for event in tracker.events if event.get("event") == "user"]
    return str(users[-2].get("text") or "") if len(users) > 1 else ""


class ActionStartBooking(Action):
    """Starts a new request: fresh answers (the concern of the symptom guide stays)."""

    def name(self) -> str:
        return "action_start_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_book_appointment")
        return (
            [SlotSet("booking_attempt", uuid.uuid4().hex)]
            + [SlotSet(slot, None) for slot in BOOKING_SLOTS]
            + [
                SlotSet(slot, value)
                for slot, value in said_up_front([latest_text(tracker)]).items()
            ]
        )


class ActionStartCallback(Action):
    def name(self) -> str:
        return "action_start_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_callback_intro")
        # The request ("can someone ring me on 07700 900123 after 5? it's Ana") and the
        # "yes" to the offer ("yes please, I'm Ana") may already hold the answers.
        given = said_up_front(
            [earlier_user_text(tracker), latest_text(tracker)], parsed_times_only=False
        )
        kept = {slot: given[key] for slot, key in CALLBACK_UP_FRONT.items() if key in given}
        if "callback_time" in kept:  # the time words only, as staff will read them
            kept["callback_time"] = time_phrase(kept["callback_time"])
        return (
            [SlotSet("booking_attempt", uuid.uuid4().hex)]
            + [SlotSet(slot, None) for slot in CALLBACK_SLOTS]
            + [SlotSet(slot, value) for slot, value in kept.items()]
        )


def optional_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def booking_request(tracker: Tracker) -> BookingRequest:
    slot = tracker.get_slot
    visited = optional_bool(slot("visited_before"))
    email = slot("email")
    return BookingRequest(
        kind="booking",
        patient_name=slot("patient_name"),
        phone=slot("phone"),
        conversation_id=tracker.sender_id,
        email=None if email in (None, NO_EMAIL) else email,
        preferred_start=datetime.fromisoformat(slot("preferred_start")),
        concern=slot("concern"),
        new_patient=None if visited is None else not visited,
        pregnant=optional_bool(slot("pregnant")),
        blood_thinners=optional_bool(slot("blood_thinners")),
        needle_fear=optional_bool(slot("needle_fear")),
    )


def callback_request(tracker: Tracker) -> BookingRequest:
    return BookingRequest(
        kind="callback",
        patient_name=tracker.get_slot("patient_name"),
        phone=tracker.get_slot("phone"),
        conversation_id=tracker.sender_id,
        callback_time=tracker.get_slot("callback_time"),
        concern=tracker.get_slot("concern"),
    )


def save(
    dispatcher: CollectingDispatcher, tracker: Tracker, request: BookingRequest, saved: str
) -> List[EventType]:
    """Saves once per conversation and form run; tells the person either way. The
    replies' clinic facts come from slots (ClinicFactsPolicy fills any that are empty)."""
    key = f"{tracker.sender_id}:{tracker.get_slot('booking_attempt')}"
    try:
        reference, created = save_request(session_factory(), request, key)
    except BookingStoreError as exc:
        logger.error("a %s request could not be saved: %s", request.kind, type(exc).__name__)
        dispatcher.utter_message(response="utter_booking_save_failed")
        return []
    logger.info("%s request %s (%s)", request.kind, "saved" if created else "already saved", key)
    dispatcher.utter_message(response=saved, booking_reference=reference)
    return [SlotSet("booking_reference", reference)]


class ActionSubmitBooking(Action):
    def name(self) -> str:
        return "action_submit_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        return save(dispatcher, tracker, booking_request(tracker), "utter_booking_saved")


class ActionSubmitCallback(Action):
    def name(self) -> str:
        return "action_submit_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        return save(dispatcher, tracker, callback_request(tracker), "utter_callback_saved")
