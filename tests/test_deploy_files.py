"""deploy/: the systemd units, their environment file and the Caddyfile, read as files.

Each unit runs what supervisord.conf runs under ``make run`` (same command, same install
directory), every file a unit names is in the repository, the environment example sets
every variable the README's Configuration table documents, and Caddy proxies to the web
app's default address.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from supervisor.options import ServerOptions

from clinic import cli

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
INSTALL_DIR = "/opt/clinic"
SERVICES = {  # unit -> supervisord.conf's program
    "clinic-actions.service": "actions",
    "clinic-proxy.service": "proxy",
    "clinic-rasa.service": "rasa",
    "clinic-web.service": "web",
}
ENV_FILE = "/etc/clinic/clinic.env"  # installed from deploy/clinic.env.example


def read_unit(path: Path) -> Dict[str, List[Tuple[str, str]]]:
    """Sections of a systemd unit: [(key, value)] in order (keys may repeat)."""
    sections: Dict[str, List[Tuple[str, str]]] = {}
    current: List[Tuple[str, str]] = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, equals, value = line.partition("=")
        assert equals, f"{path.name}: not key=value: {raw!r}"
        current.append((key.strip(), value.strip()))
    return sections


def values(unit: Dict[str, List[Tuple[str, str]]], section: str, key: str) -> List[str]:
    return [value for k, value in unit.get(section, []) if k == key]


def service(name: str) -> Dict[str, List[Tuple[str, str]]]:
    return read_unit(DEPLOY / "systemd" / name)


def env_example() -> Dict[str, str]:
    found = {}
    for line in (DEPLOY / "clinic.env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match[1]] = match[2]
    return found


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    """supervisord.conf's commands with the environment written as ${NAME}."""
    import os

    names = ("CLINIC_RUN_DIR", "RASA_PORT", "ACTION_PORT")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["CLINIC_RUN_DIR"] = str(tmp_path_factory.mktemp("run"))
    os.environ["RASA_PORT"], os.environ["ACTION_PORT"] = "${RASA_PORT}", "${ACTION_PORT}"
    try:
        options = ServerOptions()
        options.realize(args=["--configuration", str(ROOT / "supervisord.conf")])
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return {
        p.name: " ".join(p.command.split()).replace(str(ROOT), INSTALL_DIR)
        for group in options.process_group_configs
        for p in group.process_configs
    }


@pytest.mark.parametrize("unit", sorted(SERVICES))
def test_each_unit_runs_the_command_make_run_runs_from_the_install_dir(unit, supervised):
    found = service(unit)
    (exec_start,) = values(found, "Service", "ExecStart")
    assert " ".join(exec_start.split()) == supervised[SERVICES[unit]]
    assert values(found, "Service", "WorkingDirectory") == [INSTALL_DIR]
    assert exec_start.startswith(f"{INSTALL_DIR}/.venv/bin/python -m ")


def test_the_units_cover_every_process_make_run_supervises(supervised):
    assert sorted(SERVICES.values()) == sorted(supervised)
    target = read_unit(DEPLOY / "systemd" / "clinic.target")
    (wants,) = values(target, "Unit", "Wants")
    assert sorted(wants.split()) == sorted(SERVICES)


def test_the_web_unit_first_checks_and_migrates_the_databases_as_run_sh_does():
    pre = values(service("clinic-web.service"), "Service", "ExecStartPre")
    assert pre == [
        f"{INSTALL_DIR}/.venv/bin/python -m clinic.db.engine",
        f"{INSTALL_DIR}/.venv/bin/python -m clinic.db.migrate",
    ]
    run_sh = (ROOT / "scripts" / "run.sh").read_text()
    assert ".venv/bin/python -m clinic.db.engine" in run_sh
    assert ".venv/bin/python -m clinic.db.migrate" in run_sh


def _module_exists(module: str) -> bool:
    if module == "rasa_sdk":  # installed in .venv, not in the repository
        import importlib.util

        return importlib.util.find_spec(module) is not None
    path = ROOT / Path(*module.split("."))
    return (path.with_suffix(".py")).is_file() or (path / "__main__.py").is_file()


@pytest.mark.parametrize("unit", sorted(SERVICES))
def test_every_module_subcommand_and_file_a_unit_names_exists(unit):
    found = service(unit)
    commands = values(found, "Service", "ExecStart") + values(found, "Service", "ExecStartPre")
    subcommands = {
        name
        for action in cli.parser()._actions  # noqa: SLF001
        if isinstance(action, argparse._SubParsersAction)  # noqa: SLF001
        for name in action.choices
    }
    for command in commands:
        words = shlex.split(command)
        assert words[1] == "-m" and _module_exists(words[2]), command
        if words[2] == "clinic":
            assert words[3] in subcommands, command
        for word in words[3:]:
            if re.fullmatch(r"[\w./-]+\.(yml|yaml)|actions", word):
                assert (ROOT / word).exists(), f"{unit}: {word} is not in the repository"
    assert values(found, "Service", "EnvironmentFile") == [ENV_FILE]
    for path in values(found, "Service", "ReadWritePaths")[0].split():
        assert path.startswith(f"{INSTALL_DIR}/")
        relative = path.removeprefix(f"{INSTALL_DIR}/")
        assert relative in ("var", "models")


@pytest.mark.parametrize("unit", sorted(SERVICES))
def test_each_unit_restarts_on_failure_as_its_own_user_with_hardening(unit):
    settings = dict(service(unit)["Service"])
    assert settings["Restart"] == "on-failure"
    assert 0 < float(settings["RestartSec"]) <= 5
    assert settings["User"] == "clinic" and settings["User"] != "root"
    assert settings["NoNewPrivileges"] == "true"
    assert settings["ProtectSystem"] == "strict"
    assert settings["PrivateTmp"] == "true"
    assert sorted(settings["ReadWritePaths"].split()) == [
        f"{INSTALL_DIR}/models",
        f"{INSTALL_DIR}/var",
    ]


def readme_configuration_variables() -> List[str]:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: List[str] = []
    for line in table.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names += re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell)
    return names


def test_the_env_example_sets_every_variable_the_readme_documents():
    documented = readme_configuration_variables()
    assert len(documented) >= 20  # the table was found
    missing = sorted(set(documented) - set(env_example()))
    assert missing == []


def test_the_env_example_uses_postgresql_and_redis_with_loopback_services():
    env = env_example()
    assert env["DATABASE_URL"].startswith("postgresql://")
    assert env["TRACKER_STORE_URL"].startswith("postgresql://")
    assert env["LOCK_STORE_URL"].startswith("redis://")
    assert env["CLINIC_ENV"] == "production"
    assert len(env["STAFF_SECRET_KEY"]) >= 32
    assert env["HOST"] == "127.0.0.1"
    for port in ("RASA_PORT", "ACTION_PORT", "ACTION_PROXY_PORT"):
        assert env[port] in env["RASA_URL"] + env["ACTION_SERVER_URL"] + env["ACTION_ENDPOINT_URL"]


def test_the_caddyfile_proxies_the_site_to_the_web_apps_default_address():
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    lines = [line.split("#")[0].strip() for line in caddyfile.splitlines()]
    proxies = [line.split()[1:] for line in lines if line.startswith("reverse_proxy")]
    from clinic.web.settings import WebSettings

    default = f"{WebSettings.host}:{WebSettings.port}"
    assert default == "127.0.0.1:8000"
    assert proxies == [[default]]
    assert env_example()["HOST"] + ":" + env_example()["PORT"] == default


def test_the_nginx_alternative_proxies_to_the_web_app_and_tells_it_the_scheme():
    lines = [
        line.split("#")[0].strip() for line in (DEPLOY / "nginx.conf").read_text().splitlines()
    ]
    assert "proxy_pass http://127.0.0.1:8000;" in lines
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in lines
    assert "return 301 https://$host$request_uri;" in lines  # plain http only redirects
