"""Graph's side of the HTTP server: the identity platform's paths and ``/v1.0/...``, with bearer tokens verified,
the request log, the latency model, injected faults (``api: graph``) and the mailbox concurrency limit."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..faults import AFTER_COMMIT, Fault
from ..operations.update_item import CONFLICT
from . import batch, mail
from .apps import Apps, load_apps
from .errors import GraphError
from .identity import Caller, Identity, TokenRejected, is_identity_path
from .settings import GraphSettings
from .throttling import MailboxConcurrency

log = logging.getLogger(__name__)

VERSION_PREFIX = "/v1.0"
BATCH_PATH = "/$batch"
# Messages for the Exchange codes a graph_error fault is commonly given (any other: "Injected fault <code>.").
FAULT_MESSAGES = {CONFLICT[0]: CONFLICT[1],
                  "ErrorInternalServerError": "An internal server error occurred. The operation failed.",
                  "ServiceUnavailable": "The service is temporarily unavailable. Please retry later."}


class SendLog:
    """Every send Graph accepted (a 202 committed, whatever became of its answer): the message's send marker and
    the ``client-request-id`` of the request that sent it. Ground truth for tests: Graph's send takes no ChangeKey,
    so the send state a delivery carries need not be the sender's; this says which request sent it. In memory
    (``POST /_sandbox/reset`` empties it); it changes nothing any client sees."""

    def __init__(self):
        self._entries: list[dict] = []
        self._lock = threading.Lock()

    def record(self, marker: str | None, client_request_id: str | None) -> None:
        with self._lock:
            self._entries.append({"seq": len(self._entries) + 1, "marker": marker,
                                  "client_request_id": client_request_id, "time": time.time()})

    def since(self, seq: int = 0) -> list[dict]:
        with self._lock:
            return [dict(entry) for entry in self._entries[seq:]]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class GraphService:
    apps: Apps
    identity: Identity
    settings: GraphSettings
    concurrency: MailboxConcurrency
    sends: SendLog = field(default_factory=SendLog)


def build_service(data_dir: Path, users_file: Path, directory) -> GraphService:
    """Graph's part of the sandbox, from the users file's app registrations; UsersFileError for bad ones."""
    apps = load_apps(users_file, directory)
    settings = GraphSettings()
    return GraphService(apps, Identity(data_dir, apps, settings), settings, MailboxConcurrency())


def handles(path: str) -> bool:
    return path == VERSION_PREFIX or path.startswith(VERSION_PREFIX + "/") or is_identity_path(path)


def fault_error(fault: Fault) -> GraphError | None:
    """The answer a fault taken before the operation gives instead of it (None: the operation runs)."""
    retry_after = (("Retry-After", str(fault.retry_after)),)
    if fault.kind == "http_429":
        return GraphError(429, "TooManyRequests", "Please retry again later.", retry_after)
    if fault.kind == "http_503":
        return GraphError(503, "ServiceUnavailable", FAULT_MESSAGES["ServiceUnavailable"], retry_after)
    if fault.kind == "graph_error":
        return GraphError(fault.status, fault.code, FAULT_MESSAGES.get(fault.code, f"Injected fault {fault.code}."),
                          retry_after if fault.status in (429, 503) else ())
    if fault.kind == "delay":
        time.sleep(fault.delay_ms / 1000)
    return None


def serve(handler, method: str, url, body: bytes) -> None:
    """Answer one request to a Graph or identity path (``handler``: the http_server request handler)."""
    app = handler.server.app
    base = f"{'https' if handler.server.ssl_context else 'http'}://{handler.headers.get('Host', '')}"
    if is_identity_path(url.path):
        started = time.perf_counter()
        handler.latency_seconds = app.latency.settings.cost("Token").request_ms / 1000
        status, data = app.graph.identity.answer(method, url.path, url.query, body, base)
        if url.path.endswith("/token"):
            app.requests.record("Token", None, None, 0, status, (time.perf_counter() - started) * 1000)
        handler._send(status, json.dumps(data).encode(), "application/json; charset=utf-8",
                      [("Cache-Control", "no-store, no-cache")])
        return
    RoundTrip(handler, base + VERSION_PREFIX).run(method, url.path[len(VERSION_PREFIX):], url.query, body)


class RoundTrip:
    """One Graph HTTP request, from its bearer token to its answer (or the lost answer a fault makes of it)."""

    def __init__(self, handler, base: str):
        self.handler = handler
        self.app = handler.server.app
        self.base = base
        self.started = time.perf_counter()
        self.request_id = str(uuid.uuid4())
        self.headers = {name.lower(): value for name, value in handler.headers.items()}

    def run(self, method: str, path: str, query: str, body: bytes) -> None:
        app, graph = self.app, self.app.graph
        self.handler.latency_seconds = app.latency.settings.cost(None).request_ms / 1000
        operation = mailbox = caller = fault = slot = None
        items = 0
        try:
            caller = self._caller()
            request = mail.GraphRequest(method, path, query, self.headers, _json(body))
            if path == BATCH_PATH:
                if method != "POST":
                    raise GraphError(405, "BadRequest", f"The HTTP method '{method}' is not allowed for $batch.")
                operation, items = "Batch", batch.size(request)
                self._set_latency(operation, items)
                fault = self.app.faults.take(operation, api="graph")
                _raise_for(fault)
                response, inner_fault = batch.run(self, caller, request)
                fault = fault or inner_fault
            else:
                route = mail.route(request, app.directory)
                operation, mailbox, items = route.operation, route.mailbox, route.items
                self._set_latency(operation, items)
                mail.authorize(caller, route)
                slot = graph.concurrency.acquire(caller.app.client_id, mailbox)
                fault = self.app.faults.take(operation, api="graph")    # one that got this far
                response = self.execute(caller, route, request, fault)
        except TokenRejected as rejected:
            response = self.error(GraphError(401, "InvalidAuthenticationToken", str(rejected), (
                ("WWW-Authenticate", f'Bearer realm="", authorization_uri="{self.base.rsplit("/", 1)[0]}/common/oauth2/'
                                     'authorize", client_id="00000003-0000-0000-c000-000000000000"'),)))
        except GraphError as error:
            response = self.error(error)
        except Exception:
            log.exception("Graph %s %s failed", method, path)
            response = self.error(GraphError(500, "ErrorInternalServerError", FAULT_MESSAGES["ErrorInternalServerError"]))
        try:
            self._answer(response, fault, operation, caller, mailbox, items)
        finally:
            if slot is not None:
                graph.concurrency.release(slot)

    def _caller(self) -> Caller:
        scheme, _, token = self.headers.get("authorization", "").strip().partition(" ")
        return self.app.graph.identity.verify(token.strip() if scheme.lower() == "bearer" else "")

    def _set_latency(self, operation: str, items: int) -> None:
        cost = self.app.latency.settings.cost(operation)
        self.handler.latency_seconds = (cost.request_ms + items * cost.item_ms) / 1000

    def execute(self, caller: Caller, route: mail.Route, request: mail.GraphRequest,
                fault: Fault | None = None) -> mail.GraphResponse:
        """Run an authorized operation, unless ``fault`` (taken for it) answers instead."""
        _raise_for(fault)
        context = mail.MailContext(self.app.graph, self.app, caller, route.mailbox, request, self.base)
        with self.app.submitter.paused():
            return route.run(context)

    def error(self, error: GraphError) -> mail.GraphResponse:
        return mail.GraphResponse(error.status, error.body(self.request_id, self.headers.get("client-request-id")),
                                  error.headers)

    def _response_headers(self, response: mail.GraphResponse) -> list[tuple[str, str]]:
        return [("request-id", self.request_id), ("client-request-id", self.headers.get("client-request-id") or
                                                 self.request_id), ("Cache-Control", "private"), *response.headers]

    def _answer(self, response: mail.GraphResponse, fault: Fault | None, operation: str | None, caller: Caller | None,
                mailbox: str | None, items: int) -> None:
        data = json.dumps(response.body).encode() if response.body is not None else b""
        login = caller.app.name if caller else None
        if fault is not None and fault.kind in AFTER_COMMIT:
            self.handler._spoil_answer(fault, response.status, data, self.started, operation, login, mailbox, items,
                                       mail.JSON_TYPE)
            return
        self.app.requests.record(operation, login, mailbox, items, response.status,
                                 (time.perf_counter() - self.started) * 1000)
        self.handler._send(response.status, data, mail.JSON_TYPE if data else "text/plain",
                           self._response_headers(response))


def _raise_for(fault: Fault | None) -> None:
    error = fault_error(fault) if fault is not None else None
    if error is not None:
        raise error


def _json(body: bytes):
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header "
                         "is set and payload is of valid JSON format.") from None
