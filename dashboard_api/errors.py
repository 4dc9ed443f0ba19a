"""The API's error answers: every bad parameter is a 4xx whose body names the parameter.

::

    ApiError                 an answer other than 2xx, as JSON {"error", "detail", "parameter"?}
    ├── BadParameterError    400: a query parameter is malformed, unknown or over a limit
    └── NotFoundError        404: a site or device that the topology does not know

An optional feature called without its extra (:class:`ville_autonome.extras.MissingExtraError`:
PDF/XLSX reports, what-if scenarios) is a 501 ``extra_missing`` whose detail names the
``pip install`` to run.

FastAPI's own validation errors (a missing or mistyped parameter) are answered 422 in the same
shape, naming the first parameter at fault.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from ville_autonome.extras import MissingExtraError
from ville_autonome.storage.base import StoreAuthError, StoreError, StoreRejectedError, StoreTransientError

log = logging.getLogger(__name__)


class ApiError(Exception):
    status_code = 400
    error = "error"

    def __init__(self, detail: str, parameter: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parameter = parameter

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error, "detail": self.detail}
        if self.parameter is not None:
            out["parameter"] = self.parameter
        return out


class BadParameterError(ApiError):
    status_code = 400
    error = "bad_parameter"


class NotFoundError(ApiError):
    status_code = 404
    error = "not_found"


class ErrorOut(BaseModel):
    """The body of every error answer (documented, so that clients and schemathesis can check it)."""

    model_config = ConfigDict(extra="forbid")
    error: str
    detail: str
    parameter: str | None = None


# inline, under application/json whatever the route's own media type (``"model"`` would follow /metrics' text/plain)
ERROR_SCHEMA = ErrorOut.model_json_schema()

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "A parameter is malformed, unknown or over a limit; `parameter` names it.",
        "content": {
            "application/json": {
                "schema": ERROR_SCHEMA,
                "example": {"error": "bad_parameter", "parameter": "start", "detail": "start is after end"},
            }
        },
    },
    401: {
        "description": "No API key, or an unknown one.",
        "content": {
            "application/json": {
                "schema": ERROR_SCHEMA,
                "example": {"error": "unauthorized", "detail": "an API key is required"},
            }
        },
    },
    403: {
        "description": "The key's role does not allow this route.",
        "content": {
            "application/json": {
                "schema": ERROR_SCHEMA,
                "example": {"error": "forbidden", "detail": "this route needs the operator role"},
            }
        },
    },
    422: {
        "description": "A parameter has the wrong type or is missing; `parameter` names it.",
        "content": {
            "application/json": {
                "schema": ERROR_SCHEMA,
                "example": {
                    "error": "invalid_parameter",
                    "parameter": "limit",
                    "detail": "Input should be a valid integer",
                },
            }
        },
    },
    429: {
        "description": "Too many requests for this key in the last minute.",
        "content": {
            "application/json": {
                "schema": ERROR_SCHEMA,
                "example": {"error": "rate_limited", "detail": "at most 600 requests per minute per key"},
            }
        },
    },
}


def extra_missing_response(extra: str) -> dict[int | str, dict[str, Any]]:
    """The 501 of a route whose feature needs the optional ``extra`` (ville_autonome.extras)."""
    return {
        501: {
            "description": f"The '{extra}' extra is not installed on this server; `detail` names the pip install.",
            "content": {
                "application/json": {
                    "schema": ERROR_SCHEMA,
                    "example": {
                        "error": "extra_missing",
                        "detail": f"… need the optional '{extra}' dependencies …: pip install 'ville-autonome[{extra}]'",
                    },
                }
            },
        }
    }


STORE_RETRY_AFTER_S = 5


def store_error_answer(exc: Exception) -> tuple[int, dict[str, str], dict[str, str]]:
    """The status, body and headers of an answer the store's failure ``exc`` prevented.

    A passing fault (down, timed out, busy) is a 503 with ``Retry-After``; a store that refuses the
    API's credentials is a 503 without it (retrying does not help: an operator must fix the
    credentials); a query the store refused for what it is is a 500 (our fault, not the client's).
    """
    if isinstance(exc, StoreAuthError):
        detail = "the store refuses the API's credentials (an operator must act)"
        return 503, {"error": "store_refused_credentials", "detail": detail}, {}
    if isinstance(exc, StoreRejectedError):
        return 500, {"error": "store_rejected_query", "detail": "the store refused the query"}, {}
    retry = {"Retry-After": str(STORE_RETRY_AFTER_S)}
    return 503, {"error": "store_unavailable", "detail": "the store did not answer"}, retry


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body(), status_code=exc.status_code)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "header", "body")]
        parameter = ".".join(loc) or None
        msg = str(first.get("msg", "invalid request"))
        detail = f"{parameter}: {msg}" if parameter else msg
        body: dict[str, Any] = {"error": "invalid_parameter", "detail": detail}
        if parameter:
            body["parameter"] = parameter
        return JSONResponse(body, status_code=422)

    async def on_store_error(request: Request, exc: Exception) -> JSONResponse:
        # the store's error names its internal address: logged here, never sent to the client
        status, body, headers = store_error_answer(exc)
        level = logging.WARNING if isinstance(exc, StoreTransientError) else logging.ERROR
        log.log(level, "%s %s: store error (%s): %s", request.method, request.url.path, body["error"], exc)
        return JSONResponse(body, status_code=status, headers=headers)

    async def on_missing_extra(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": "extra_missing", "detail": str(exc)}, status_code=501)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        body = exc.detail if isinstance(exc.detail, dict) else {"error": "http_error", "detail": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StoreError, on_store_error)
    app.add_exception_handler(MissingExtraError, on_missing_extra)
