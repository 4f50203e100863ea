"""A database path that cannot be written at start-up: the web app, the action server and
``make run`` (``scripts/run.sh``) stop at once with one line naming the path, no stack
trace, before anything serves.

The faults, each under a temporary folder:

- a regular file where the database's folder should be (works for any user);
- a read-only folder: ``chmod 0555`` for a normal user; as root (whom permissions do not
  stop) a read-only tmpfs mounted in a private user + mount namespace (``unshare``);
- a full disk: a 64 KiB tmpfs filled up, in the same kind of namespace.

The namespace cases are skipped only where ``unshare`` cannot create one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from ..servers import ROOT, free_port

RUN_TIMEOUT_S = 120  # a command still running then has started: the test fails


@dataclass(frozen=True)
class Command:
    name: str
    argv: List[str]
    prefix: str  # how its one-line error begins


def commands() -> Dict[str, Command]:
    return {
        "web app": Command("web app", [sys.executable, "-m", "clinic.web"], "the web app"),
        "action server": Command(
            "action server",
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(free_port())],
            "the action server",
        ),
        "make run": Command("make run", ["bash", "scripts/run.sh"], "the clinic assistant"),
    }


CASES = [
    ("web app", "DATABASE_URL"),
    ("action server", "DATABASE_URL"),
    ("make run", "DATABASE_URL"),
    ("make run", "TRACKER_STORE_URL"),
]


@dataclass(frozen=True)
class Fault:
    """A folder for the database that cannot be written, why (as the error says it), and
    how to run a command so that it meets the fault."""

    folder: Path
    reason: str
    wrap: Callable[[List[str]], List[str]] = lambda argv: argv


def namespace_wrapper(folder: Path, mount: str) -> Callable[[List[str]], List[str]]:
    """Runs a command in a private user + mount namespace after the shell command
    ``mount`` (the folder is its ``$0``): only that process tree sees the mount."""
    script = f'{mount} && exec "$@"'
    namespace = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script]
    return lambda argv: [*namespace, str(folder), *argv]


READ_ONLY_TMPFS = 'mount -t tmpfs -o ro tmpfs "$0"'
FULL_TMPFS = (
    'mount -t tmpfs -o size=64k tmpfs "$0"'
    ' && { dd if=/dev/zero of="$0/filler" bs=4k 2>/dev/null; true; }'
)


@pytest.fixture(scope="module")
def namespaces(tmp_path_factory: pytest.TempPathFactory) -> bool:
    """Whether this machine lets us mount a tmpfs in a private user + mount namespace."""
    if shutil.which("unshare") is None:
        return False
    folder = tmp_path_factory.mktemp("probe")
    probe = namespace_wrapper(folder, READ_ONLY_TMPFS)(["true"])
    return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0


def file_in_the_way(tmp_path: Path, namespaces: bool) -> Fault:
    blocker = tmp_path / "var"
    blocker.write_text("a file where the database folder should be\n")
    return Fault(blocker, f"{blocker} is a file, not a folder")


def read_only_folder(tmp_path: Path, namespaces: bool) -> Fault:
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return Fault(folder, "Permission denied")
    if not namespaces:
        pytest.skip("running as root and unshare cannot mount a read-only tmpfs here")
    return Fault(folder, "Read-only file system", namespace_wrapper(folder, READ_ONLY_TMPFS))


def full_disk(tmp_path: Path, namespaces: bool) -> Fault:
    if not namespaces:
        pytest.skip("unshare cannot mount a small tmpfs here")
    folder = tmp_path / "full"
    folder.mkdir()
    return Fault(folder, "No space left on device", namespace_wrapper(folder, FULL_TMPFS))


FAULTS = {
    "a file where the folder should be": file_in_the_way,
    "a read-only folder": read_only_folder,
    "a full disk": full_disk,
}


def run_to_the_end(argv: List[str], env: Dict[str, str]) -> subprocess.CompletedProcess:
    """Runs ``argv`` in its own process group; whatever it started is gone afterwards."""
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"{argv} was still running after {RUN_TIMEOUT_S} s:\n{out}\n{err}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


@pytest.mark.parametrize("fault_name", list(FAULTS))
@pytest.mark.parametrize(("command_name", "variable"), CASES)
def test_an_unwritable_database_stops_the_start_with_one_line_naming_the_path(
    command_name: str, variable: str, fault_name: str, tmp_path: Path, namespaces: bool
):
    fault = FAULTS[fault_name](tmp_path, namespaces)
    command = commands()[command_name]
    database = fault.folder / "clinic.db"
    good = tmp_path / "good"
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "SANIC_HOST": "127.0.0.1",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}/webhook",
        "LOCK_STORE_URL": "memory://",
        "DATABASE_URL": f"sqlite:///{good / 'clinic.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{good / 'tracker.db'}",
        variable: f"sqlite:///{database}",
    }
    result = run_to_the_end(fault.wrap(command.argv), env)

    assert result.returncode != 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"{command.prefix} cannot start: {variable} names {database}")
    assert error.endswith(fault.reason)
