"""The Rasa server killed and started again mid-conversation.

Rasa keeps every turn in the SQL tracker store, so the restarted server picks the
conversation up where it was (the active booking form and its slots), and the
widget's transcript, which the gateway reads from that store, is the same before,
during and after the restart.
"""

from __future__ import annotations

from bench.stack import kill_server, start_again

from .conftest import FaultStack, apology, bot_text, fill_booking_form, summary


def test_a_booking_continues_after_rasa_restarts_and_the_transcript_survives(faults: FaultStack):
    visitor = faults.visitor()
    visitor.say("is dry needling safe?")
    assert visitor.say("i'd like to book an appointment")[-1] == bot_text("utter_ask_patient_name")
    assert visitor.say("Cy Moreno") == [bot_text("utter_ask_phone")]
    before = visitor.history()
    assert [m["text"] for m in before if m["sender"] == "user"] == [
        "is dry needling safe?",
        "i'd like to book an appointment",
        "Cy Moreno",
    ]

    kill_server(faults.stack.rasa[0])
    down = visitor.post("(202) 555-0177")
    assert (down.status_code, down.json()["messages"][0]["text"]) == (503, apology())
    assert visitor.history() == before  # read from the tracker store, not from Rasa

    faults.stack.rasa[0] = start_again(faults.stack.rasa[0])
    assert visitor.history() == before
    reply = visitor.say("(202) 555-0177")[-1]
    assert reply == bot_text("utter_ask_email")  # the form goes on where it was
    assert faults.slots(visitor.sender)["patient_name"] == "Cy Moreno"
    last = fill_booking_form(
        visitor, reply, phone="(202) 555-0177", preferred_start="next friday at 9am"
    )
    assert last == summary(faults, visitor.sender)
    assert "Cy Moreno" in last
    saved = visitor.say("yes")
    [booking] = faults.bookings(visitor.sender)
    assert (booking["patient_name"], booking["phone"]) == ("Cy Moreno", "+12025550177")
    assert booking["reference"] in saved[0]
    after = visitor.history()
    assert after[: len(before)] == before
