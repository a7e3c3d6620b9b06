"""Injected faults: what the next matching EWS request(s) should suffer instead of a normal answer."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields

KINDS = ("server_busy", "http_503", "drop_after_commit", "delay", "soap_fault", "html_error",
         "http_502_after_commit", "http_504_after_commit", "truncated_after_commit", "item_error", "http_429", "graph_error")
# The API a fault hits: EWS (SOAP) or Microsoft Graph; each takes these kinds.
API_KINDS = {
    "ews": frozenset(KINDS) - {"http_429", "graph_error"},
    "graph": frozenset({"http_429", "http_503", "graph_error", "delay", "drop_after_commit", "http_502_after_commit",
                        "http_504_after_commit", "truncated_after_commit"}),
}
# Kinds that let the operation run and commit, then spoil its answer.
AFTER_COMMIT = frozenset({"drop_after_commit", "http_502_after_commit", "http_504_after_commit", "truncated_after_commit"})


@dataclass
class Fault:
    kind: str
    operation: str | None = None   # only requests for this operation (e.g. "SendItem", "SendMessage"); None = any
    api: str = "ews"               # "ews" or "graph": the requests it hits
    times: int = 1                 # how many requests it hits; 0 = until cleared
    back_off_ms: int = 500         # server_busy: BackOffMilliseconds
    retry_after: int = 1           # http_503: Retry-After seconds
    delay_ms: int = 0              # delay: time before the (normal) answer; http_50x_after_commit: after the commit
    code: str = "ErrorInternalServerError"  # soap_fault, item_error: the ResponseCode
    position: int = 1              # item_error: the (1-based) item of the request that fails
    body_bytes: int | None = None  # truncated_after_commit: bytes of the body sent (None: half of it)
    status: int = 500              # graph_error: the HTTP status

    @classmethod
    def from_json(cls, data: dict) -> "Fault":
        """Build from an admin request body; ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a fault must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        if data.get("kind") not in KINDS:
            raise ValueError(f"'kind' must be one of {', '.join(KINDS)}")
        fault = cls(**data)
        if fault.api not in API_KINDS:
            raise ValueError(f"'api' must be one of {', '.join(API_KINDS)}")
        if fault.kind not in API_KINDS[fault.api]:
            raise ValueError(f"kind {fault.kind!r} does not apply to api {fault.api!r}")
        if not isinstance(fault.status, int) or isinstance(fault.status, bool) or not 400 <= fault.status <= 599:
            raise ValueError("'status' must be an HTTP error status (400-599)")
        for name in ("times", "back_off_ms", "retry_after", "delay_ms", "body_bytes"):
            value = getattr(fault, name)
            if name == "body_bytes" and value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"'{name}' must be a non-negative integer")
        if fault.operation is not None and not isinstance(fault.operation, str):
            raise ValueError("'operation' must be an operation name such as SendItem")
        if not isinstance(fault.position, int) or isinstance(fault.position, bool) or fault.position < 1:
            raise ValueError("'position' must be a positive integer (1 is a request's first item)")
        if not isinstance(fault.code, str) or not fault.code:
            raise ValueError("'code' must be an EWS ResponseCode such as ErrorInternalServerError")
        return fault

    def to_json(self) -> dict:
        return asdict(self)


class FaultRegistry:
    """Faults in the order they were added; the first matching one is consumed per request."""

    def __init__(self):
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def take(self, operation: str, api: str = "ews") -> Fault | None:
        """The fault this request suffers, if any; counts it against the fault's ``times``."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.api == api and fault.operation in (None, operation):
                    if fault.times == 1:
                        del self._faults[index]
                    elif fault.times > 1:
                        fault.times -= 1
                    return fault
        return None
