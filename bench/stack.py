"""Starts and stops the real processes the bench measures, on free loopback ports.

The action server, one or more Rasa servers (REST channel) and the web app's chat
gateway run as separate processes, like ``make run``; the port and start-up helpers
are the end-to-end tests' (``tests/servers.py``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from tests.servers import ROOT, VENV_BIN, _wait_until_up, free_port


@dataclass
class Server:
    """One running process: its URL, start-up time and log."""

    name: str
    url: str
    process: subprocess.Popen
    log: Path
    startup_s: float = 0.0


@dataclass
class Stack:
    """The processes of one measured set-up."""

    workdir: Path
    env: Dict[str, str]
    actions: Server | None = None
    rasa: List[Server] = field(default_factory=list)
    web: Server | None = None

    @property
    def servers(self) -> List[Server]:
        return [s for s in [self.actions, *self.rasa, self.web] if s is not None]


def base_env(
    workdir: Path, action_port: int, extra: Dict[str, str] | None = None
) -> Dict[str, str]:
    """The environment ``make run`` gives the processes, with data under ``workdir``."""
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONUNBUFFERED": "1",
        "SANIC_HOST": "127.0.0.1",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
        "DATABASE_URL": f"sqlite:///{workdir / 'clinic.db'}",
        "LOCK_STORE_URL": "memory://",
        **(extra or {}),
    }


def _spawn(
    name: str, cmd: List[str], env: Dict[str, str], log: Path, url: str, health: str = "/"
) -> Server:
    started = time.monotonic()
    process = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(name=name, url=url, process=process, log=log)
    try:
        _wait_until_up(url + health, process, log, 300)
    except Exception:
        stop_server(server)
        raise
    server.startup_s = time.monotonic() - started
    return server


def start_actions(workdir: Path, port: int, env: Dict[str, str]) -> Server:
    cmd = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    return _spawn(
        "action server", cmd, env, workdir / "actions.log", f"http://127.0.0.1:{port}", "/health"
    )


def start_rasa(workdir: Path, model: Path, endpoints: Path, env: Dict[str, str]) -> Server:
    port = free_port()
    cmd = [
        str(VENV_BIN / "rasa"),
        "run",
        "--interface",
        "127.0.0.1",
        "--port",
        str(port),
        "--model",
        str(model),
        "--credentials",
        str(ROOT / "credentials.yml"),
        "--endpoints",
        str(endpoints),
    ]
    return _spawn(
        f"rasa server :{port}", cmd, env, workdir / f"rasa-{port}.log", f"http://127.0.0.1:{port}"
    )


def start_web(workdir: Path, rasa_url: str, env: Dict[str, str]) -> Server:
    """The web app (``clinic.web.create_app``) in its own process, see ``bench/webapp.py``."""
    port = free_port()
    web_env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "RASA_URL": rasa_url}
    cmd = [sys.executable, "-m", "bench.webapp"]
    return _spawn(
        "web app", cmd, web_env, workdir / "web.log", f"http://127.0.0.1:{port}", "/api/chat/config"
    )


def start_stack(
    workdir: Path,
    model: Path,
    *,
    rasa_processes: int = 1,
    web: bool = False,
    extra_env: Dict[str, str] | None = None,
) -> Stack:
    """An action server, ``rasa_processes`` Rasa servers and optionally the web app."""
    workdir.mkdir(parents=True, exist_ok=True)
    action_port = free_port()
    stack = Stack(workdir=workdir, env=base_env(workdir, action_port, extra_env))
    endpoints = ROOT / "endpoints.yml"
    try:
        stack.actions = start_actions(workdir, action_port, stack.env)
        for _ in range(rasa_processes):
            stack.rasa.append(start_rasa(workdir, model, endpoints, stack.env))
        if web:
            stack.web = start_web(workdir, stack.rasa[0].url, stack.env)
    except Exception:
        stop_stack(stack)
        raise
    return stack


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


def stop_stack(stack: Stack) -> None:
    for server in reversed(stack.servers):
        stop_server(server)
