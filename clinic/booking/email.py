"""E-mail addresses checked for syntax and put in their normal form (no DNS look-up)."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from .reasons import Reason


@dataclass(frozen=True)
class EmailResult:
    email: str | None = None
    reason: Reason | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def normalise_email(text: str) -> EmailResult:
    """``" Jane.Doe@Example.COM "`` -> ``EmailResult("Jane.Doe@example.com")``.

    The domain is lower-cased and IDNA-normalised; the local part keeps its case,
    as mail servers may treat it case-sensitively. Special-use domains
    (``localhost``, ``.test``) are refused.
    """
    try:
        checked = validate_email((text or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        return EmailResult(reason=Reason.INVALID_EMAIL)
    return EmailResult(checked.normalized)
