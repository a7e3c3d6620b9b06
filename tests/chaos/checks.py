"""The checks of a chaos trial against its ground truth (the sandbox's delivery log).

docs/reliability.md defines each check; the comments here say which definition a branch implements.
A delivery belongs to the draft whose marker (sha256 of its original ItemId) it carries, and to the
run that sent it (``sent_by``, trial.attribute): on EWS the run whose token was in its send state when it
was submitted (``pending:<run token>:<time>``), on Graph the run whose send request the sandbox accepted.
The same checks judge both backends; where Graph's faults or writes differ, the backend's sets say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.exchange.ews.plugins.module_utils import properties

from plan import REFUSAL_CODES
from trial import RunRecord, TrialRecord

# A run's time is counted from when the module read its arguments file (the end of Python's and the
# imports' start-up, up to a few seconds when nine processes start at once on two shared cores). After
# it, building the client before the deadline's clock starts and printing the result after it take
# well under a second; this allowance covers them. Without an access time (a noatime file system) the
# whole process counts, with START_UP_SECONDS more.
AFTER_START_UP_SECONDS = 1.0
START_UP_SECONDS = 3.0
# How long the module sleeps between two reads of a draft another run holds (ExactlyOnceSender.poll_interval).
POLL_INTERVAL = 1.0
MAY_HAVE = ("may have been sent", "may have gone out")
# Fault kinds whose answer is lost although the request may have committed (on Graph also a graph_error of 500
# or more, see ``ambiguous``).
AMBIGUOUS_KINDS = frozenset(("drop_after_commit", "http_502_after_commit", "http_504_after_commit",
                             "truncated_after_commit", "html_error"))
# Fault kinds that make Exchange refuse a whole request (after the retries, or at once): EWS, Graph.
REFUSING_KINDS = frozenset(("soap_fault", "server_busy", "http_503"))
GRAPH_REFUSING_KINDS = frozenset(("http_429", "http_503", "graph_error"))
# Codes of Graph requests refused as not processed (429, 503, a request of a $batch not sent after an earlier batch
# of the step failed), and the fault kinds that explain them. ApplicationThrottled is Graph's own answer to more than
# four concurrent requests of the app on the mailbox: concurrent runs, or one $batch of 20, meet it without a fault.
GRAPH_THROTTLING = {"TooManyRequests": {"http_429"}, "EwsThrottled": {"http_429"},
                    "ServiceUnavailable": {"http_503"}}
# The code a request of a $batch gets when it was not sent because an earlier batch of the step failed: that failure
# can be any refusal or a lost answer (graph_client.GraphClient.batch).
NOT_SENT_AFTER_A_FAILED_BATCH = frozenset(("EwsUnavailable",))
ALWAYS_POSSIBLE_ON_GRAPH = frozenset(("ApplicationThrottled",))

CATEGORIES = ("duplicate", "lost", "wrong_status", "past_deadline", "no_result")


@dataclass
class Finding:
    category: str
    seed: int
    detail: str


def send_state_token(delivery: dict) -> str | None:
    state = properties.SendState.parse(delivery.get("send_state"))
    return state.run_token if state else None


def sender_token(delivery: dict) -> str | None:
    """The run token of the send that submitted a delivery (``sent_by``; a record without it: its send state)."""
    return delivery["sent_by"] if "sent_by" in delivery else send_state_token(delivery)


def ambiguous(fault) -> bool:
    """Whether a fault (a ``FaultPlan``) loses an answer the request may have committed before."""
    return fault.kind in AMBIGUOUS_KINDS or (fault.kind == "graph_error" and fault.fields.get("status", 500) >= 500)


class TrialCheck:
    """Checks one ``TrialRecord``; ``findings`` lists what is wrong."""

    def __init__(self, trial: TrialRecord):
        self.trial = trial
        self.plan = trial.plan
        self.graph = getattr(trial.plan, "backend", "ews") == "graph"
        self.refusing_kinds = GRAPH_REFUSING_KINDS if self.graph else REFUSING_KINDS
        self.runs = trial.runs + [trial.clean]
        self.by_token = {run.token: run for run in self.runs if run.token}
        self.unreported = [run for run in self.runs if not run.token]   # killed, or ended without a result
        draft_of_marker = {properties.marker_for(d["id"]): index for index, d in enumerate(trial.drafts)}
        self.deliveries = [[] for _ in trial.drafts]      # per draft: run tokens of its deliveries
        for delivery in trial.deliveries:
            self.deliveries[draft_of_marker[delivery["marker"]]].append(sender_token(delivery))
        self.stall = self.plan.stall()
        # A request a run gave up on (or was killed during) still commits at the server, up to this much later.
        self.late_commit = self.plan.longest_hold() + self.plan.latency_ms / 1000
        # The longest a waiting run can go without a fresh read: one poll, then a read (and the rest of a
        # batch's requests) held up by every fault of the trial, the latency model, and a second of slack.
        self.claim_grace = POLL_INTERVAL + self.stall + 10 * (self.plan.latency_ms / 1000) + 1.0
        self.findings: list[Finding] = []
        self._check()

    def _add(self, category: str, detail: str) -> None:
        self.findings.append(Finding(category, self.plan.seed, detail))

    def _where(self, run: RunRecord, draft: int | None = None) -> str:
        name = "clean re-run" if run is self.trial.clean else "run %d" % run.plan.index
        return name + ("" if draft is None else ", draft %d" % draft)

    # -- the checks ---------------------------------------------------------------------------

    def _check(self) -> None:
        said_delivered = set()
        for run in self.runs:
            if run.killed:
                continue
            allowed = run.plan.deadline + AFTER_START_UP_SECONDS + (START_UP_SECONDS if run.read_args is None else 0)
            if run.hung or self.ran(run) > allowed:
                self._add("past_deadline", "%s: ran %.1f s after its start-up (%.1f s in all) with deadline %d s, "
                          "load average %.1f%s" % (self._where(run), self.ran(run), run.duration, run.plan.deadline,
                                                   self.trial.load_average,
                                                   " (killed by the harness)" if run.hung else ""))
            if run.outcome is None:
                self._add("no_result", "%s: exit %s, no JSON result: %s" % (self._where(run), run.returncode,
                                                                              run.output[-500:]))
                continue
            said_delivered |= self._check_run(run)
        for draft, tokens in enumerate(self.deliveries):
            if len(tokens) > 1:
                self._add("duplicate", "draft %d delivered %d times, by %s" % (
                    draft, len(tokens), ", ".join(self._run_name(t) for t in tokens)))
            if not tokens and draft in said_delivered:
                self._add("lost", "draft %d never delivered, but a run said sent or already_sent" % draft)

    @staticmethod
    def ran(run: RunRecord) -> float:
        """Seconds the run took after its start-up (the whole process when that is unknown)."""
        return run.duration if run.read_args is None else run.ended - run.read_args

    def _check_run(self, run: RunRecord) -> set:
        """Checks one run's results; returns the drafts it said were sent or already sent."""
        outcome = run.outcome
        draft_of_id = {}
        pinned_ids = set()
        for draft, pinned, entry in zip(run.plan.drafts, run.plan.pinned, run.item_ids):
            item_id = entry["id"] if pinned else entry
            draft_of_id[item_id] = draft
            if pinned:
                pinned_ids.add(item_id)
        counts = outcome.get("counts") or {}
        if sum(counts.values()) != len(run.item_ids):
            self._add("wrong_status", "%s: counts %r do not add up to its %d ids" % (
                self._where(run), counts, len(run.item_ids)))
        said_delivered = set()
        results = outcome.get("results")
        if results is None:
            # The task failed at a request-level failure: only the counts and the first failures are shown.
            self._check_counts(run, counts)
            results = outcome.get("failures") or []
        for result in results:
            draft = draft_of_id[result["id"]]
            if result["status"] in ("sent", "already_sent"):
                said_delivered.add(draft)
            problem = self._check_result(run, draft, result, result["id"] in pinned_ids)
            if problem:
                self._add("wrong_status", "%s: %s %s (%s): %s" % (
                    self._where(run, draft), result["status"], result["response_code"],
                    (result["message_text"] or "")[:160], problem))
        return said_delivered

    def _check_counts(self, run: RunRecord, counts: dict) -> None:
        mine = sum(1 for d in set(run.plan.drafts) if run.token in self.deliveries[d])
        others = sum(1 for d in set(run.plan.drafts) if any(t != run.token for t in self.deliveries[d]))
        if counts.get("sent", 0) > mine:
            self._add("wrong_status", "%s: counts %d sent, but only %d of its drafts went out with its stamp" % (
                self._where(run), counts["sent"], mine))
        if counts.get("already_sent", 0) > others:
            self._add("wrong_status", "%s: counts %d already sent, but only %d of its drafts went out by other runs"
                      % (self._where(run), counts["already_sent"], others))

    def _check_result(self, run: RunRecord, draft: int, result: dict, pinned: bool) -> str | None:
        """What is wrong with one result, or None."""
        status = result["status"]
        tokens = self.deliveries[draft]
        mine = run.token in tokens
        others = [t for t in tokens if t != run.token]
        if status == "sent":
            if mine:
                return None
            return "never delivered" if not tokens else "delivered by %s, not this run" % self._run_names(others)
        if status == "already_sent":
            if not tokens:
                return "never delivered"
            if not others:
                return "this very run delivered it"
            if all(self._start_bound(t, draft) > run.ended for t in others):
                return "delivered only by %s, which started after this run ended" % self._run_names(others)
            return None
        if status == "missing":
            if mine:
                return "this very run delivered it"
            if any(self._saved_a_copy(t, draft) for t in others):
                return "delivered by %s, which saves a copy that was there to find" % self._run_names(others)
            return None
        if status == "failed":
            message = result["message_text"] or ""
            if mine and not any(text in message for text in MAY_HAVE):
                return "this run's stamp went out, and the message does not say it may have been sent"
            return self._check_failure(run, draft, result, pinned, others)
        return "unexpected status"

    def _faults_before(self, run: RunRecord) -> list:
        return [f.plan for f in self.trial.faults if f.added <= run.ended]

    def _check_failure(self, run: RunRecord, draft: int, result: dict, pinned: bool, others: list) -> str | None:
        code, message = result["response_code"], result["message_text"] or ""
        faults = self._faults_before(run)
        kinds = {f.kind for f in faults}
        codes = {f.fields.get("code") for f in faults}
        lossy = any(ambiguous(f) for f in faults)
        if any(text in message for text in MAY_HAVE) and not (lossy or "delay" in kinds) \
                and self.ran(run) < run.plan.deadline:
            # "May have been sent" is honest only where an answer of this run's can have been lost: a fault that
            # loses answers, a delay, or a request whose timeout the deadline cut.
            return "says it may have been sent, but no answer of the run can have been lost"
        if "request-level failure" in message:
            if "settled before it" not in (run.outcome.get("msg") or ""):
                return "says the run stopped at a request-level failure, but the run does not report one"
            # A refusing fault, or a connection the deadline's cut timeout did not let open (EwsNotSent).
            if not kinds & self.refusing_kinds and self.ran(run) < run.plan.deadline:
                return "says the run stopped at a request-level failure, but no fault refused a request"
            return None
        if "within the deadline" in message:
            # Unsettled at the deadline: the code is the item's last setback (a conflict, a lost answer,
            # throttling, a claim it waited on), which the deadline cut short.
            if self.ran(run) < run.plan.deadline:
                return "says the deadline of %d s passed, but the run took %.1f s" % (run.plan.deadline, self.ran(run))
            if code == "EwsClaimedByAnotherRun":
                if not any(draft in other.plan.drafts for other in self.runs if other is not run):
                    return "no other run had this draft to claim"
                return self._rule7(run, draft, code, others)
            return None
        if code == "ErrorStaleObject":
            if not pinned:
                return "stale, but no change_key was given"
            if not self._changed_by_others(run, draft, kinds, message):
                return "stale, but nobody edited it, no claim of another run can have been released on it, and " \
                       "this run's stamp was answered"
            return self._rule7(run, draft, code, others)
        if code == "EwsResponseLost":
            return None if lossy else "no fault of the trial could lose an answer"
        if self.graph:
            if code in ALWAYS_POSSIBLE_ON_GRAPH:
                return None
            if code in NOT_SENT_AFTER_A_FAILED_BATCH and (lossy or kinds & self.refusing_kinds):
                return None
            if code in GRAPH_THROTTLING:
                return None if kinds & GRAPH_THROTTLING[code] else "no fault of the trial throttled a request"
            if code == "EwsNotSent":
                # The read of the ChangeKey just before the send lost its answer: nothing was sent.
                return None if lossy else "no fault of the trial could lose the read before the send"
            if code == "ErrorIrresolvableConflict":
                return None if code in codes else "no 412 was injected, and a conflict is read again"
        if code == "ErrorServerBusy":
            return None if "server_busy" in kinds else "no ErrorServerBusy was injected"
        if code == "ErrorBatchProcessingStopped":
            return None if "item_error" in kinds else "no item error was injected to stop a batch"
        if code in REFUSAL_CODES:
            return None if code in codes else "%s was never injected" % code
        return "no fault or action of the trial explains this failure"

    def _rule7(self, run: RunRecord, draft: int, code: str, others: list) -> str | None:
        """Rule 7: a run that did not send a draft another run sent says already_sent, once it could see it:
        a decision about the draft (stale) made after the other run's submission, or a wait on a claim
        that went on for longer than ``claim_grace`` after it."""
        if not others:
            return None
        submitted_by = min(self._end_bound(t, draft) for t in others)
        if code == "EwsClaimedByAnotherRun":
            if submitted_by < run.ended - self.claim_grace:
                return "another run submitted it %.1f s before this run ended (rule 7: already_sent)" % (
                    run.ended - submitted_by)
        elif submitted_by < run.started:
            return "another run had submitted it before this run started (rule 7: already_sent)"
        return None

    def _changed_by_others(self, run: RunRecord, draft: int, kinds: set, message: str) -> bool:
        """Whether the draft's ChangeKey can have moved past the caller's pinned one other than by this run's
        own answered stamps: a user's edit, another run's claim released after a refusal or a stale pin (a
        re-run with an old key after a refused send is stale, docs/exactly-once.md rule 4), or this run's own
        stamp whose answer was lost."""
        edited = any(a.plan.kind == "edit" and a.plan.draft == draft and a.may_have_applied and a.started <= run.ended
                     for a in self.trial.user_actions)
        shared = any(draft in other.plan.drafts for other in self.runs if other is not run)
        lossy = any(ambiguous(f) for f in self._faults_before(run))
        released = (bool(kinds & (self.refusing_kinds | {"item_error"})) or lossy) and shared
        own_stamp_lost = "lost response" in message and lossy
        # Graph ignoring If-Match: a stamp is no compare-and-set, so another run's stamp overwrites this run's.
        overwritten = self.graph and self.plan.if_match != "honoured" and shared
        return edited or released or own_stamp_lost or overwritten

    # -- who delivered, and when ---------------------------------------------------------------

    def _deliverers(self, token: str | None, draft: int) -> list[RunRecord]:
        """The run a token belongs to; a token no run reported belongs to one of the runs that did not report
        (killed ones), and among them to one that had the draft."""
        if token in self.by_token:
            return [self.by_token[token]]
        return [run for run in self.unreported if draft in run.plan.drafts] or self.unreported or self.runs

    def _start_bound(self, token: str | None, draft: int) -> float:
        """The earliest the deliverer can have submitted it: when its process started."""
        return min(run.started for run in self._deliverers(token, draft))

    def _end_bound(self, token: str | None, draft: int) -> float:
        """The latest the deliverer can have submitted it: when its process ended, plus ``late_commit``."""
        return max(run.ended for run in self._deliverers(token, draft)) + self.late_commit

    def _saved_a_copy(self, token: str | None, draft: int) -> bool:
        if self.graph:
            # Graph keeps a copy unless PidTagDeleteAfterSubmit, which every run's stamp writes (as its save_copy
            # says) and which need not be the sender's: a copy is certain only if every run with the draft saves one.
            return all(run.plan.save_copy for run in self.runs if draft in run.plan.drafts)
        return all(run.plan.save_copy for run in self._deliverers(token, draft))

    def _run_name(self, token: str | None) -> str:
        run = self.by_token.get(token)
        return self._where(run) if run else "a killed run"

    def _run_names(self, tokens: list) -> str:
        return ", ".join(sorted({self._run_name(t) for t in tokens}))
