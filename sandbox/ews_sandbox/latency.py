"""A latency model, so a benchmark against the sandbox can stand for a real server some distance away.

Every EWS round trip (NTLM's 401 legs included) costs ``request_ms``, and an operation ``item_ms``
per item it names or carries (the request log's ``items``): the answer leaves that much later, after
the operation has run and committed, as a distant server's answer arrives later. Both can be set per
operation. Not a fault: it stays until changed.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Cost:
    request_ms: float = 0.0
    item_ms: float = 0.0


@dataclass(frozen=True)
class LatencySettings:
    request_ms: float = 0.0
    item_ms: float = 0.0
    operations: dict = field(default_factory=dict)   # operation name -> Cost, overriding the two above

    def cost(self, operation: str | None) -> Cost:
        return self.operations.get(operation) or Cost(self.request_ms, self.item_ms)

    def to_json(self) -> dict:
        return asdict(self)


class LatencyModel:
    """The current settings; replaced as a whole, so request threads always read a consistent one."""

    def __init__(self, settings: LatencySettings | None = None):
        self._settings = settings or LatencySettings()
        self._lock = threading.Lock()

    @property
    def settings(self) -> LatencySettings:
        return self._settings

    def update(self, data: dict) -> LatencySettings:
        """Change the settings named in ``data`` ({"request_ms", "item_ms", "operations": {name: {...}}});
        ValueError names what is wrong. ``operations`` replaces every per-operation setting."""
        unknown = sorted(set(data) - {"request_ms", "item_ms", "operations"})
        if unknown:
            raise ValueError(f"unknown latency field(s): {', '.join(unknown)}")
        with self._lock:
            current = self._settings
            operations = current.operations
            if "operations" in data:
                if not isinstance(data["operations"], dict):
                    raise ValueError("'operations' must map an operation name to {\"request_ms\", \"item_ms\"}")
                operations = {name: _cost(spec, f"operations.{name}") for name, spec in data["operations"].items()}
            base = _cost({key: data.get(key, getattr(current, key)) for key in ("request_ms", "item_ms")}, "latency")
            self._settings = LatencySettings(base.request_ms, base.item_ms, operations)
            return self._settings


def _cost(spec, where: str) -> Cost:
    if not isinstance(spec, dict) or set(spec) - {"request_ms", "item_ms"}:
        raise ValueError(f"'{where}' takes request_ms and item_ms")
    for key, value in spec.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"'{where}.{key}' must be a non-negative number of milliseconds")
    return Cost(float(spec.get("request_ms", 0)), float(spec.get("item_ms", 0)))


def parse_operation_latency(text: str) -> tuple[str, dict]:
    """``OPERATION=REQUEST_MS[,ITEM_MS]`` (the --operation-latency option) -> (operation, cost spec)."""
    operation, sep, costs = text.partition("=")
    parts = costs.split(",")
    if not sep or not operation or not 1 <= len(parts) <= 2:
        raise ValueError(f"expected OPERATION=REQUEST_MS[,ITEM_MS], got {text!r}")
    values = [float(part) for part in parts]
    return operation, {"request_ms": values[0], "item_ms": values[1] if len(values) == 2 else 0.0}
