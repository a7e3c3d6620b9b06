"""What one chaos trial does, drawn from its seed: drafts, runs, faults, user actions, latency, Outbox delay.

A plan is plain data, so a trial is replayed from its seed alone (the timing of the processes is not).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

BACKENDS = ("ews", "graph")
# Every fault kind of the sandbox for EWS (ews_sandbox.faults.API_KINDS["ews"]), with the fields each one draws.
FAULT_KINDS = ("server_busy", "http_503", "drop_after_commit", "delay", "soap_fault", "html_error", "item_error",
               "http_502_after_commit", "http_504_after_commit", "truncated_after_commit")
# Operations the module sends (and the user's UpdateItem / MoveItem); None: any operation.
FAULT_OPERATIONS = ("GetItem", "UpdateItem", "SendItem", "FindItem", None)
# Every fault kind of the sandbox for Microsoft Graph (API_KINDS["graph"]): they hit Graph requests only.
GRAPH_FAULT_KINDS = ("http_429", "http_503", "graph_error", "delay", "drop_after_commit", "http_502_after_commit",
                     "http_504_after_commit", "truncated_after_commit")
# The Graph requests send_item makes, by the sandbox's operation names: the requests inside a $batch (read and the
# ChangeKey check before the send: GetMessage; stamp, release and the If-Match probe: UpdateMessage; send:
# SendMessage; the search by marker: ListMessages), or the $batch as a whole (Batch); None: any, the batch first.
GRAPH_FAULT_OPERATIONS = ("GetMessage", "UpdateMessage", "SendMessage", "ListMessages", "Batch", None)
# graph_error: (HTTP status, code). 412 ErrorIrresolvableConflict, as Graph has been seen to answer even requests
# without a precondition (sandbox/README.md, If-Match); 500, an answer that proves nothing (it may have been processed).
GRAPH_ERRORS = ((412, "ErrorIrresolvableConflict"), (500, "ErrorInternalServerError"))
# Whether Graph honours If-Match on a message write: the documentation is silent, the sandbox plays either.
IF_MATCH_READINGS = ("ignored", "honoured")
# Codes an injected item Error or SOAP fault carries: refusals that stop a batch or a request. Never
# ErrorItemNotFound, ErrorStaleObject or ErrorIrresolvableConflict: the protocol trusts those to describe the item.
REFUSAL_CODES = ("ErrorQuotaExceeded", "ErrorInternalServerError", "ErrorMailboxStoreUnavailable",
                 "ErrorInsufficientResources")
# Where users and inbox rules move drafts.
MOVE_FOLDERS = ("inbox", "deleteditems", "sentitems")
PENDING_TIMEOUTS = (0, 0, 1, 2, 5, 120)
# Mostly short deadlines keep trials short; a few long ones let slow faults play out.
DEADLINES = (2, 3, 3, 4, 5, 6, 8, 10, 15, 20)
BATCH_SIZES = (1, 2, 3, 5, 100)


@dataclass
class RunPlan:
    index: int
    drafts: list[int]          # indexes into the trial's drafts, in the order given to the module
    pinned: list[bool]         # pass {id, change_key} rather than the id
    # a pinned id passed as the draft_ids lookup returns it (is_draft, send_state, mailbox too): the module
    # then skips reading it first
    as_lookup: list[bool]
    batch_size: int
    pending_timeout: int
    save_copy: bool
    deadline: int
    start_at: float            # seconds after the trial starts
    kill_after: float | None   # kill -9 this many seconds after it started (if still running)


@dataclass
class FaultPlan:
    at: float                  # seconds after the trial starts
    kind: str
    operation: str | None
    times: int
    fields: dict = field(default_factory=dict)

    def hold(self) -> float:
        """The longest this fault holds one request up, in seconds (a back-off or Retry-After: the retry's wait)."""
        return {"delay": self.fields.get("delay_ms", 0) / 1000,
                "server_busy": self.fields.get("back_off_ms", 0) / 1000,
                "http_503": self.fields.get("retry_after", 0),
                "http_429": self.fields.get("retry_after", 0),
                "http_502_after_commit": self.fields.get("delay_ms", 0) / 1000,
                "http_504_after_commit": self.fields.get("delay_ms", 0) / 1000}.get(self.kind, 0)


@dataclass
class UserActionPlan:
    at: float
    kind: str                  # "edit" (UpdateItem of the subject) or "move" (MoveItem to ``folder``)
    draft: int
    folder: str | None = None


@dataclass
class TrialPlan:
    seed: int
    drafts: int
    runs: list[RunPlan]
    faults: list[FaultPlan]
    user_actions: list[UserActionPlan]
    latency_ms: float
    item_latency_ms: float
    submission_delay_ms: int
    backend: str = "ews"           # "ews" (SOAP, NTLM) or "graph" (api: graph, app credentials)
    if_match: str | None = None    # graph: the sandbox's reading of If-Match, "ignored" or "honoured"

    def stall(self) -> float:
        """The longest the trial's faults can hold up a run, all of them hitting its requests."""
        return sum(fault.hold() * fault.times for fault in self.faults)

    def longest_hold(self) -> float:
        """The longest one request can be held up: a request hits at most one fault."""
        return max([fault.hold() for fault in self.faults], default=0.0)


def fault_fields(rng: random.Random, kind: str) -> dict:
    if kind == "http_429":
        return {"retry_after": rng.choice((0, 1, 2))}
    if kind == "graph_error":
        status, code = rng.choice(GRAPH_ERRORS)
        return {"status": status, "code": code}
    if kind == "server_busy":
        return {"back_off_ms": rng.choice((50, 200, 800, 1500))}
    if kind == "http_503":
        return {"retry_after": rng.choice((0, 1, 2))}
    if kind == "delay":
        # 5 s: longer than most deadlines, so a request that outlives its run's deadline shows.
        return {"delay_ms": rng.choice((100, 500, 1000, 2500, 5000))}
    if kind in ("http_502_after_commit", "http_504_after_commit"):
        return {"delay_ms": rng.choice((0, 200, 1000))}
    if kind == "truncated_after_commit":
        return {"body_bytes": rng.choice((None, 0, 100, 400))}
    if kind == "soap_fault":
        return {"code": rng.choice(REFUSAL_CODES)}
    if kind == "item_error":
        return {"code": rng.choice(REFUSAL_CODES), "position": rng.randint(1, 3)}
    return {}


def draw(seed: int, backend: str = "ews") -> TrialPlan:
    """The plan of the trial with this seed on this backend (an EWS plan is what it was before Graph came)."""
    if backend not in BACKENDS:
        raise ValueError("backend must be one of %s" % ", ".join(BACKENDS))
    kinds, operations = (GRAPH_FAULT_KINDS, GRAPH_FAULT_OPERATIONS) if backend == "graph" else (
        FAULT_KINDS, FAULT_OPERATIONS)
    rng = random.Random(seed)
    # A stream of its own, so that adding this choice did not change the rest of every trial's plan.
    lookup_rng = random.Random(seed ^ 0x5EED)
    drafts = rng.randint(2, 10)
    runs = []
    for index in range(rng.randint(1, 8)):
        chosen = rng.sample(range(drafts), rng.randint(1, drafts))
        pin_rate = rng.choice((0.0, 0.5, 1.0))
        deadline = rng.choice(DEADLINES)
        killed = rng.random() < 0.25
        runs.append(RunPlan(
            index=index, drafts=chosen, pinned=[rng.random() < pin_rate for _ in chosen],
            as_lookup=[lookup_rng.random() < 0.5 for _ in chosen],
            batch_size=rng.choice(BATCH_SIZES), pending_timeout=rng.choice(PENDING_TIMEOUTS),
            save_copy=rng.random() >= 0.15, deadline=deadline, start_at=round(rng.uniform(0, 1.5), 3),
            kill_after=round(rng.uniform(0.3, min(deadline, 4)), 3) if killed else None))
    faults = []
    for _ in range(rng.choice((0, 1, 2, 2, 3, 4))):
        kind = rng.choice(kinds)
        faults.append(FaultPlan(at=0.0 if rng.random() < 0.5 else round(rng.uniform(0, 3), 3), kind=kind,
                                operation=rng.choice(operations), times=rng.choice((1, 1, 2, 3)),
                                fields=fault_fields(rng, kind)))
    user_actions = []
    for _ in range(rng.choice((0, 0, 1, 2, 3))):
        kind = rng.choice(("edit", "edit", "move"))
        user_actions.append(UserActionPlan(at=round(rng.uniform(0, 3), 3), kind=kind, draft=rng.randrange(drafts),
                                           folder=rng.choice(MOVE_FOLDERS) if kind == "move" else None))
    return TrialPlan(seed=seed, drafts=drafts, runs=runs, faults=faults,
                     user_actions=sorted(user_actions, key=lambda action: action.at),
                     latency_ms=rng.choice((0, 0, 5, 20)), item_latency_ms=rng.choice((0, 0, 0.5)),
                     submission_delay_ms=rng.choice((0, 0, 200, 1000, 2000)), backend=backend,
                     if_match=random.Random(seed ^ 0x1F3A7C).choice(IF_MATCH_READINGS) if backend == "graph" else None)
