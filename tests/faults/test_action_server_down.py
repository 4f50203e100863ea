"""The action server killed or stopped mid-conversation.

Rasa calls it through the action proxy (``clinic/action_proxy.py``), which answers for it
when the connection is refused: the apology (``utter_action_server_unavailable``, the
chat gateway's words with the clinic's phone), or for a form's validation the apology
and the answer's slot emptied again, so the form asks for it once more. Then
ActionServerUnavailablePolicy makes Rasa listen (instead of guessing on, to its
fallback). The events Rasa did keep (the conversation, the active form and its slots)
are in the SQL tracker store, so once the action server is back the next message
carries on from there.
"""

from __future__ import annotations

from bench.stack import kill_server, start_again, stop_server

from .conftest import CLINIC, FaultStack, apology, bot_text, fill_booking_form, summary

APOLOGY_DEADLINE_S = 3.0  # the visitor must hear back within this: the client's timeout


def test_a_killed_action_server_gets_the_apology_within_3_s_and_the_booking_resumes_with_its_slots(
    faults: FaultStack,
):
    visitor = faults.visitor()
    assert visitor.say("i'd like to book an appointment")[-1] == bot_text("utter_ask_patient_name")
    assert visitor.say("Ann Lee") == [bot_text("utter_ask_phone")]

    kill_server(faults.stack.actions)
    response = visitor.post("(202) 555-0123", timeout=APOLOGY_DEADLINE_S)
    assert response.status_code == 200
    said = [m["text"] for m in response.json()["messages"]]
    assert said == [apology(), bot_text("utter_ask_phone")]  # the number was not checked
    assert CLINIC.phone in apology()
    kept = faults.slots(visitor.sender)
    assert (kept["patient_name"], kept["requested_slot"]) == ("Ann Lee", "phone")

    faults.stack.actions = start_again(faults.stack.actions)
    reply = visitor.say("(202) 555-0123")[-1]
    assert reply == bot_text("utter_ask_email")  # the form goes on with the next question
    last = fill_booking_form(visitor, reply, preferred_start="next wednesday at 10am")
    assert last == summary(faults, visitor.sender)
    assert "Ann Lee" in last
    saved = visitor.say("yes")
    [booking] = faults.bookings(visitor.sender)
    assert (booking["patient_name"], booking["phone"]) == ("Ann Lee", "+12025550123")
    assert saved[0] == bot_text(
        "utter_booking_saved", patient_name="Ann Lee", booking_reference=booking["reference"]
    )


def test_a_stopped_action_server_gets_the_apology_within_3_s_and_answers_the_question_once_back(
    faults: FaultStack,
):
    visitor = faults.visitor()
    hours = bot_text("utter_clinic_hours")
    assert visitor.say("what are your opening hours?") == [hours]

    stop_server(faults.stack.actions)
    response = visitor.post("how much does a session cost?", timeout=APOLOGY_DEADLINE_S)
    assert response.status_code == 200
    assert [m["text"] for m in response.json()["messages"]] == [apology()]

    faults.stack.actions = start_again(faults.stack.actions)
    assert visitor.say("how much does a session cost?") == [bot_text("utter_clinic_prices")]


def test_a_conversation_begun_while_the_action_server_is_down_still_gives_the_emergency_number(
    faults: FaultStack,
):
    """Its action_session_start is lost, so the clinic facts come from ClinicFactsPolicy."""
    visitor = faults.visitor()
    stop_server(faults.stack.actions)
    urgent = visitor.say("i have crushing chest pain spreading to my left arm")
    assert urgent == [bot_text("utter_red_flag_emergency")]
    assert f"call {CLINIC.emergency_number} " in urgent[0]

    faults.stack.actions = start_again(faults.stack.actions)
    hours = visitor.say("what are your opening hours?")
    assert hours == [bot_text("utter_clinic_hours")]
    assert "None" not in hours[0]


def test_a_booking_asked_for_while_the_action_server_is_down_gets_the_apology_not_a_guess(
    faults: FaultStack,
):
    """A new conversation's session start and the booking's start both need the action
    server; Rasa once fell back to "Sorry, I didn't quite understand that" after them.
    The proxy starts the session itself and apologises for the booking's start, and
    Rasa listens after that."""
    visitor = faults.visitor()
    stop_server(faults.stack.actions)
    response = visitor.post("i'd like to book an appointment", timeout=APOLOGY_DEADLINE_S)
    assert response.status_code == 200
    assert [m["text"] for m in response.json()["messages"]] == [apology()]

    faults.stack.actions = start_again(faults.stack.actions)
    assert visitor.say("i'd like to book an appointment")[-1] == bot_text("utter_ask_patient_name")


def test_a_conversation_begun_while_the_proxy_is_down_gets_the_apology_then_its_answers(
    faults: FaultStack,
):
    """With the proxy itself gone (killed; supervisord restarts it within seconds), Rasa's
    call of action_session_start fails and none of its events are kept, so no rule
    follows the visitor's first message; ActionServerUnavailablePolicy answers it with
    the apology instead of "Sorry, I didn't quite understand that"."""
    assert faults.stack.proxy is not None
    visitor = faults.visitor()
    kill_server(faults.stack.proxy)
    response = visitor.post("what are your opening hours?", timeout=APOLOGY_DEADLINE_S)
    assert response.status_code == 200
    assert [m["text"] for m in response.json()["messages"]] == [apology()]

    faults.stack.proxy = start_again(faults.stack.proxy)
    assert visitor.say("what are your opening hours?") == [bot_text("utter_clinic_hours")]
