"""The framework-neutral request path: one ``Endpoint`` per route, shared by every adapter.

An adapter only extracts (path params, query pairs, headers, body) from its framework's
request and turns the returned :class:`HttpResponse` into its framework's response, so
Litestar and Starlette answer byte for byte alike.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

import msgspec

from loom.core import tracing
from loom.core.engine import Executor
from loom.core.errors import (
    FieldError,
    LoomError,
    RuleViolation,
    RuleViolations,
    UnsupportedMediaType,
    ValidationError,
)
from loom.core.http import (
    PROBLEM_CONTENT_TYPE,
    ListSettings,
    Query,
    new_trace_id,
    problem_details,
    request_binder,
    to_camel,
)
from loom.core.interface import RouteSpec
from loom.core.logging import logger
from loom.core.security import PRINCIPAL_KEY, Principal, RequestInfo
from loom.rest._case import camel_keys, snake_keys
from loom.rest._metrics import RestMetrics

__all__ = [
    "JSON",
    "Endpoint",
    "HttpResponse",
    "camel_fields",
    "problem_response",
    "query_pairs",
]

JSON = "application/json"
_encoder = msgspec.json.Encoder()
_json_decoder = msgspec.json.Decoder()


class HttpResponse(NamedTuple):
    """What an adapter sends: status, body bytes, media type, extra headers."""

    status: int
    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...] = ()


def problem_response(error: BaseException, *, instance: str | None = None) -> HttpResponse:
    """The RFC 9457 response for ``error``; the trace id goes in a header too."""
    trace_id = new_trace_id()
    status, body = problem_details(error, trace_id=trace_id, instance=instance)
    return HttpResponse(
        status, _encoder.encode(body), PROBLEM_CONTENT_TYPE, (("x-trace-id", trace_id),)
    )


def query_pairs(raw: bytes) -> list[tuple[str, str]]:
    """A raw query string as ``(name, value)`` pairs, in the order sent (blank values kept).

    Adapters parse the query with this instead of their framework's multi-dict, which may
    group repeated names and so reorder the ``errors`` of a 422. The result is always that
    of ``urllib.parse.parse_qsl(..., keep_blank_values=True)``.
    """
    if not raw:
        return []
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True)
    # Nothing to unquote: split as parse_qsl does (empty pieces skipped, "a" is "a=").
    pairs: list[tuple[str, str]] = []
    for piece in text.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((name, value))
    return pairs


def _last_values(query: Query) -> dict[str, str]:
    if isinstance(query, Mapping):
        return {k: v if isinstance(v, str) else (v[-1] if v else "") for k, v in query.items()}
    return dict(query)


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


def _camel_path(path: str) -> str:
    return ".".join(to_camel(part) for part in path.split("."))


def camel_fields(error: ValidationError) -> ValidationError:
    """``error`` with its field paths in camelCase, as a camelCase client sent them."""
    renamed: list[FieldError] = []
    changed = False
    for item in error.errors:
        field = _camel_path(item.field)
        changed = changed or field != item.field
        renamed.append(FieldError(field, item.message))
    if not changed:
        return error
    if isinstance(error, RuleViolations):
        return RuleViolations([RuleViolation(e.message, field=e.field) for e in renamed])
    if type(error) is not ValidationError:
        return error
    automatic = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in error.errors)
    return ValidationError(error.message if error.message != automatic else "", errors=renamed)


class Endpoint:
    """Serves one :class:`RouteSpec`: auth, binding, the use case, encoding, errors."""

    __slots__ = (
        "_access_log",
        "_auth",
        "_binder",
        "_camel",
        "_executor",
        "_metrics",
        "_no_content",
        "_observed",
        "_plan",
        "_span_attributes",
        "_span_name",
        "_status",
        "has_body",
        "method",
        "needs_client",
        "path",
        "spec",
    )

    def __init__(
        self,
        spec: RouteSpec,
        executor: Executor,
        *,
        settings: ListSettings,
        camel: bool,
        auth: Callable[[RequestInfo], Any] | None,
        metrics: RestMetrics | None,
        access_log: bool,
    ) -> None:
        self.spec = spec
        self.method = spec.method
        self.path = spec.path
        self.has_body = spec.body_type is not None
        self._executor = executor
        self._binder = request_binder(spec, settings)
        self._camel = camel
        self._auth = auth
        self._metrics = metrics
        self._access_log = access_log
        # Everything a request would otherwise recompute, decided once here.
        self.needs_client = auth is not None
        self._observed = metrics is not None or access_log
        self._plan = spec.plan
        self._status = spec.status_code
        self._no_content = spec.status_code == 204
        self._span_name = f"HTTP {self.method} {self.path}"
        self._span_attributes = {"http.method": self.method, "http.route": self.path}

    async def _principal(
        self, headers: Mapping[str, str], query: Query, client: str | None
    ) -> Principal | None:
        assert self._auth is not None
        info = RequestInfo(
            method=self.method,
            path=self.path,
            headers=headers,
            query=_last_values(query),
            client=client,
        )
        result = self._auth(info)
        if inspect.isawaitable(result):
            result = await result
        return result  # type: ignore[no-any-return]

    def _payload(self, body: bytes, content_type: str | None) -> Any:
        if not body:
            return None
        if not _is_json(content_type):
            raise UnsupportedMediaType(f"send the body as {JSON}, not {content_type}")
        if not self._camel:
            return body
        try:
            data = _json_decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise ValidationError(errors=[FieldError("", f"malformed JSON: {exc}")]) from None
        return snake_keys(data)

    def _encode(self, result: Any) -> bytes:
        if self._camel:
            return _encoder.encode(camel_keys(msgspec.to_builtins(result)))
        return _encoder.encode(result)

    async def _run(self, params: dict[str, Any], payload: Any) -> Any:
        try:
            if tracing.is_enabled():
                with tracing.span(self._span_name, self._span_attributes):
                    return await self._executor.run(self._plan, params=params, payload=payload)
            return await self._executor.run(self._plan, params=params, payload=payload)
        except ValidationError as exc:
            # The executor names body fields in Python spelling; a camelCase client sent
            # camelCase (query parameters were already named as sent by the binder).
            if self._camel and exc.errors:
                raise camel_fields(exc) from None
            raise

    async def handle(
        self,
        path_params: Mapping[str, str],
        query: Query,
        headers: Mapping[str, str],
        body: bytes | Callable[[], Awaitable[bytes]],
        *,
        client: str | None = None,
    ) -> HttpResponse:
        """Answer one request; never raises (errors become problem responses)."""
        started = time.perf_counter() if self._observed else 0.0
        outcome = "ok"
        try:
            # Authenticate first: an anonymous caller learns nothing from validation errors.
            if self._auth is not None:
                principal = await self._principal(headers, query, client)
                params = self._binder.bind(path_params, query)
                params[PRINCIPAL_KEY] = principal
            else:
                params = self._binder.bind(path_params, query)
            payload = None
            if self.has_body:
                raw = body if isinstance(body, bytes) else await body()
                payload = self._payload(raw, headers.get("content-type"))
            result = await self._run(params, payload)
            status = self._status
            if self._no_content or (result is None and status < 300 and status != 200):
                response = HttpResponse(status, b"", JSON)
            else:
                response = HttpResponse(status, self._encode(result), JSON)
        except Exception as exc:  # noqa: BLE001 - every error becomes a problem response
            outcome = exc.code if isinstance(exc, LoomError) else "internal_error"
            response = problem_response(exc)
        if self._observed:
            self._observe(response.status, outcome, time.perf_counter() - started)
        return response

    def _observe(self, status: int, outcome: str, elapsed: float) -> None:
        if self._metrics is not None:
            self._metrics.observe(self.path, self.method, status, self._plan.name, outcome, elapsed)
        if self._access_log:
            logger.info(
                "{method} {path} {status} {ms:.1f}ms",
                method=self.method,
                path=self.path,
                status=status,
                ms=elapsed * 1000,
            )
