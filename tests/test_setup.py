"""The set-up finds a Python 3.10 interpreter or says what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "find-python310.sh"


def run_finder(tmp_path: Path, python310: str) -> subprocess.CompletedProcess:
    # No pyenv, no python3.10 on PATH, an empty home: only PYTHON310 can answer.
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON310": python310}
    return subprocess.run(
        ["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
    )


def test_the_finder_accepts_a_python_310_named_by_python310(tmp_path: Path):
    result = run_finder(tmp_path, sys.executable)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == sys.executable


def test_the_finder_refuses_another_version_and_names_what_to_install(tmp_path: Path):
    fake = tmp_path / "python-3.11"
    fake.write_text("#!/bin/sh\nexit 1\n")  # answers no to the version check
    fake.chmod(0o755)
    result = run_finder(tmp_path, str(fake))
    if result.returncode == 0 and result.stdout.startswith("/usr"):
        # a system-wide python3.10 exists on this machine: the finder rightly uses it
        assert "3.10" in result.stdout
        return
    assert result.returncode == 1
    assert "no Python 3.10 interpreter found" in result.stderr
    assert "pyenv install 3.10" in result.stderr
    assert result.stdout == ""
