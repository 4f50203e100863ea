"""``clinic.rasa_main``: Rasa's call to the action server bounded by ``ACTION_TIMEOUT``.

A real HTTP port on loopback that accepts the connection and never answers (a hung
action server) makes Rasa's ``RemoteAction`` give up after the bound with the same
``RasaException`` as an action server that is down, which Rasa's processor already
turns into an answer without the action (and the gateway into its apology). The whole
stack with a hung action server is in ``tests/faults/test_supervised_run.py``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Iterator

import aiohttp
import pytest
from rasa.core.actions import action
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from clinic.rasa_main import (
    DEFAULT_ACTION_TIMEOUT_S,
    ActionTimeoutError,
    action_timeout_s,
    bound_action_calls,
)

BOUND_S = 1.0


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A loopback port whose connections are accepted by the kernel and never answered."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@pytest.fixture
def bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(action, "DEFAULT_REQUEST_TIMEOUT", action.DEFAULT_REQUEST_TIMEOUT)
    bound_action_calls(BOUND_S)


def test_action_timeout_defaults_to_4_s_and_reads_the_environment():
    assert action_timeout_s({}) == DEFAULT_ACTION_TIMEOUT_S == 4.0
    assert action_timeout_s({"ACTION_TIMEOUT": " 2.5 "}) == 2.5


@pytest.mark.parametrize("raw", ["soon", "0", "-1", "inf", "nan"])
def test_a_wrong_action_timeout_is_refused_with_its_name(raw: str):
    with pytest.raises(ActionTimeoutError, match="ACTION_TIMEOUT"):
        action_timeout_s({"ACTION_TIMEOUT": raw})


def test_rasa_still_has_the_timeout_the_bound_replaces():
    """A Rasa upgrade that drops or renames it must fail here, not silently wait 300 s."""
    assert action.DEFAULT_REQUEST_TIMEOUT == 300


def test_the_bound_waits_for_silence_not_for_the_whole_answer(bounded):
    timeout = action.DEFAULT_REQUEST_TIMEOUT
    assert isinstance(timeout, aiohttp.ClientTimeout)
    assert (timeout.total, timeout.sock_connect, timeout.sock_read) == (None, BOUND_S, BOUND_S)


async def test_a_hung_action_server_fails_the_action_after_the_bound(bounded, hung_port: int):
    remote = RemoteAction(
        "validate_booking_form", EndpointConfig(url=f"http://127.0.0.1:{hung_port}/webhook")
    )
    call = remote.run(
        CollectingOutputChannel(), None, DialogueStateTracker("hung", []), Domain.empty()
    )
    started = time.monotonic()
    with pytest.raises(RasaException, match="validate_booking_form"):
        await asyncio.wait_for(call, timeout=30)  # unbounded, Rasa would wait 300 s
    assert time.monotonic() - started < 10 * BOUND_S
