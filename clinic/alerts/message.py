"""The alert e-mail: the kind, the reference, the time and the console link, nothing else.

No name, phone, e-mail address, concern, health answer or message text: e-mail is copied
to phones, mail servers and archives the clinic does not control, and the console (behind
a login, with an audit log) is where staff read the details.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import List, Mapping
from zoneinfo import ZoneInfo


def alert_message(
    *,
    kind: str,
    reference: str,
    at: datetime,
    link: str,
    sender: str,
    recipients: List[str],
    timezone_name: str,
    words: Mapping[str, str],
) -> EmailMessage:
    """The e-mail for one alert; ``at`` is aware (UTC), shown in the clinic's timezone;
    ``words``: messages.yml's ``alerts`` texts (the kinds and the labels)."""
    local = at.astimezone(ZoneInfo(timezone_name))
    title = words[kind]
    label = words["conversation" if kind == "red_flag" else "booking_reference"]
    message = EmailMessage()
    message["Subject"] = f"{title}: {reference}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(local)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    body = (
        f"{title}\n"
        f"{label}: {reference}\n"
        f"{words['time']}: {local:%Y-%m-%d %H:%M} ({timezone_name})\n"
        f"{words['console']}: {link}\n"
    )
    # plain ASCII stays as written, so the link is not broken by quoted-printable wrapping
    message.set_content(body, cte="7bit" if body.isascii() else "quoted-printable")
    return message
