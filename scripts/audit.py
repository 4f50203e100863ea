"""``make audit``: pip-audit over the pinned, hashed requirements, with accepted findings.

    python scripts/audit.py --pip-audit build/pip-audit/bin/pip-audit \\
        --ignore-file audit-ignore.yml requirements.lock

Runs ``pip-audit -r FILE --require-hashes --disable-pip`` (no resolver, no install: the
lock file is audited exactly as pinned) against PyPI's vulnerability data, passing
every accepted finding of the ignore file as ``--ignore-vuln``. Each accepted finding
needs a ``reason``. Exit codes: 0 clean (or skipped), 1 findings, 2 a wrong ignore file
or pip-audit failing for another reason than the network.

When the vulnerability data cannot be had (no network, a DNS failure, or a package
index that serves no vulnerability data so that not one package could be looked up),
it prints ``audit skipped: registry unreachable (...)`` and exits 0: the audit is
advice for the people who change the lock file, not a gate that a network outage
should close.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

import yaml

# what pip-audit's error output says when it could not reach the service
NETWORK_ERRORS = (
    "connectionerror",
    "connection refused",
    "max retries exceeded",
    "name or service not known",
    "temporary failure in name resolution",
    "failed to resolve",
    "nameresolutionerror",
    "timed out",
    "network is unreachable",
    "serviceerror",
)


class IgnoreFileError(ValueError):
    """The ignore file is not a list of findings, each with an id and a reason."""


def accepted_findings(path: Path | None) -> List[Dict[str, str]]:
    """The ``ignore:`` entries of the ignore file; each needs ``id`` and ``reason``."""
    if path is None or not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("ignore") or [] if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise IgnoreFileError(f"{path}: 'ignore' must be a list")
    for entry in entries:
        if not isinstance(entry, dict) or not str(entry.get("id") or "").strip():
            raise IgnoreFileError(f"{path}: every entry needs an 'id': {entry!r}")
        if not str(entry.get("reason") or "").strip():
            raise IgnoreFileError(f"{path}: {entry['id']} has no 'reason'")
    return entries


def pip_audit_command(pip_audit: str, requirements: Path, ignored: List[str], out: Path):
    command = [pip_audit, "-r", str(requirements), "--require-hashes", "--disable-pip"]
    command += ["--progress-spinner", "off", "--format", "json", "--output", str(out)]
    command += ["--desc", "off", "--aliases", "on", "--timeout", "20"]
    for vuln_id in ignored:
        command += ["--ignore-vuln", vuln_id]
    return command


def unreachable(stderr: str) -> bool:
    text = stderr.lower()
    return any(marker in text for marker in NETWORK_ERRORS)


def report(data: Dict[str, Any], returncode: int) -> int:
    """Prints the findings of pip-audit's JSON report; the exit code of the audit."""
    dependencies = data.get("dependencies") or []
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    if dependencies and not audited:
        print(
            "audit skipped: registry unreachable (no package could be looked up, "
            f"e.g. {skipped[0]['skip_reason']})"
        )
        return 0
    findings = [(d, v) for d in audited for v in d.get("vulns") or []]
    print(f"audited {len(audited)} pinned packages against PyPI's vulnerability data")
    if skipped:
        names = ", ".join(f"{d['name']} ({d.get('skip_reason')})" for d in skipped)
        print(f"warning: {len(skipped)} not audited: {names}")
    for dependency, vuln in findings:
        aliases = ", ".join(vuln.get("aliases") or [])
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
        print(
            f"FINDING {dependency['name']} {dependency['version']}: {vuln['id']}"
            f"{f' ({aliases})' if aliases else ''}; fixed in {fixed}"
        )
    if findings:
        print(
            f"{len(findings)} known vulnerabilities: upgrade, or accept each in the ignore "
            "file with the reason it does not apply (see docs/security.md)"
        )
        return 1
    if returncode not in (0, 1):
        return 2
    print("no known vulnerabilities (accepted findings aside)")
    return 0


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requirements", type=Path)
    parser.add_argument("--pip-audit", default="pip-audit", help="the pip-audit executable")
    parser.add_argument("--ignore-file", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        accepted = accepted_findings(args.ignore_file)
    except (IgnoreFileError, yaml.YAMLError) as exc:
        print(f"audit: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        command = pip_audit_command(
            args.pip_audit, args.requirements, [e["id"] for e in accepted], out
        )
        result = subprocess.run(command, capture_output=True, text=True)
        if not out.exists() or not out.read_text().strip():
            if unreachable(result.stderr):
                reason = result.stderr.strip().splitlines()[-1][:200]
                print(f"audit skipped: registry unreachable ({reason})")
                return 0
            print(result.stderr, file=sys.stderr)
            print(f"audit: pip-audit failed with exit code {result.returncode}", file=sys.stderr)
            return 2
        data = json.loads(out.read_text())
    if accepted:
        print("accepted findings: " + ", ".join(e["id"] for e in accepted))
    return report(data, result.returncode)


if __name__ == "__main__":
    sys.exit(main())
