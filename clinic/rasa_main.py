"""``python -m clinic.rasa_main ARGS``: the ``rasa ARGS`` command without JAX in memory,
and with its calls to the action server bounded by ``ACTION_TIMEOUT``.

TensorFlow 2.12 requires ``jax`` (so it is installed) but imports it in one place only,
``tensorflow/lite/python/util.py``, inside ``try: from jax import ... except ImportError``,
for converting JAX functions to TensorFlow Lite. Rasa never does that, yet the import put
about 80 MB of JAX and jaxlib into every Rasa process. ``sys.modules["jax"] = None`` makes
that import raise ``ImportError`` (Python's documented way to block a module), so
TensorFlow takes its own no-JAX branch. Nothing else here imports JAX.

The action call: Rasa 3.6 has no setting for how long it waits for the action server.
``RemoteAction.run`` passes ``timeout=DEFAULT_REQUEST_TIMEOUT`` (300 s, a global of
``rasa.core.actions.action``) to aiohttp, and ``endpoints.yml``'s ``action_endpoint`` keys
beyond ``url``, ``headers``, ``token``... are kept but never used. An action server that
is alive but does not answer therefore held the conversation (and its lock) for five
minutes. ``bound_action_calls`` puts an ``aiohttp.ClientTimeout`` there instead: connecting
and each wait for data give up after ``ACTION_TIMEOUT`` seconds (default 4) with aiohttp's
``ServerTimeoutError``, a ``ClientConnectionError``, so Rasa takes the path it already
takes for an action server that is down: it logs the failure, keeps the conversation's
events and answers without the action's messages; the chat gateway then apologises.
"""

from __future__ import annotations

import os
import sys

DEFAULT_ACTION_TIMEOUT_S = 4.0


class ActionTimeoutError(ValueError):
    """``ACTION_TIMEOUT`` is not a number of seconds greater than 0."""


def action_timeout_s(environ: dict[str, str] | None = None) -> float:
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


def main() -> None:
    try:
        timeout_s = action_timeout_s()
    except ActionTimeoutError as exc:
        sys.exit(f"the Rasa server cannot start: {exc}")
    sys.modules["jax"] = None  # type: ignore[assignment]
    bound_action_calls(timeout_s)
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
