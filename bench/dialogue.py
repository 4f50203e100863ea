"""Off-topic rejection through the real Rasa server: what the assistant actually did,
read back from its tracker store (SQLite, one conversation per message)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

import httpx

from .nlu import REJECT_ACTIONS, REJECT_INTENTS

SKIP_ACTIONS = {"action_listen", "action_session_start", None}


async def send_each_as_new_conversation(
    rasa_url: str, messages: List[str], prefix: str, concurrency: int = 4
) -> int:
    """Sends every message as the first message of its own conversation; the errors."""
    semaphore = asyncio.Semaphore(concurrency)
    errors = 0

    async def one(client: httpx.AsyncClient, index: int, text: str) -> None:
        nonlocal errors
        async with semaphore:
            try:
                response = await client.post(
                    f"{rasa_url}/webhooks/rest/webhook",
                    json={"sender": f"{prefix}-{index}", "message": text},
                )
                errors += response.status_code != 200
            except httpx.HTTPError:
                errors += 1

    async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
        await asyncio.gather(*(one(client, i, text) for i, text in enumerate(messages)))
    return errors


def turn_outcomes(tracker_db: Path, prefix: str, count: int) -> List[Dict[str, Any]]:
    """For each conversation: the user's intent and the actions that answered it."""
    outcomes = []
    with sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True) as db:
        for index in range(count):
            rows = db.execute(
                "SELECT type_name, intent_name, action_name FROM events "
                "WHERE sender_id = ? ORDER BY id",
                (f"{prefix}-{index}",),
            ).fetchall()
            intent, actions, seen_user = None, [], False
            for type_name, intent_name, action_name in rows:
                if type_name == "user":
                    intent, seen_user = intent_name, True
                elif seen_user and type_name == "action" and action_name not in SKIP_ACTIONS:
                    actions.append(action_name)
            outcomes.append({"intent": intent, "actions": actions})
    return outcomes


def rejection_summary(outcomes: List[Dict[str, Any]], errors: int) -> Dict[str, Any]:
    rejected = [
        o
        for o in outcomes
        if o["intent"] in REJECT_INTENTS or any(a in REJECT_ACTIONS for a in o["actions"])
    ]
    accepted = [o for o in outcomes if o not in rejected]
    return {
        "messages": len(outcomes),
        "rejected": len(rejected),
        "rate": round(len(rejected) / len(outcomes), 4) if outcomes else 0.0,
        "errors": errors,
        "urgent_replies": sum(
            any(a.startswith("utter_red_flag") for a in o["actions"]) for o in outcomes
        ),
        "answered_as": dict(Counter(str(o["intent"]) for o in accepted).most_common(8)),
    }
