"""The ``/_sandbox/*`` JSON endpoints tests and benchmarks use to steer and inspect the sandbox."""

from __future__ import annotations

import base64
import json

from .faults import Fault
from .graph.settings import GraphSettings

SEED_FIELDS = {"mailbox", "folder", "count", "subject", "to", "item_class", "extended_properties"}


class AdminError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def handle(app, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, object]:
    """Answer one admin request: (HTTP status, JSON-serialisable payload)."""
    route = ROUTES.get((method, path))
    if route is None:
        methods = sorted(m for m, p in ROUTES if p == path)
        if methods:
            return 405, {"error": f"use {' or '.join(methods)} on /_sandbox/{path}"}
        return 404, {"error": f"no admin endpoint /_sandbox/{path}"}
    try:
        # A GET changes nothing, whatever body it carries.
        return 200, route(app, query, _json_body(body) if method != "GET" else {})
    except AdminError as exc:
        return exc.status, {"error": str(exc)}
    except (ValueError, TypeError, KeyError) as exc:
        return 400, {"error": str(exc)}


def _json_body(body: bytes):
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError as exc:
        raise AdminError(400, f"the body is not JSON: {exc}") from None


def _since(query: dict[str, list[str]]) -> int:
    try:
        return int(query.get("since", ["0"])[0])
    except ValueError:
        raise AdminError(400, "'since' must be an integer sequence number") from None


def health(app, query, data):
    return {"ok": True}


def add_fault(app, query, data):
    fault = Fault.from_json(data)
    app.faults.add(fault)
    return {"ok": True, "faults": app.faults.pending()}


def list_faults(app, query, data):
    return {"faults": app.faults.pending()}


def clear_faults(app, query, data):
    app.faults.clear()
    return {"ok": True}


def requests_log(app, query, data):
    return app.requests.since(_since(query))


def deliveries(app, query, data):
    return app.delivery.log(_since(query))


def delivery_mime(app, query, data):
    """{"seq", "mime": base64 of the Internet message delivery ``seq`` carried}; 404 for an unknown seq."""
    try:
        seq = int(query.get("seq", [""])[0])
    except ValueError:
        raise AdminError(400, "'seq' must be a delivery log sequence number") from None
    mime = app.delivery.mime(seq)
    if mime is None:
        raise AdminError(404, f"no delivery {seq} in the delivery log")
    return {"seq": seq, "mime": base64.b64encode(mime).decode("ascii")}


def seed(app, query, data):
    if not isinstance(data, dict):
        raise AdminError(400, "the seed request must be a JSON object")
    unknown = sorted(set(data) - SEED_FIELDS)
    if unknown:
        raise AdminError(400, f"unknown seed field(s): {', '.join(unknown)}")
    mailbox = data.get("mailbox")
    if not isinstance(mailbox, str) or app.directory.by_smtp(mailbox) is None:
        raise AdminError(400, f"'mailbox' must be the SMTP address of a sandbox user, not {mailbox!r}")
    count = data.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise AdminError(400, "'count' must be a positive integer")
    created = app.store.seed(**data)
    return {"ids": [{"id": item_id, "change_key": change_key} for item_id, change_key in created]}


def reset(app, query, data):
    app.store.reset()
    app.delivery.reset()
    app.requests.clear()
    app.faults.clear()
    app.graph.settings.update(GraphSettings().to_json())
    app.graph.sends.clear()
    return {"ok": True}


def graph(app, query, data):
    """GET: the Graph settings; POST: change the ones given (if_match, batch_concurrency, token_lifetime_s)."""
    return app.graph.settings.update(data).to_json()


def graph_sends(app, query, data):
    """The sends Graph accepted after ``since``: {"seq", "marker", "client_request_id", "time"} (server.SendLog)."""
    return app.graph.sends.since(_since(query))


def outbox(app, query, data):
    """GET: the submission delay and the messages waiting in Outboxes; POST {"delay_ms": N}: set the delay."""
    if "delay_ms" in data:
        delay = data["delay_ms"]
        if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
            raise AdminError(400, "'delay_ms' must be a non-negative integer")
        app.submitter.delay_ms = delay
    unknown = sorted(set(data) - {"delay_ms"})
    if unknown:
        raise AdminError(400, f"unknown outbox field(s): {', '.join(unknown)}")
    return {"delay_ms": app.submitter.delay_ms, "pending": app.submitter.pending()}


def limits(app, query, data):
    """GET: the size limits; POST: change the ones given (limits.Limits)."""
    return app.limits.update(data).to_json()


def latency(app, query, data):
    """GET: the latency model; POST: change the fields given (``operations`` replaces every per-operation one)."""
    return app.latency.update(data).to_json() if data else app.latency.settings.to_json()


def wait_for_outbox(app, query, data):
    """Return once every submitted message is delivered; 409 after ``timeout_ms`` (default 30000) if not."""
    timeout_ms = data.get("timeout_ms", 30000)
    if not isinstance(timeout_ms, int) or isinstance(timeout_ms, bool) or timeout_ms < 0:
        raise AdminError(400, "'timeout_ms' must be a non-negative integer")
    if not app.submitter.wait_until_drained(timeout_ms / 1000):
        pending = app.submitter.pending()
        raise AdminError(409, f"{len(pending)} submitted message(s) still in an Outbox after {timeout_ms} ms")
    return {"pending": []}


def quirks(app, query, data):
    if "delegate_quirks" in data:
        if not isinstance(data["delegate_quirks"], bool):
            raise AdminError(400, "'delegate_quirks' must be true or false")
        app.store.delegate_quirks = data["delegate_quirks"]
    return {"delegate_quirks": app.store.delegate_quirks}


ROUTES = {
    ("GET", "health"): health,
    ("POST", "faults"): add_fault,
    ("GET", "faults"): list_faults,
    ("DELETE", "faults"): clear_faults,
    ("GET", "requests"): requests_log,
    ("GET", "deliveries"): deliveries,
    ("GET", "deliveries/mime"): delivery_mime,
    ("POST", "seed"): seed,
    ("POST", "reset"): reset,
    ("POST", "quirks"): quirks,
    ("GET", "quirks"): quirks,
    ("GET", "outbox"): outbox,
    ("POST", "outbox"): outbox,
    ("POST", "outbox/wait"): wait_for_outbox,
    ("GET", "limits"): limits,
    ("POST", "limits"): limits,
    ("GET", "latency"): latency,
    ("POST", "latency"): latency,
    ("GET", "graph"): graph,
    ("POST", "graph"): graph,
    ("GET", "graph/sends"): graph_sends,
}
