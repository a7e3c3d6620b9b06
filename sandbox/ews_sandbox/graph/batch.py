"""JSON batching (``POST /v1.0/$batch``): at most 20 requests; ``dependsOn`` makes them run in order and a failed
dependency answers 424; without it they run in parallel, so past the mailbox's four concurrent requests they are
throttled (429 MailboxConcurrency, see settings.batch_concurrency), and their answers come in any order (the
sandbox gives them in reverse). Each request has its own status, headers and body; the batch itself answers 200."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..faults import AFTER_COMMIT, Fault
from . import mail
from .errors import GraphError, bad_request

MAX_REQUESTS = 20


@dataclass
class Entry:
    id: str
    request: mail.GraphRequest
    depends_on: tuple[str, ...]


def size(request: mail.GraphRequest) -> int:
    body = request.body
    requests = body.get("requests") if isinstance(body, dict) else None
    return len(requests) if isinstance(requests, list) else 0


def _entries(body) -> list[Entry]:
    """The batch's requests, checked as Graph checks them before running any; GraphError 400 otherwise."""
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise bad_request("BadRequest", "Invalid batch payload format.")
    if len(requests) > MAX_REQUESTS:
        raise bad_request("BadRequest", f"The number of batch requests exceeds the limit of {MAX_REQUESTS}.")
    entries: list[Entry] = []
    for raw in requests:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("method"), str) \
                or not isinstance(raw.get("url"), str):
            raise bad_request("BadRequest", "Each batch request needs a string id, method and url.")
        if any(entry.id == raw["id"] for entry in entries):
            raise bad_request("BadRequest", f"Batch request contains duplicate request id '{raw['id']}'.")
        depends_on = raw.get("dependsOn", [])
        if not isinstance(depends_on, list) or any(d not in [e.id for e in entries] for d in depends_on):
            raise bad_request("BadRequest", f"Request id '{raw['id']}' depends on a request id that does not come "
                              "before it in the batch.")
        headers = {str(name).lower(): str(value) for name, value in (raw.get("headers") or {}).items()}
        if "body" in raw and "content-type" not in headers:
            raise bad_request("BadRequest", f"Write request id : {raw['id']} does not contain Content-Type header or body.")
        url = urlsplit(raw["url"])
        if url.scheme or url.netloc:
            raise bad_request("BadRequest", f"Invalid request URL '{raw['url']}' in request id '{raw['id']}': batch "
                              "URLs are relative to the version root.")
        path = "/" + url.path.lstrip("/")
        request = mail.GraphRequest(raw["method"].upper(), path, url.query, headers, raw.get("body"))
        entries.append(Entry(raw["id"], request, tuple(depends_on)))
    return entries


def run(round_trip, caller, request: mail.GraphRequest) -> tuple[mail.GraphResponse, Fault | None]:
    """(the batch's answer, a fault taken inside it that spoils the whole answer after the commit, if any)."""
    entries = _entries(request.body)
    state = _Batch(round_trip, caller)
    if any(entry.depends_on for entry in entries):
        answers = [state.sequential(entry) for entry in entries]
    else:
        answers = state.parallel(entries)[::-1]
    return mail.GraphResponse(200, {"responses": answers}), state.spoiler


class _Batch:
    def __init__(self, round_trip, caller):
        self.round_trip = round_trip
        self.caller = caller
        self.app = round_trip.app
        self.status: dict[str, int] = {}
        self.spoiler: Fault | None = None

    def _prepare(self, entry: Entry) -> tuple[mail.Route, Fault | None]:
        route = mail.route(entry.request, self.app.directory)
        mail.authorize(self.caller, route)
        fault = self.app.faults.take(route.operation, api="graph")
        if fault is not None and fault.kind in AFTER_COMMIT:
            self.spoiler, fault = self.spoiler or fault, None
        return route, fault

    def _answer(self, entry: Entry, response: mail.GraphResponse) -> dict:
        self.status[entry.id] = response.status
        headers = {"Cache-Control": "private", **dict(response.headers)}
        answer = {"id": entry.id, "status": response.status, "headers": headers}
        if response.body is not None:
            headers["Content-Type"] = mail.JSON_TYPE
            answer["body"] = response.body
        return answer

    def _error(self, entry: Entry, error: GraphError) -> dict:
        return self._answer(entry, self.round_trip.error(error))

    def sequential(self, entry: Entry) -> dict:
        if any(self.status.get(dependency, 500) >= 400 for dependency in entry.depends_on):
            return self._error(entry, GraphError(424, "FailedDependency", "The request was not run: a request it "
                                                 "depends on failed."))
        try:
            route, fault = self._prepare(entry)
            with self.app.graph.concurrency.slot(self.caller.app.client_id, route.mailbox):
                return self._answer(entry, self.round_trip.execute(self.caller, route, entry.request, fault))
        except GraphError as error:
            return self._error(entry, error)

    def parallel(self, entries: list[Entry]) -> list[dict]:
        """Every request dispatched at once: each holds a concurrency slot while any runs (or, with
        batch_concurrency "queue", takes one in turn)."""
        if self.app.graph.settings.batch_concurrency == "queue":
            return [self.sequential(entry) for entry in entries]
        concurrency = self.app.graph.concurrency
        prepared, answers, slots = [], {}, []
        try:
            for entry in entries:
                try:
                    route, fault = self._prepare(entry)
                    slots.append(concurrency.acquire(self.caller.app.client_id, route.mailbox))
                    prepared.append((entry, route, fault))
                except GraphError as error:
                    answers[entry.id] = self._error(entry, error)
            for entry, route, fault in prepared:
                try:
                    answers[entry.id] = self._answer(entry, self.round_trip.execute(self.caller, route, entry.request,
                                                                                    fault))
                except GraphError as error:
                    answers[entry.id] = self._error(entry, error)
        finally:
            for slot in slots:
                concurrency.release(slot)
        return [answers[entry.id] for entry in entries]
