"""Starts and stops the real processes the bench measures, on free loopback ports.

The action server, the action proxy Rasa calls it through, one or more Rasa servers
(REST channel) and the web app's chat gateway run as separate processes, like
``make run``; the port and start-up helpers
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

from tests.servers import ACTION_PROXY_COMMAND, ROOT, _wait_until_up, free_port, proxy_env


@dataclass
class Server:
    """One running process: its URL, start-up time and log."""

    name: str
    url: str
    process: subprocess.Popen
    log: Path
    startup_s: float = 0.0
    # how it was started, so that ``start_again`` can run it again on the same port
    cmd: List[str] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    health: str = "/"


@dataclass
class Stack:
    """The processes of one measured set-up."""

    workdir: Path
    env: Dict[str, str]
    actions: Server | None = None
    proxy: Server | None = None  # the action proxy: Rasa's ACTION_ENDPOINT_URL
    rasa: List[Server] = field(default_factory=list)
    web: Server | None = None

    @property
    def servers(self) -> List[Server]:
        return [s for s in [self.actions, self.proxy, *self.rasa, self.web] if s is not None]


def base_env(
    workdir: Path, action_port: int, proxy_port: int, extra: Dict[str, str] | None = None
) -> Dict[str, str]:
    """The environment ``make run`` gives the processes, with data under ``workdir``."""
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONUNBUFFERED": "1",
        "SANIC_HOST": "127.0.0.1",
        **proxy_env(proxy_port, action_port),
        "TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
        "DATABASE_URL": f"sqlite:///{workdir / 'clinic.db'}",
        "LOCK_STORE_URL": "memory://",
        "PYTHONPATH": str(ROOT),  # Rasa imports clinic.logs (logging.yml) before its path set-up
        **(extra or {}),
    }


def _spawn(
    name: str,
    cmd: List[str],
    env: Dict[str, str],
    log: Path,
    url: str,
    health: str = "/",
    *,
    log_mode: str = "w",
) -> Server:
    started = time.monotonic()
    process = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=log.open(log_mode),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(name=name, url=url, process=process, log=log, cmd=cmd, env=env, health=health)
    try:
        _wait_until_up(url + health, process, log, 300)
    except Exception:
        stop_server(server)
        raise
    server.startup_s = time.monotonic() - started
    return server


def start_actions(workdir: Path, port: int, env: Dict[str, str]) -> Server:
    cmd = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    cmd += ["--logging-config_file", str(ROOT / "logging.yml")]  # like scripts/run.sh
    return _spawn(
        "action server", cmd, env, workdir / "actions.log", f"http://127.0.0.1:{port}", "/health"
    )


def start_proxy(workdir: Path, port: int, env: Dict[str, str]) -> Server:
    """``python -m clinic action-proxy`` on ``port``: its /health is the action server's."""
    return _spawn(
        "action proxy",
        ACTION_PROXY_COMMAND,
        {**env, "ACTION_PROXY_PORT": str(port)},
        workdir / "action-proxy.log",
        f"http://127.0.0.1:{port}",
        "/health",
    )


def start_rasa(workdir: Path, model: Path, endpoints: Path, env: Dict[str, str]) -> Server:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "clinic.rasa_main",  # `rasa` as scripts/run.sh starts it: without JAX in memory
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
        "--logging-config-file",
        str(ROOT / "logging.yml"),
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


def start_gateway(workdir: Path, rasa_url: str, env: Dict[str, str]) -> Server:
    """The web app exactly as ``make run`` starts it (``python -m clinic.web``): the
    origins of clinic.yml and the rate limits of ``env`` (``CHAT_SESSION_LIMIT``,
    ``CHAT_ADDRESS_LIMIT``); its access log goes to ``workdir/gateway.log``."""
    port = free_port()
    web_env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "RASA_URL": rasa_url}
    cmd = [sys.executable, "-m", "clinic.web"]
    return _spawn(
        "gateway",
        cmd,
        web_env,
        workdir / "gateway.log",
        f"http://127.0.0.1:{port}",
        "/api/chat/config",
    )


def start_stack(
    workdir: Path,
    model: Path,
    *,
    rasa_processes: int = 1,
    web: bool = False,
    extra_env: Dict[str, str] | None = None,
) -> Stack:
    """An action server and its proxy, ``rasa_processes`` Rasa servers and optionally
    the web app."""
    workdir.mkdir(parents=True, exist_ok=True)
    action_port, proxy_port = free_port(), free_port()
    stack = Stack(workdir=workdir, env=base_env(workdir, action_port, proxy_port, extra_env))
    endpoints = ROOT / "endpoints.yml"
    try:
        stack.actions = start_actions(workdir, action_port, stack.env)
        stack.proxy = start_proxy(workdir, proxy_port, stack.env)
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


def kill_server(server: Server) -> None:
    """Kills the process at once (SIGKILL), as a crash or the OOM killer would."""
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()


def start_again(server: Server, env: Dict[str, str] | None = None) -> Server:
    """The same command on the same port (after ``stop_server`` or ``kill_server``), with
    ``env`` in place of the first start's environment when given; the log is appended to."""
    if server.process.poll() is None:
        stop_server(server)
    return _spawn(
        server.name,
        server.cmd,
        server.env if env is None else env,
        server.log,
        server.url,
        server.health,
        log_mode="a",
    )


def stop_stack(stack: Stack) -> None:
    for server in reversed(stack.servers):
        stop_server(server)
