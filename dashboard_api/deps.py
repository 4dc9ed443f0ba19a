"""Dependencies of every route: the configuration, the store, and the caller's API key and role.

Keys travel as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` (stream routes also take
``?api_key=``, since a browser's EventSource cannot send headers). The configuration holds only
their SHA-256 (``services.api.keys``); a presented key is hashed and compared with every stored
digest in constant time (:func:`hmac.compare_digest`). Roles are ordered
viewer < operator < staff < admin; a route declares the least role it needs::

    @router.get("/things")
    def things(key: OperatorKey) -> ...: ...

    # or, for a role chosen at run time (the dashboard and report routers):
    def report(key: require_role("staff")) -> ...: ...

Each key has its own rate limit (``services.api.rate_limit_per_minute``, sliding 60 s window).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from ville_autonome.configuration.services import ApiKey, ApiSettings
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.storage.base import Store

Role = Literal["viewer", "operator", "staff", "admin"]
ROLE_RANK: dict[str, int] = {"viewer": 0, "operator": 1, "staff": 2, "admin": 3}


@dataclass(frozen=True)
class Principal:
    """The caller: the name and role of the key it presented."""

    name: str
    role: Role


class RateLimiter:
    """At most ``per_minute`` requests per key in any 60-second window (thread-safe)."""

    def __init__(self, per_minute: int, clock: Any = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        """(allowed, seconds until the next request would be allowed)."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - 60.0:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return False, max(0.0, hits[0] + 60.0 - now)
            hits.append(now)
            return True, 0.0


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def find_key(keys: list[ApiKey], presented: str) -> ApiKey | None:
    """The configured key whose digest matches ``presented``; every digest is compared, in constant time."""
    candidate = digest(presented).encode()
    found: ApiKey | None = None
    for k in keys:
        if hmac.compare_digest(candidate, k.sha256.encode()):
            found = k
    return found


def get_config(request: Request) -> PlatformConfig:
    config: PlatformConfig = request.app.state.config
    return config


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_api_settings(request: Request) -> ApiSettings:
    return get_config(request).services.api


ConfigDep = Annotated[PlatformConfig, Depends(get_config)]
StoreDep = Annotated[Store, Depends(get_store)]
ApiSettingsDep = Annotated[ApiSettings, Depends(get_api_settings)]

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")
_query = APIKeyQuery(name="api_key", auto_error=False, description="API key (stream routes only: EventSource)")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        401, {"error": "unauthorized", "detail": detail}, headers={"WWW-Authenticate": 'Bearer realm="ville-autonome"'}
    )


class RoleChecker:
    """A dependency admitting keys of ``role`` or above; ``allow_query`` also reads ``?api_key=``."""

    def __init__(self, role: Role, *, allow_query: bool = False) -> None:
        self.role = role
        self.allow_query = allow_query

    def __call__(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header: Annotated[str | None, Depends(_header)],
        query: Annotated[str | None, Depends(_query)],
    ) -> Principal:
        presented = (bearer.credentials if bearer else None) or header
        if presented is None and self.allow_query:
            presented = query
        if not presented:
            raise _unauthorized("an API key is required (Authorization: Bearer <key> or X-API-Key)")
        settings = get_api_settings(request)
        key = find_key(settings.keys, presented)
        if key is None:
            raise _unauthorized("unknown API key")
        limiter: RateLimiter = request.app.state.rate_limiter
        allowed, retry = limiter.allow(key.name)
        if not allowed:
            raise HTTPException(
                429,
                {"error": "rate_limited", "detail": f"at most {limiter.per_minute} requests per minute per key"},
                headers={"Retry-After": str(int(retry) + 1)},
            )
        if ROLE_RANK[key.role] < ROLE_RANK[self.role]:
            raise HTTPException(
                403, {"error": "forbidden", "detail": f"this route needs the {self.role} role (key has {key.role})"}
            )
        return Principal(key.name, key.role)


def require_role(role: Role, *, allow_query: bool = False) -> Any:
    """``Annotated[Principal, Depends(...)]`` admitting keys of ``role`` or above."""
    return Annotated[Principal, Depends(RoleChecker(role, allow_query=allow_query))]


ViewerKey = Annotated[Principal, Depends(RoleChecker("viewer"))]
StreamKey = Annotated[Principal, Depends(RoleChecker("viewer", allow_query=True))]
OperatorKey = Annotated[Principal, Depends(RoleChecker("operator"))]
StaffKey = Annotated[Principal, Depends(RoleChecker("staff"))]
AdminKey = Annotated[Principal, Depends(RoleChecker("admin"))]
