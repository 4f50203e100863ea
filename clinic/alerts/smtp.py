"""``SMTP_URL``: where staff alerts are sent, and sending one message there.

``smtp://host:port`` (plain, for a relay on the same machine or network),
``smtp+starttls://user:password@host:port`` (plain, then STARTTLS before logging in) and
``smtps://user:password@host:port`` (TLS from the first byte). The port defaults to 25,
587 and 465. A password is refused on ``smtp://``: it would cross the network in clear.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal
from urllib.parse import unquote, urlsplit

Security = Literal["plain", "starttls", "tls"]
SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}
TIMEOUT_S = 10.0  # connect and each SMTP command


class SmtpUrlError(ValueError):
    """``SMTP_URL`` is not a URL the alert sender can use; the message names the problem."""


@dataclass(frozen=True)
class SmtpTarget:
    security: Security
    host: str
    port: int
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        """The URL without its password, for log lines."""
        scheme = next(name for name, (sec, _) in SCHEMES.items() if sec == self.security)
        user = f"{self.user}:***@" if self.user else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    """``SMTP_URL`` checked: the scheme, a host, a port 1-65535, both or neither of user and
    password, no password over plain SMTP, nothing after the port."""
    text = (url or "").strip()
    if not text:
        raise SmtpUrlError("SMTP_URL is empty")
    if "://" not in text:
        raise SmtpUrlError(f"SMTP_URL {text!r} is not a URL; use smtp://host:port")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise SmtpUrlError(f"SMTP_URL is not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        known = ", ".join(f"{name}://" for name in SCHEMES)
        raise SmtpUrlError(f"SMTP_URL has the scheme {scheme!r}; use one of {known}")
    security, default_port = SCHEMES[scheme]
    if not parts.hostname:
        raise SmtpUrlError(f"SMTP_URL names no host: {scheme}://HOST:PORT")
    try:
        port = parts.port if parts.port is not None else default_port
    except ValueError as exc:
        port_text = parts.netloc.rpartition(":")[2]
        raise SmtpUrlError(f"SMTP_URL's port {port_text!r} is not a number 1-65535") from exc
    if port == 0:
        raise SmtpUrlError("SMTP_URL's port 0 is not a number 1-65535")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SmtpUrlError("SMTP_URL must end after host:port (no path, query or fragment)")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if (user is None) != (password is None):
        raise SmtpUrlError("SMTP_URL needs both a user and a password, or neither")
    if password is not None and security == "plain":
        raise SmtpUrlError(
            "SMTP_URL gives a password over plain smtp://, which sends it unencrypted; "
            "use smtp+starttls:// or smtps://"
        )
    return SmtpTarget(security, parts.hostname, port, user, password)


def send_message(
    target: SmtpTarget,
    message: EmailMessage,
    timeout_s: float = TIMEOUT_S,
    context: ssl.SSLContext | None = None,
) -> list[str]:
    """Hands ``message`` to the server. Returns the recipients it refused while accepting
    the others (sending again would repeat the message to those); raises
    ``smtplib.SMTPException`` or ``OSError`` when it accepted none or failed."""
    context = context or ssl.create_default_context()  # the system's CAs, host name checked
    client: smtplib.SMTP
    if target.security == "tls":
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout_s, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout_s)
    with client:
        if target.security == "starttls":
            client.starttls(context=context)
        if target.user is not None and target.password is not None:
            client.login(target.user, target.password)
        refused = client.send_message(message)
    return sorted(refused)
