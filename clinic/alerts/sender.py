"""Sends the alerts that are due, one claim and one SMTP hand-over each.

``run_once`` is synchronous (smtplib); the web app calls it from a worker thread every
``ALERT_INTERVAL_S`` seconds (``clinic.web.app``), so a slow or dead SMTP server delays
alerts but never the chat. An alert is marked sent after the server accepted it; a crash
between the two sends it once more at the next start (at most twice in all).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from typing import Callable, List, Mapping

from clinic.db.models import utc_now
from clinic.settings import ClinicProfile

from . import outbox
from .message import alert_message
from .smtp import SmtpTarget, send_message

log = logging.getLogger(__name__)
BATCH = 20  # alerts tried per run


@dataclass
class RunReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0


class AlertSender:
    """Sends due alerts from the outbox of ``sessions`` to ``clinic.staff_alerts``."""

    def __init__(
        self,
        sessions: outbox.SessionFactory,
        clinic: ClinicProfile,
        smtp: SmtpTarget | None,
        console_url: str,
        words: Mapping[str, str],
        *,
        clock: Callable = utc_now,
        send: Callable = send_message,
    ) -> None:
        self._sessions = sessions
        self._clinic = clinic
        self._smtp = smtp
        self._console_url = console_url.rstrip("/")
        self._words = words
        self._clock = clock
        self._send = send

    def describe(self) -> str:
        """One line for the log at start-up: where alerts go, or why they do not."""
        count = len(self._clinic.staff_alerts)
        if not count:
            return "staff alerts are off: clinic.yml's staff_alerts is empty"
        if self._smtp is None:
            return (
                f"staff alerts stay queued in the app database: SMTP_URL is not set "
                f"({count} address(es) in clinic.yml's staff_alerts wait for it)"
            )
        return f"staff alerts go to {count} address(es) through {self._smtp}"

    def run_once(self) -> RunReport:
        report = RunReport()
        recipients: List[str] = list(self._clinic.staff_alerts)
        if not recipients:
            report.skipped = outbox.skip_pending(self._sessions)
            if report.skipped:
                log.info(
                    "%d staff alerts skipped: clinic.yml's staff_alerts is empty", report.skipped
                )
            return report
        if self._smtp is None:
            return report
        for alert_id in outbox.due_ids(self._sessions, self._clock(), BATCH):
            now = self._clock()
            alert = outbox.claim(self._sessions, alert_id, now)
            if alert is None:  # another sender took it, or it was sent meanwhile
                continue
            message = alert_message(
                kind=alert.kind,
                reference=alert.reference,
                at=outbox.as_utc(alert.created_at),
                link=self._console_url + alert.console_path,
                sender=self._clinic.email,
                recipients=recipients,
                timezone_name=self._clinic.timezone,
                words=self._words,
            )
            try:
                refused = self._send(self._smtp, message)
            except (smtplib.SMTPException, OSError) as exc:
                error = _describe(exc)
                outbox.mark_failed(self._sessions, alert, self._clock(), error)
                report.failed += 1
                log.warning(
                    "staff alert %d (%s) not sent, attempt %d, will retry: %s",
                    alert.id,
                    alert.kind,
                    (alert.attempts or 0) + 1,
                    error,
                )
                continue
            outbox.mark_sent(self._sessions, alert.id, self._clock())
            report.sent += 1
            if refused:
                log.warning("staff alert %d: the SMTP server refused %s", alert.id, refused)
        return report


def _describe(exc: BaseException) -> str:
    """The exception's class, SMTP code and reply, shortened for the ``last_error`` column."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}" + (f" {code}" if code else "") + f": {exc}"[:200]
