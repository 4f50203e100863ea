"""Writes synthetic conversations into a tracker store, in Rasa's ``events`` schema, for the
staff console's benchmark: ``python scripts/seed_conversations.py var/bench-tracker.db``.

Each conversation has a session start, 1-5 user messages with intents and confidences,
bot answers and the odd slot; about 3 % carry a red flag, 8 % a fallback, 5 % a booking
reference. Never point it at a tracker store with real conversations.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER NOT NULL, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT,
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_events_sender_id ON events (sender_id);
"""
INTENTS = {
    "ask_safety": "is dry needling safe for me",
    "ask_soreness": "will I be sore after the session",
    "back_pain": "my lower back has hurt for weeks",
    "neck_pain": "stiff neck from working at a desk",
    "headache": "I get tension headaches every afternoon",
    "ask_clinic_info": "what are your opening hours",
    "book_appointment": "I'd like to book an appointment",
    "ask_what_is_dry_needling": "what is dry needling exactly",
}


def conversation(rng: random.Random, number: int, start: float) -> list[tuple]:
    sender = f"seed-{number:07d}"
    rows: list[tuple] = []
    at = start

    def add(type_name: str, data: dict, intent: str | None = None, action: str | None = None):
        nonlocal at
        at += rng.uniform(0.5, 40)
        rows.append((sender, type_name, at, intent, action, json.dumps({**data, "timestamp": at})))

    add(
        "action", {"event": "action", "name": "action_session_start"}, action="action_session_start"
    )
    add("session_started", {"event": "session_started"})
    red = rng.random() < 0.03
    fallback = rng.random() < 0.08
    for turn in range(rng.randint(1, 5)):
        intent, text = rng.choice(list(INTENTS.items()))
        confidence = rng.uniform(0.55, 1.0)
        entities = []
        if red and turn == 0:
            text += " and I have crushing chest pain"
            entities = [{"entity": "red_flag", "value": "cardiac", "start": 0, "end": 5}]
        if fallback and turn == 0:
            intent, confidence, text = "nlu_fallback", 0.3, f"blorp {number} zonk"
        parse = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities,
            "text": text,
        }
        add("user", {"event": "user", "text": f"{text} #{number}", "parse_data": parse}, intent)
        action = "action_default_fallback" if intent == "nlu_fallback" else f"utter_{intent}"
        add("action", {"event": "action", "name": action}, action=action)
        add("bot", {"event": "bot", "text": "An answer from the domain."})
    if rng.random() < 0.05:
        add(
            "slot",
            {"event": "slot", "name": "booking_reference", "value": f"RC-{number:06d}"},
            action="booking_reference",
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tracker_db", type=Path)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=180, help="spread over this many days")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.tracker_db.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with sqlite3.connect(args.tracker_db) as db:
        db.executescript(SCHEMA)
        now = time.time()
        starts = sorted(now - rng.uniform(0, args.days * 86_400) for _ in range(args.conversations))
        batch: list[tuple] = []
        for number, start in enumerate(starts):
            batch += conversation(rng, number, start)
            if len(batch) > 50_000:
                db.executemany(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name,"
                    " action_name, data) VALUES (?, ?, ?, ?, ?, ?)",
                    batch,
                )
                batch = []
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name,"
            " action_name, data) VALUES (?, ?, ?, ?, ?, ?)",
            batch,
        )
        total = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    print(
        f"{args.conversations} conversations, {total} events in {args.tracker_db} "
        f"({time.perf_counter() - began:.1f} s)"
    )


if __name__ == "__main__":
    main()
