"""Starts the real action server, its action proxy and Rasa server for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import requests

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def newest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError("no trained model in models/: run `make train` first")
    return models[-1]


def proxy_env(proxy_port: int, action_port: int) -> Dict[str, str]:
    """The environment of the action proxy between Rasa and the action server, as the
    Makefile sets it: Rasa's ``ACTION_ENDPOINT_URL`` points at the proxy."""
    return {
        "ACTION_PORT": str(action_port),
        "ACTION_PROXY_PORT": str(proxy_port),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{proxy_port}/webhook",
    }


# ``python -m clinic action-proxy`` as supervisord.conf starts it
ACTION_PROXY_COMMAND = [sys.executable, "-m", "clinic", "action-proxy"]


@dataclass
class Assistant:
    """A running Rasa server + action server pair (Rasa calls it through the action proxy)."""

    rasa_url: str
    action_url: str
    tracker_db: Path
    app_db: Path
    processes: List[subprocess.Popen]

    def send(self, sender: str, text: str, timeout: float = 30) -> requests.Response:
        return requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=timeout,
        )

    def replies(self, sender: str, text: str) -> List[dict]:
        response = self.send(sender, text)
        response.raise_for_status()
        return response.json()

    def reply_texts(self, sender: str, text: str) -> List[str]:
        return [message.get("text", "") for message in self.replies(sender, text)]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {deadline_s} s:\n{log.read_text()[-3000:]}")


def start_assistant(workdir: Path, extra_env: Dict[str, str] | None = None) -> Assistant:
    """Starts the three on free loopback ports, with their data under ``workdir``."""
    rasa_port, action_port, proxy_port = free_port(), free_port(), free_port()
    tracker_db = workdir / "tracker.db"
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "SANIC_HOST": "127.0.0.1",
        **proxy_env(proxy_port, action_port),
        "TRACKER_STORE_URL": f"sqlite:///{tracker_db}",
        "DATABASE_URL": f"sqlite:///{workdir / 'clinic.db'}",
        "LOCK_STORE_URL": "memory://",
        **(extra_env or {}),
    }
    action_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    proxy_log = workdir / "action-proxy.log"
    actions = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
        cwd=ROOT,
        env=env,
        stdout=action_log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proxy = subprocess.Popen(
        ACTION_PROXY_COMMAND,
        cwd=ROOT,
        env=env,
        stdout=proxy_log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    rasa = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clinic.rasa_main",  # `rasa` as scripts/run.sh starts it: without JAX in memory
            "run",
            "--interface",
            "127.0.0.1",
            "--port",
            str(rasa_port),
            "--model",
            str(newest_model()),
            "--credentials",
            "credentials.yml",
            "--endpoints",
            "endpoints.yml",
        ],
        cwd=ROOT,
        env=env,
        stdout=rasa_log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assistant = Assistant(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        tracker_db=tracker_db,
        app_db=workdir / "clinic.db",
        processes=[actions, proxy, rasa],
    )
    try:
        _wait_until_up(f"{assistant.action_url}/health", actions, action_log, 60)
        _wait_until_up(f"http://127.0.0.1:{proxy_port}/health", proxy, proxy_log, 60)
        _wait_until_up(f"{assistant.rasa_url}/", rasa, rasa_log, 240)
    except Exception:
        stop_assistant(assistant)
        raise
    return assistant


def stop_assistant(assistant: Assistant) -> None:
    for process in assistant.processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in assistant.processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class MakeRun:
    """``scripts/run.sh`` (what ``make run`` runs) as a test started it."""

    process: subprocess.Popen  # supervisord: run.sh execs it
    log: Path  # all the output: supervisord's lines and the four processes'
    env: Dict[str, str]
    web: str
    rasa: str
    actions: str
    proxy: str  # the action proxy Rasa calls the action server through


def start_make_run(workdir: Path, extra_env: Dict[str, str] | None = None) -> MakeRun:
    """``scripts/run.sh`` on free loopback ports with its databases and supervisord's
    socket under ``workdir``; returns once all four processes answer."""
    rasa_port, action_port, web_port, proxy_port = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONUNBUFFERED": "1",
        "RASA_PORT": str(rasa_port),
        **proxy_env(proxy_port, action_port),
        "TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
        "DATABASE_URL": f"sqlite:///{workdir / 'clinic.db'}",
        "LOCK_STORE_URL": "memory://",
        "HOST": "127.0.0.1",
        "PORT": str(web_port),
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "CLINIC_RUN_DIR": str(workdir / "run"),  # supervisord's socket, apart from a make run
        **(extra_env or {}),
    }
    for name in ("LOG_LEVEL", "ACTION_TIMEOUT", "RASA_TIMEOUT"):
        if name not in (extra_env or {}):
            env.pop(name, None)  # the defaults
    log = workdir / "make-run.log"
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),  # appended to, as supervisord appends to its /dev/stdout
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    run = MakeRun(
        process,
        log,
        env,
        web=f"http://127.0.0.1:{web_port}",
        rasa=env["RASA_URL"],
        actions=f"http://127.0.0.1:{action_port}",
        proxy=f"http://127.0.0.1:{proxy_port}",
    )
    try:
        _wait_until_up(f"{run.actions}/health", process, log, 120)
        _wait_until_up(f"{run.proxy}/health", process, log, 120)
        _wait_until_up(f"{run.web}/api/chat/config", process, log, 120)
        _wait_until_up(f"{run.rasa}/", process, log, 300)
    except Exception:
        stop_make_run(run)
        raise
    return run


def stop_make_run(run: MakeRun) -> None:
    """SIGTERM to supervisord, which stops all four; SIGKILL after a minute."""
    if run.process.poll() is None:
        os.killpg(run.process.pid, signal.SIGTERM)
    try:
        run.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(run.process.pid, signal.SIGKILL)
        run.process.wait()
