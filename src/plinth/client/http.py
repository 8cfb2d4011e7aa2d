"""The one HTTP client: base URL, auth, retries with backoff, problem+json -> PlinthError.

Small JSON calls go over per-thread ``http.client`` connections (``connections.py`` says
why); streams, calls through a proxy and calls over an injected httpx transport use httpx.
"""

from __future__ import annotations

import random
import time
import urllib.request
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson

from plinth import __version__
from plinth.client.connections import NETWORK_ERRORS, ThreadConnections
from plinth.config import Settings
from plinth.errors import PlinthError, Unavailable, error_from_problem

API_PREFIX = "/api/v1"
_RETRY_STATUSES = {502, 503, 504}
_NETWORK_ERRORS = (httpx.TransportError, *NETWORK_ERRORS)
_URL_SAFE = "/:@!$&'()*+,;=%-._~?"  # a path the caller quoted stays as it is


class HttpClient:
    """Calls the plinth API; retries unreachable servers for ``retry_seconds``."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        retry_seconds: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": f"plinth/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url.rstrip("/")
        self.retry_seconds = retry_seconds
        self._headers = headers
        self._client = httpx.Client(
            base_url=self.url + API_PREFIX,
            headers=headers,
            timeout=timeout,
            transport=transport,
        )
        self._direct: ThreadConnections | None = None
        if transport is None and not _proxied(self.url):
            self._direct = ThreadConnections(self.url + API_PREFIX, timeout)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> HttpClient:
        assert settings.url, "a server URL is required"
        options: dict[str, Any] = {
            "token": settings.token,
            "timeout": settings.http_timeout,
            "retry_seconds": settings.http_retry_seconds,
        }
        options.update(overrides)
        return cls(settings.url, **options)

    def close(self) -> None:
        self._client.close()
        if self._direct is not None:
            self._direct.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        """Send a request; raise the PlinthError the server described, or ``Unavailable``
        once the server stayed unreachable for ``retry_seconds``."""
        body = orjson.dumps(json) if json is not None else content
        send_headers = dict(headers or {})
        if json is not None:
            send_headers["Content-Type"] = "application/json"
        send = self._send_httpx
        if self._direct is not None and (body is None or isinstance(body, bytes)):
            send = self._send_direct
        deadline = time.monotonic() + (self.retry_seconds if retry else 0)
        attempt = 0
        response: httpx.Response | None = None
        while True:
            try:
                response = send(method, path, body, params, send_headers)
                if response.status_code not in _RETRY_STATUSES:
                    break
                failure = f"HTTP {response.status_code}"
            except _NETWORK_ERRORS as exc:
                failure = f"{type(exc).__name__}: {exc}"
                response = None
            if time.monotonic() >= deadline:
                if response is not None:
                    break
                raise Unavailable(f"cannot reach the plinth server at {self.url} ({failure})")
            attempt += 1
            delay = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random() / 2)
            time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
        assert response is not None
        if response.status_code >= 400:
            raise _error_from_response(response)
        return response

    def _send_httpx(
        self, method: str, path: str, body: Any, params: Any, headers: dict[str, str]
    ) -> httpx.Response:
        return self._client.request(method, path, content=body, params=params, headers=headers)

    def _send_direct(
        self, method: str, path: str, body: bytes | None, params: Any, headers: dict[str, str]
    ) -> httpx.Response:
        assert self._direct is not None
        if not path.isascii():
            path = quote(path, safe=_URL_SAFE)
        if params:
            path = f"{path}?{httpx.QueryParams(params)}"
        return self._direct.send(method, path, body, {**self._headers, **headers})

    def get(self, path: str, **kwargs: Any) -> Any:
        return _json(self.request("GET", path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> Any:
        return _json(self.request("POST", path, **kwargs))

    def patch(self, path: str, **kwargs: Any) -> Any:
        return _json(self.request("PATCH", path, **kwargs))

    def delete(self, path: str, **kwargs: Any) -> Any:
        return _json(self.request("DELETE", path, **kwargs))

    def stream(self, method: str, path: str, **kwargs: Any) -> Any:
        """A streaming response context manager (the caller reads ``iter_bytes``)."""
        return self._client.stream(method, path, **kwargs)


def _proxied(url: str) -> bool:
    """Whether the environment sends requests to ``url`` through a proxy (only httpx
    knows how to do that)."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


def _json(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    return orjson.loads(response.content)


def _error_from_response(response: httpx.Response) -> PlinthError:
    try:
        problem = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        problem = {"detail": response.text[:500] or f"HTTP {response.status_code}"}
    if not isinstance(problem, dict):
        problem = {"detail": str(problem)[:500]}
    return error_from_problem(response.status_code, problem)


def raise_for_problem(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise _error_from_response(response)
