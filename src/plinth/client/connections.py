"""Keep-alive connections for the client's small JSON calls, one per thread, over the
standard library's ``http.client``.

Why not httpx for these: a created run or a metric batch is one small request, and httpx
spends ~0.85 ms of client CPU on it where ``http.client`` spends ~0.25 ms (measured against
the same server, bench/LIMITS.md); on a training machine that is CPU the model does not get.
httpx still carries the streams (artifacts) and every call that must go through a proxy.
"""

from __future__ import annotations

import http.client
import os
import select
import threading
from urllib.parse import urlsplit

import httpx

NETWORK_ERRORS = (OSError, http.client.HTTPException)
"""What a call over a connection raises when the server cannot be reached or hung up."""


class ThreadConnections:
    """One persistent connection per thread to one server. A connection the server closed
    while it was idle (uvicorn drops idle ones after a few seconds) is noticed before it is
    used and replaced; one inherited through ``fork`` is never shared with the parent."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.https else 80)
        self.path_prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()
        self._open: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def send(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> httpx.Response:
        """Send one request and read the whole response; raise one of ``NETWORK_ERRORS``
        when the server is unreachable (the connection is then dropped)."""
        connection = self._connection()
        try:
            connection.request(method, self.path_prefix + target, body=body, headers=headers)
            reply = connection.getresponse()
            content = reply.read()
        except BaseException:
            self._drop(connection)
            raise
        if reply.will_close:
            self._drop(connection)
        return httpx.Response(reply.status, headers=reply.getheaders(), content=content)

    def close(self) -> None:
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        if os.getpid() != self._pid:  # a forked child: the parent's sockets are not ours
            self._pid = os.getpid()
            self._local = threading.local()
            self._open = set()
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None and _closed_by_peer(connection):
            self._drop(connection)
            connection = None
        if connection is None:
            connection = self._new_connection()
            self._local.connection = connection
            with self._lock:
                self._open.add(connection)
        return connection

    def _new_connection(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=httpx.create_ssl_context()
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        with self._lock:
            self._open.discard(connection)
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """An idle keep-alive socket that is readable has been closed by the server (or holds
    bytes no request asked for): either way it must not carry the next request."""
    sock = connection.sock
    if sock is None:
        return False  # not connected yet: http.client connects on the first request
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)
