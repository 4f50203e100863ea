"""Real SMTP servers on 127.0.0.1 for the staff-alert tests.

``SmtpSink`` speaks SMTP with the standard library's ``smtpd`` (Python 3.10; aiosmtpd, the
usual choice, is not among the pinned dependencies) and keeps every message it accepted.
``SilentServer`` accepts connections and never answers: an SMTP server that hangs.
"""

from __future__ import annotations

import asyncore
import contextlib
import email
import smtpd
import socket
import threading
from email.message import Message
from typing import Any, Dict, List


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


class SilentServer:
    """Listens on ``port`` (0: a free one), accepts, and never says a word."""

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

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._socket.close()
        for client in self._clients:
            client.close()
        self._thread.join(timeout=5)
