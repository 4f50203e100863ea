"""``clinic.action_calls``: Rasa's call to the action server bounded by ``ACTION_TIMEOUT``.

A real HTTP port on loopback that accepts the connection and never answers (a hung
action server) makes Rasa's ``RemoteAction`` give up after the bound with the same
``RasaException`` as an action server that is down; after that failure the rest of the
message calls the action server no more. What Rasa answers then (nothing, so the gateway
apologises) is proven on the whole stack, hung and killed, in
``tests/faults/test_supervised_run.py`` and ``tests/faults/test_action_server_down.py``.
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
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from clinic.action_calls import (
    DEFAULT_ACTION_TIMEOUT_S,
    ActionTimeoutError,
    action_timeout_s,
    bound_action_calls,
    listen_after_action_server_failure,
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


@pytest.fixture
def listening(bounded, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wrappers installed for one test; Rasa's own methods back afterwards."""
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    monkeypatch.setattr(MessageProcessor, "_run_action", MessageProcessor._run_action)
    monkeypatch.setattr(MessageProcessor, "handle_message", MessageProcessor.handle_message)
    listen_after_action_server_failure()


def remote(port: int, name: str = "validate_booking_form") -> RemoteAction:
    return RemoteAction(name, EndpointConfig(url=f"http://127.0.0.1:{port}/webhook"))


async def run(action_: RemoteAction) -> None:
    await action_.run(
        CollectingOutputChannel(), None, DialogueStateTracker("hung", []), Domain.empty()
    )


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
    started = time.monotonic()
    with pytest.raises(RasaException, match="validate_booking_form"):
        await asyncio.wait_for(run(remote(hung_port)), timeout=30)  # unbounded: 300 s
    assert time.monotonic() - started < 10 * BOUND_S


async def test_after_one_failure_the_message_calls_the_action_server_no_more(
    listening, hung_port: int
):
    async def one_message() -> float:  # one asyncio task, as Rasa handles one message
        with pytest.raises(RasaException, match="Couldn't connect"):
            await run(remote(hung_port))
        started = time.monotonic()
        with pytest.raises(RasaException, match="'action_start_booking' not called"):
            await run(remote(hung_port, "action_start_booking"))
        return time.monotonic() - started

    assert await asyncio.wait_for(one_message(), timeout=30) < BOUND_S  # no second wait


async def test_a_new_message_calls_the_action_server_again(listening, hung_port: int):
    """Each message is its own asyncio task: a failure stays with the message it hit."""
    with pytest.raises(RasaException, match="Couldn't connect"):
        await asyncio.create_task(run(remote(hung_port)))
    with pytest.raises(RasaException, match="Couldn't connect"):  # called, and timed out
        await asyncio.create_task(run(remote(hung_port, "action_start_booking")))


def test_installing_twice_wraps_once(listening):
    wrapped = RemoteAction.run
    listen_after_action_server_failure()
    assert RemoteAction.run is wrapped
