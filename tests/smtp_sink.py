"""Real SMTP servers on 127.0.0.1 for the staff-alert tests.

``SmtpSink`` speaks SMTP with the standard library's ``smtpd`` (Python 3.10; aiosmtpd, the
usual choice, is not among the pinned dependencies) and keeps every message it accepted.
``TlsSmtpServer`` is a small threaded one with what ``smtpd`` lacks: TLS from the first
byte (smtps) or after STARTTLS, and AUTH PLAIN, refused before TLS.
``SilentServer`` accepts connections and never answers: an SMTP server that hangs.
"""

from __future__ import annotations

import asyncore
import base64
import contextlib
import email
import smtpd
import socket
import ssl
import threading
from email.message import Message
from typing import Any, BinaryIO, Dict, List, Literal


class _Receiver(smtpd.SMTPServer):
    def __init__(self, port: int, socket_map: Dict[int, Any], inbox: List[Message]) -> None:
        self.inbox = inbox
        super().__init__(("127.0.0.1", port), None, map=socket_map, decode_data=False)

    def process_message(self, peer: Any, mailfrom: str, rcpttos: List[str], data: bytes, **kw):
        message = email.message_from_bytes(data)
        message["X-Envelope-To"] = ", ".join(rcpttos)
        self.inbox.append(message)


class SmtpSink:
    """An SMTP server on ``port`` (0: a free one) until ``stop()``."""

    def __init__(self, port: int = 0) -> None:
        self.messages: List[Message] = []
        self._map: Dict[int, Any] = {}
        self._server = _Receiver(port, self._map, self.messages)
        self.port: int = self._server.socket.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stopped.is_set():
            asyncore.loop(timeout=0.05, map=self._map, count=1)
        asyncore.close_all(map=self._map)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)


class _Listener:
    """A listening socket on 127.0.0.1:``port`` (0: a free one); each connection accepted
    goes to ``_handle`` until ``stop()``."""

    def __init__(self, port: int = 0) -> None:
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
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
            self._handle(client)

    def _handle(self, client: socket.socket) -> None:
        """Nothing: the connection stays open and silent."""

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._socket.close()
        for client in self._clients:
            client.close()
        self._thread.join(timeout=5)


class SilentServer(_Listener):
    """Accepts and never says a word: an SMTP server that hangs."""


class TlsSmtpServer(_Listener):
    """SMTP over TLS on a free port: ``mode="tls"`` from the first byte, ``"starttls"``
    after the command. Mail is taken only from a client logged in with ``user`` and
    ``password`` over TLS; ``messages`` holds what was accepted."""

    def __init__(
        self,
        mode: Literal["tls", "starttls"],
        certfile: str,
        keyfile: str,
        user: str,
        password: str,
    ) -> None:
        self.mode, self.user, self.password = mode, user, password
        self.messages: List[Message] = []
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(certfile, keyfile)
        super().__init__()

    def _handle(self, client: socket.socket) -> None:
        threading.Thread(target=self._session, args=(client,), daemon=True).start()

    def _session(self, raw: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            conn = self._tls.wrap_socket(raw, server_side=True) if self.mode == "tls" else raw
            self._converse(conn)
        raw.close()

    def _converse(self, conn: socket.socket) -> None:
        stream = conn.makefile("rwb")
        secure, logged_in, recipients = self.mode == "tls", False, []

        def say(*lines: str) -> None:
            stream.write(b"".join(line.encode() + b"\r\n" for line in lines))
            stream.flush()

        say("220 127.0.0.1 ESMTP test server")
        while line := stream.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                offer = "250-AUTH PLAIN" if secure else "250-STARTTLS"
                say("250-127.0.0.1", offer, "250 8BITMIME")
            elif verb == "STARTTLS" and not secure:
                say("220 go ahead")
                conn = self._tls.wrap_socket(conn, server_side=True)
                stream, secure = conn.makefile("rwb"), True
            elif verb == "AUTH" and secure:
                parts = command.split()
                given = base64.b64decode(parts[2]).split(b"\0") if len(parts) == 3 else []
                logged_in = given[1:] == [self.user.encode(), self.password.encode()]
                say("235 2.7.0 accepted" if logged_in else "535 5.7.8 bad credentials")
            elif verb == "MAIL":
                say("250 ok" if logged_in else "530 5.7.0 authentication required")
            elif verb == "RCPT":
                recipients.append(command.partition(":")[2].strip(" <>"))
                say("250 ok")
            elif verb == "DATA":
                say("354 end with .")
                self._receive(stream, recipients)
                say("250 ok: queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("502 not here")

    def _receive(self, stream: BinaryIO, recipients: List[str]) -> None:
        lines = []
        while (line := stream.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        message = email.message_from_bytes(b"".join(lines))
        message["X-Envelope-To"] = ", ".join(recipients)
        self.messages.append(message)
