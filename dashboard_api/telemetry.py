"""The API's own figures for ``/metrics``: request counts and latency per route, as an ASGI
middleware (pure ASGI, so streamed responses pass through untouched), plus the request body limit
and the security headers of every response.

Label values are bounded, whatever anonymous clients send: the route is the matched route's
template or ``(unmatched)``, the method one of ``KNOWN_METHODS`` or ``OTHER``, the status an HTTP
status code (so ``/metrics`` keeps its size however many junk requests arrive).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "OTHER"


class Telemetry:
    """Counts and latency histogram per (route template, method); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, method, status)] += 1
            b = self.buckets.setdefault(route, [0] * (len(LATENCY_BUCKETS_S) + 1))
            b[bisect.bisect_left(LATENCY_BUCKETS_S, seconds)] += 1
            self.sums[route] += seconds
            self.counts[route] += 1

    def snapshot(
        self,
    ) -> tuple[dict[tuple[str, str, int], int], dict[str, list[int]], dict[str, float], dict[str, int]]:
        with self._lock:
            return (
                dict(self.requests),
                {k: list(v) for k, v in self.buckets.items()},
                dict(self.sums),
                dict(self.counts),
            )


def route_template(scope: Scope) -> str:
    """The matched route as a template (``/api/v1/sites/{site}/energy``), or ``(unmatched)``."""
    if scope.get("route") is None:
        return "(unmatched)"
    path: str = scope.get("path", "")
    params: dict[str, Any] = scope.get("path_params") or {}
    for name, value in params.items():
        path = path.replace(f"/{value}", f"/{{{name}}}", 1)
    return path


class TelemetryMiddleware:
    """Times every HTTP request (until its response has started) and records it by route template."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            template = route_template(scope)
            method = method_label(scope.get("method", ""))
            self.telemetry.observe(template, method, status, time.perf_counter() - t0)

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                record()

        try:
            await self.app(scope, receive, timed_send)
        finally:
            record()


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413 (by Content-Length, and while reading)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _too_large(self, send: Send) -> None:
        body = b'{"error":"too_large","detail":"request body over %d bytes"}' % self.max_bytes
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await self._too_large(send)
                    return
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLargeError
            return message

        try:
            await self.app(scope, counted_receive, send)
        except BodyTooLargeError:
            await self._too_large(send)


class BodyTooLargeError(Exception):
    pass


# The dashboard and the API docs page (Swagger UI from the installed swagger-ui-bundle wheel) load
# only this server's files: no CDN, no inline script. Plotly and Swagger UI add <style> elements and
# style attributes, hence 'unsafe-inline' for styles only; data: images are Swagger UI's icons.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_CSP = PAGE_CSP
COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeadersMiddleware:
    """Adds ``nosniff``, ``Referrer-Policy`` and ``X-Frame-Options`` to every response, and a
    Content-Security-Policy to every HTML one (``docs_path``: the docs page's own policy)."""

    def __init__(self, app: ASGIApp, docs_path: str) -> None:
        self.app = app
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = (DOCS_CSP if scope.get("path") == self.docs_path else PAGE_CSP).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _SET_HERE]
                headers.extend(COMMON_HEADERS)
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    headers.append((b"content-security-policy", csp))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


_SET_HERE = frozenset({b"x-content-type-options", b"referrer-policy", b"x-frame-options", b"content-security-policy"})
