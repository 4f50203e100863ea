"""``make audit`` (scripts/audit.py) around a stand-in pip-audit: findings fail, accepted
findings need a reason, and an unreachable registry is a clear skip, not a pass."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "audit.py"


def fake_pip_audit(tmp_path: Path, report: Dict[str, Any] | None, code: int, stderr: str = ""):
    """An executable that records its arguments, writes ``report`` to --output and exits."""
    script = tmp_path / "pip-audit"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(tmp_path / 'args.json')!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        f"report = {json.dumps(report)!r}\n"
        "if report != 'null':\n"
        "    open(sys.argv[sys.argv.index('--output') + 1], 'w').write(report)\n"
        f"sys.stderr.write({stderr!r})\n"
        f"sys.exit({code})\n"
    )
    script.chmod(0o755)
    return script


def audit(tmp_path: Path, ignore: str | None = None) -> subprocess.CompletedProcess:
    args = [sys.executable, str(SCRIPT), "--pip-audit", str(tmp_path / "pip-audit")]
    if ignore is not None:
        (tmp_path / "ignore.yml").write_text(ignore)
        args += ["--ignore-file", str(tmp_path / "ignore.yml")]
    return subprocess.run([*args, "requirements.lock"], capture_output=True, text=True, cwd=ROOT)


VULNERABLE = {
    "dependencies": [
        {
            "name": "jinja2",
            "version": "2.10",
            "vulns": [
                {"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"], "aliases": ["CVE-2019-10906"]}
            ],
        },
        {"name": "requests", "version": "2.34.2", "vulns": []},
    ],
    "fixes": [],
}


def test_a_known_vulnerability_fails_the_audit_and_is_named(tmp_path: Path):
    fake_pip_audit(tmp_path, VULNERABLE, 1)
    result = audit(tmp_path)
    assert result.returncode == 1
    assert "FINDING jinja2 2.10: PYSEC-2019-217 (CVE-2019-10906); fixed in 2.10.1" in result.stdout
    args = json.loads((tmp_path / "args.json").read_text())
    assert args[:5] == [
        "-r",
        "requirements.lock",
        "--require-hashes",
        "--disable-pip",
        "--progress-spinner",
    ]


def test_accepted_findings_are_passed_as_ignore_vuln_and_need_a_reason(tmp_path: Path):
    fake_pip_audit(
        tmp_path, {"dependencies": [{"name": "jinja2", "version": "2.10", "vulns": []}]}, 0
    )
    accepted = "ignore:\n  - id: PYSEC-2019-217\n    reason: the sandbox is never used\n"
    result = audit(tmp_path, accepted)
    assert result.returncode == 0, result.stdout + result.stderr
    args = json.loads((tmp_path / "args.json").read_text())
    assert args[args.index("--ignore-vuln") + 1] == "PYSEC-2019-217"
    refused = audit(tmp_path, "ignore:\n  - id: PYSEC-2019-217\n")
    assert refused.returncode == 2 and "has no 'reason'" in refused.stderr


@pytest.mark.parametrize(
    "report,code,stderr",
    [
        (None, 1, "requests.exceptions.ConnectionError: Max retries exceeded with url"),
        (
            {"dependencies": [{"name": "absl-py", "skip_reason": "Dependency not found on PyPI"}]},
            0,
            "",
        ),
    ],
    ids=["no network", "index without vulnerability data"],
)
def test_an_unreachable_registry_is_a_clear_skip_not_a_clean_result(
    tmp_path: Path, report, code: int, stderr: str
):
    fake_pip_audit(tmp_path, report, code, stderr)
    result = audit(tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("audit skipped: registry unreachable")
    assert "no known vulnerabilities" not in result.stdout


def test_pip_audit_failing_for_another_reason_fails_the_audit(tmp_path: Path):
    fake_pip_audit(tmp_path, None, 1, "ERROR: requirements.lock: no such file")
    result = audit(tmp_path)
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_the_shipped_ignore_file_is_valid():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from audit import accepted_findings
    finally:
        sys.path.remove(str(SCRIPT.parent))
    assert isinstance(accepted_findings(ROOT / "audit-ignore.yml"), list)
