"""How the Rasa server calls the action server: bounded in time, and silent when it fails.

``install()`` is called by ``clinic/rasa_main.py`` (the ``rasa`` command ``make run``
starts) before Rasa is imported for use. Rasa 3.6 offers no setting for either part:

**The bound.** ``RemoteAction.run`` passes ``timeout=DEFAULT_REQUEST_TIMEOUT`` (300 s, a
global of ``rasa.core.actions.action``) to aiohttp, and ``endpoints.yml``'s
``action_endpoint`` keys beyond ``url``, ``headers``, ``token``... are kept but never
used. An action server that is alive but does not answer held the conversation (and its
lock) for five minutes. ``bound_action_calls`` puts an ``aiohttp.ClientTimeout`` there:
connecting and each wait for data give up after ``ACTION_TIMEOUT`` seconds (default 4)
with aiohttp's ``ServerTimeoutError``, a ``ClientConnectionError``, which Rasa turns into
a ``RasaException`` as it does for an action server that is down.

**After a failure, listen.** Rasa logs the failed action with none of its events and asks
the policies for the next action. For an action that starts something (a booking, the
symptom guide) no rule follows an action without its events; and a new conversation whose
``action_session_start`` failed has no ``action_listen`` before the visitor's first
message, which no rule expects either. Either way the policies fell back to "Sorry, I
didn't quite understand that": a visitor with the action server down heard that they were
not understood instead of the apology. Now, once a call to the action server has failed
(refused, timed out, an HTTP error; not a form's rejection of a slot, which is an answer),
the rest of that message makes no further call (each would wait ``ACTION_TIMEOUT`` again)
and, after the failed action, Rasa listens (after a failed ``action_session_start``, it
logs the ``action_listen`` the session start ends with, then reads the message as usual).
The answer then holds only what was said before the failure (often nothing, and the chat
gateway answers with its apology and the clinic's phone number); responses that need no
action server, the urgent replies to warning signs included, still come. The next
message, once the action server answers again, goes on from the stored conversation.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any, Mapping

DEFAULT_ACTION_TIMEOUT_S = 4.0

# Set by a call that failed, for the rest of the message being handled (one asyncio task).
_failed_this_message: ContextVar[bool] = ContextVar("action_server_failed", default=False)


class ActionTimeoutError(ValueError):
    """``ACTION_TIMEOUT`` is not a number of seconds greater than 0."""


def action_timeout_s(environ: Mapping[str, str] | None = None) -> float:
    """``ACTION_TIMEOUT`` in seconds (default 4)."""
    raw = (os.environ if environ is None else environ).get("ACTION_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_ACTION_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        raise ActionTimeoutError(f"ACTION_TIMEOUT={raw!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):
        raise ActionTimeoutError(f"ACTION_TIMEOUT={raw!r} must be greater than 0")
    return seconds


def bound_action_calls(seconds: float) -> None:
    """Every call from Rasa to the action server gives up after ``seconds`` of silence."""
    import aiohttp
    from rasa.core.actions import action

    if not hasattr(action, "DEFAULT_REQUEST_TIMEOUT"):  # a Rasa upgrade moved it
        raise RuntimeError("rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT is gone")
    action.DEFAULT_REQUEST_TIMEOUT = aiohttp.ClientTimeout(  # type: ignore[assignment]
        total=None, sock_connect=seconds, sock_read=seconds
    )


def listen_after_action_server_failure() -> None:
    """After a failed call to the action server, the message's handling ends by listening."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
    from rasa.shared.exceptions import RasaException

    if getattr(RemoteAction.run, "_clinic_wrapped", False):
        return
    remote_run = RemoteAction.run
    run_action = MessageProcessor._run_action
    handle_message = MessageProcessor.handle_message

    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _failed_this_message.get():
            raise RasaException(
                f"'{self.name()}' not called: the action server failed for this message"
            )
        try:
            return await remote_run(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise  # a form's answer that a slot is not filled: the server did answer
        except RasaException:
            _failed_this_message.set(True)
            raise

    async def _run_action(
        self: Any, action: Any, tracker: Any, output_channel: Any, nlg: Any, prediction: Any
    ) -> bool:
        predict_another = await run_action(self, action, tracker, output_channel, nlg, prediction)
        session_start = action.name() == ACTION_SESSION_START_NAME
        if not ((predict_another or session_start) and _failed_this_message.get()):
            return predict_another
        listen = self._get_action(ACTION_LISTEN_NAME)
        listening = PolicyPrediction.for_action_name(self.domain, ACTION_LISTEN_NAME)
        return await run_action(self, listen, tracker, output_channel, nlg, listening)

    async def handle_one_message(self: Any, message: Any) -> Any:
        token = _failed_this_message.set(False)
        try:
            return await handle_message(self, message)
        finally:
            _failed_this_message.reset(token)

    run._clinic_wrapped = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]
    MessageProcessor._run_action = _run_action  # type: ignore[method-assign]
    MessageProcessor.handle_message = handle_one_message  # type: ignore[method-assign]


def install(environ: Mapping[str, str] | None = None) -> None:
    """Both: the bound from ``ACTION_TIMEOUT`` (``ActionTimeoutError`` when wrong) and
    listening after a failure."""
    bound_action_calls(action_timeout_s(environ))
    listen_after_action_server_failure()
