"""``supervisord.conf`` as supervisord itself reads it: what ``make run`` promises.

The four processes restarted whatever their exit, with supervisord's backoff for one
that keeps failing at start-up, stopped as a group, and everything on ``make run``'s
output. The real thing (kills, restarts, Ctrl-C) is ``tests/faults/test_supervised_run.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServerOptions:
    monkeypatch.setenv("CLINIC_RUN_DIR", str(tmp_path))
    monkeypatch.setenv("RASA_PORT", "5105")
    monkeypatch.setenv("ACTION_PORT", "5155")
    read = ServerOptions()
    read.realize(args=["--configuration", str(ROOT / "supervisord.conf")])
    return read


def programs(options: ServerOptions) -> Dict[str, object]:
    return {p.name: p for g in options.process_group_configs for p in g.process_configs}


def test_make_run_supervises_the_action_server_its_proxy_rasa_and_the_web_app(options):
    found = programs(options)
    assert sorted(found) == ["actions", "proxy", "rasa", "web"]
    commands = {name: " ".join(p.command.split()) for name, p in found.items()}
    assert "-m rasa_sdk --actions actions --port 5155" in commands["actions"]
    assert "-m clinic.rasa_main run --interface 127.0.0.1 --port 5105" in commands["rasa"]
    assert commands["web"].endswith("-m clinic.web")
    assert commands["proxy"].endswith("-m clinic action-proxy")
    assert all(p.directory == str(ROOT) for p in found.values())
    assert found["actions"].environment == {"SANIC_HOST": "127.0.0.1"}


def test_each_process_is_restarted_whatever_its_exit_with_backoff_at_start_up(options):
    for process in programs(options).values():
        assert process.autostart and process.autorestart is RestartUnconditionally
        assert process.startsecs <= 5  # dying sooner is a failed start: backoff
        assert process.startretries >= 10
        assert process.stopasgroup and process.killasgroup


def test_everything_goes_to_make_runs_output_once(options, tmp_path: Path):
    assert options.nodaemon and options.silent and options.logfile == "/dev/stdout"
    for process in programs(options).values():
        assert process.stdout_logfile == "/dev/stdout" and process.redirect_stderr
    assert options.pidfile == str(tmp_path / "supervisord.pid")  # CLINIC_RUN_DIR


def test_run_sh_checks_the_databases_then_hands_over_to_supervisord():
    script = (ROOT / "scripts" / "run.sh").read_text()
    checks = script.index("python -m clinic.db.engine"), script.index("python -m clinic.db.migrate")
    handover = script.index(
        "exec .venv/bin/python -m supervisor.supervisord"
        " --nodaemon --configuration supervisord.conf"
    )
    assert max(checks) < handover
