"""Real SMTP servers on 127.0.0.1 for the staff-alert tests, run by aiosmtpd.

``SmtpSink`` is plain SMTP and keeps every message it accepted. ``TlsSmtpServer`` speaks
TLS from the first byte (smtps) or after STARTTLS, and takes mail only from a client
logged in (AUTH) with the right user and password over TLS. ``SilentServer`` accepts
connections and never answers: an SMTP server that hangs.
"""

from __future__ import annotations

import contextlib
import email
import socket
import ssl
import threading
from email.message import Message
from typing import Any, List, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Inbox:
    """aiosmtpd handler: each accepted message, with its envelope recipients."""

    def __init__(self, messages: List[Message]) -> None:
        self.messages = messages

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


class _Server:
    """An aiosmtpd ``Controller`` on 127.0.0.1:``port`` (0: a free one) until ``stop()``."""

    def __init__(self, port: int = 0, **settings: Any) -> None:
        self.messages: List[Message] = []
        self.port = port or free_port()
        self._controller = Controller(
            _Inbox(self.messages), hostname="127.0.0.1", port=self.port, **settings
        )
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


class SmtpSink(_Server):
    """Plain SMTP, no login."""

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


class TlsSmtpServer(_Server):
    """SMTP over TLS: ``mode="tls"`` from the first byte, ``"starttls"`` after the command.
    Mail is taken only from a client logged in with ``user`` and ``password`` over TLS."""

    def __init__(
        self,
        mode: Literal["tls", "starttls"],
        certfile: str,
        keyfile: str,
        user: str,
        password: str,
    ) -> None:
        self.mode = mode
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile, keyfile)
        expected = LoginPassword(user.encode(), password.encode())

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
            # handled=False: aiosmtpd answers a failure with its own 535
            return AuthResult(success=data == expected, handled=False)

        tls = {"ssl_context": context} if mode == "tls" else {"tls_context": context}
        super().__init__(
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=mode == "starttls",  # smtps is TLS from the first byte
            require_starttls=mode == "starttls",
            **tls,
        )


class SilentServer:
    """Accepts connections on 127.0.0.1 and never says a word: an SMTP server that hangs."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port: int = self._socket.getsockname()[1]
        self._clients: List[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._socket.accept()
            except OSError:
                return
            self._clients.append(client)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._socket.close()
        for client in self._clients:
            client.close()
        self._thread.join(timeout=5)
