"""The chaos checks on hand-made trial records: each definition of docs/reliability.md flags what it should."""

from __future__ import annotations

from ansible_collections.exchange.ews.plugins.module_utils import properties

import pytest

from checks import TrialCheck
from plan import FaultPlan, RunPlan, TrialPlan, UserActionPlan
from trial import FaultRecord, RunRecord, TrialRecord, UserActionRecord, attribute

DRAFTS = [{"id": "draft-%d" % n, "change_key": "key-%d" % n} for n in range(2)]


def run(index, token, results=None, drafts=(0,), pinned=False, deadline=10, started=100.0, ended=101.0,
        killed=False, outcome=None, save_copy=True):
    plan = RunPlan(index=index, drafts=list(drafts), pinned=[pinned] * len(drafts), as_lookup=[False] * len(drafts),
                   batch_size=100, pending_timeout=0, save_copy=save_copy, deadline=deadline, start_at=0.0,
                   kill_after=None)
    item_ids = [dict(DRAFTS[d]) if pinned else DRAFTS[d]["id"] for d in drafts]
    if outcome is None and not killed:
        statuses = [r if isinstance(r, dict) else {"status": r} for r in results]
        outcome = {"run_id": token, "counts": {}, "results": [
            dict({"id": DRAFTS[d]["id"], "response_code": "NoError", "message_text": None}, **r)
            for d, r in zip(drafts, statuses)]}
        for r in outcome["results"]:
            outcome["counts"][r["status"]] = outcome["counts"].get(r["status"], 0) + 1
    return RunRecord(plan=plan, item_ids=item_ids, started=started, ended=ended, duration=ended - started,
                     read_args=started + 0.2, killed=killed, returncode=-9 if killed else 0, outcome=outcome)


def delivery(draft, token, sent_by=None):
    """A delivery carrying ``token``'s stamp; on Graph (``sent_by``) sent by another run's request."""
    entry = {"marker": properties.marker_for(DRAFTS[draft]["id"]),
             "send_state": properties.state_value(properties.PENDING, token, 0)}
    if sent_by is not None:
        entry["sent_by"] = sent_by
    return entry


def check(runs, deliveries, clean=None, faults=(), user_actions=(), backend="ews", if_match=None):
    plan = TrialPlan(seed=7, drafts=1, runs=[r.plan for r in runs], faults=[f.plan for f in faults],
                     user_actions=[a.plan for a in user_actions], latency_ms=0, item_latency_ms=0,
                     submission_delay_ms=0, backend=backend, if_match=if_match)
    clean = clean or run(len(runs), "clean", ["already_sent" if deliveries else "missing"], started=200.0,
                         ended=200.5, deadline=60)
    trial = TrialRecord(plan=plan, drafts=DRAFTS[:1], runs=list(runs), clean=clean, faults=list(faults),
                        user_actions=list(user_actions), deliveries=deliveries)
    return [(f.category, f.detail) for f in TrialCheck(trial).findings]


def categories(findings):
    return sorted(category for category, _ in findings)


def test_a_consistent_trial_has_no_findings():
    assert check([run(0, "a", ["sent"]), run(1, "b", ["already_sent"], started=100.5, ended=102.0)],
                 [delivery(0, "a")]) == []


def test_duplicates_and_lost_drafts():
    assert categories(check([run(0, "a", ["sent"]), run(1, "b", ["sent"])], [delivery(0, "a"), delivery(0, "b")],
                            clean=run(2, "clean", ["already_sent"], started=200.0, ended=200.5))) == ["duplicate"]
    assert categories(check([run(0, "a", ["sent"])], [], clean=run(1, "clean", ["missing"], started=200.0,
                                                                  ended=200.5))) == ["lost", "wrong_status"]


def test_sent_must_be_this_runs_delivery():
    findings = check([run(0, "a", ["sent"]), run(1, "b", ["sent"])], [delivery(0, "a")])
    assert categories(findings) == ["wrong_status"] and "delivered by run 0, not this run" in findings[0][1]


def test_already_sent_needs_another_runs_earlier_delivery():
    assert "this very run delivered it" in check([run(0, "a", ["already_sent"])], [delivery(0, "a")])[0][1]
    later = run(1, "b", ["sent"], started=102.0, ended=103.0)
    assert "started after this run ended" in check([run(0, "a", ["already_sent"]), later], [delivery(0, "b")])[0][1]


def test_missing_is_wrong_when_a_copy_was_there_to_find():
    findings = check([run(0, "a", ["sent"]), run(1, "b", ["missing"])], [delivery(0, "a")])
    assert "saves a copy" in findings[0][1]


def test_failed_with_its_own_stamp_delivered_must_say_may_have_been_sent():
    lost = FaultRecord(FaultPlan(0, "drop_after_commit", "SendItem", 1), 99.0)
    silent = {"status": "failed", "response_code": "EwsResponseLost", "message_text": "no answer"}
    honest = dict(silent, message_text="no answer; this run's send of it may have gone out")
    assert categories(check([run(0, "a", [silent])], [delivery(0, "a")], faults=[lost])) == ["wrong_status"]
    assert check([run(0, "a", [honest])], [delivery(0, "a")], faults=[lost]) == []


def test_a_failure_needs_its_cause_in_the_trial():
    lost = {"status": "failed", "response_code": "EwsResponseLost", "message_text": "no answer"}
    assert "no fault of the trial could lose an answer" in check([run(0, "a", [lost])], [])[0][1]
    at_deadline = {"status": "failed", "response_code": "EwsDeadlineExceeded",
                   "message_text": "not settled within the deadline of 10 s"}
    assert "took 0.8 s" in check([run(0, "a", [at_deadline])], [])[0][1]
    assert check([run(0, "a", [at_deadline], ended=110.5)], []) == []


def test_stale_needs_a_pinned_key_and_an_edit():
    stale = {"status": "failed", "response_code": "ErrorStaleObject", "message_text": "edited since"}
    assert "nobody edited it" in check([run(0, "a", [stale], pinned=True)], [])[0][1]
    edit = UserActionRecord(UserActionPlan(0.5, "edit", 0), 100.5, 100.6, None)
    assert check([run(0, "a", [stale], pinned=True)], [], user_actions=[edit]) == []
    assert "no change_key was given" in check([run(0, "a", [stale])], [], user_actions=[edit])[0][1]


def test_rule7_a_run_waiting_on_a_claim_sees_another_runs_send():
    waited = {"status": "failed", "response_code": "EwsClaimedByAnotherRun",
              "message_text": "not settled within the deadline of 10 s: another run's claim is live"}
    sender = run(1, "b", ["sent"], started=100.0, ended=101.0)
    early = check([run(0, "a", [waited], started=100.0, ended=110.5), sender], [delivery(0, "b")])
    assert "rule 7" in early[0][1]
    assert check([run(0, "a", [waited], started=100.0, ended=110.5),
                  run(1, "b", ["sent"], started=100.0, ended=108.5)], [delivery(0, "b")]) == []


def test_runs_past_their_deadline_and_without_a_result():
    slow = run(0, "a", ["sent"], deadline=2, ended=105.5)
    assert categories(check([slow], [delivery(0, "a")])) == ["past_deadline"]
    crashed = run(0, None, [])
    crashed.outcome = None
    assert categories(check([crashed], [])) == ["no_result"]
    assert check([run(0, None, killed=True)], []) == []


# -- both backends ------------------------------------------------------------------------------

def fault(kind, **fields):
    return FaultRecord(FaultPlan(0, kind, None, 1, fields), 99.0)


def test_deliveries_are_attributed_by_send_state_on_ews_and_by_the_send_request_on_graph():
    deliveries = [{"marker": "m1", "send_state": properties.state_value(properties.PENDING, "b" * 16, 0)},
                  {"marker": "m2", "send_state": None}, {"marker": "m1", "send_state": None}]
    ews = TrialPlan(seed=1, drafts=2, runs=[], faults=[], user_actions=[], latency_ms=0, item_latency_ms=0,
                    submission_delay_ms=0)
    assert [d["sent_by"] for d in attribute(ews, [dict(d) for d in deliveries], [])] == ["b" * 16, None, None]
    graph = TrialPlan(seed=1, drafts=2, runs=[], faults=[], user_actions=[], latency_ms=0, item_latency_ms=0,
                      submission_delay_ms=0, backend="graph", if_match="ignored")
    sends = [{"marker": "m1", "client_request_id": "aaaaaaaa-aaaa-aaaa-1234-123412341234"},
             {"marker": "m2", "client_request_id": None},
             {"marker": "m1", "client_request_id": "cccccccc-cccc-cccc-1234-123412341234"}]
    # The n-th delivery of a marker is its n-th accepted send; the stamp it carries does not count.
    assert [d["sent_by"] for d in attribute(graph, [dict(d) for d in deliveries], sends)] == [
        "a" * 16, None, "c" * 16]
    assert attribute(graph, [{"marker": "m3", "send_state": None}], sends)[0]["sent_by"] is None


def test_on_graph_a_send_under_another_runs_stamp_is_the_senders():
    """Graph's send checks no ChangeKey: run a read its stamp's key, run b's stamp landed, a's send went out under
    b's stamp. a said sent, b already_sent: right on Graph; on EWS (attribution by the stamp) both wrong."""
    runs = [run(0, "a", ["sent"]), run(1, "b", ["already_sent"], started=100.5, ended=102.0)]
    assert check(runs, [delivery(0, "b", sent_by="a")], backend="graph", if_match="ignored") == []
    assert categories(check(runs, [delivery(0, "b")])) == ["wrong_status", "wrong_status"]
    findings = check([run(0, "a", ["sent"])], [delivery(0, "a", sent_by="b")], backend="graph", if_match="honoured")
    assert "delivered by a killed run, not this run" in findings[0][1]


LOSES = "no answer; this run's send of it may have gone out"
AT_DEADLINE = "not settled within the deadline of 10 s: " + LOSES
NO_LOSS = "says it may have been sent, but no answer of the run can have been lost"


@pytest.mark.parametrize("backend, faults, message, ended, found", [
    ("ews", [], LOSES, 101.0, NO_LOSS),
    ("ews", [fault("drop_after_commit")], LOSES, 101.0, None),
    ("ews", [fault("server_busy")], LOSES, 101.0, NO_LOSS),
    ("ews", [fault("delay", delay_ms=5000)], AT_DEADLINE, 110.5, None),
    ("ews", [], AT_DEADLINE, 110.5, None),                      # a request whose timeout the deadline cut
    ("graph", [fault("graph_error", status=500, code="ErrorInternalServerError")], LOSES, 101.0, None),
    ("graph", [fault("graph_error", status=412, code="ErrorIrresolvableConflict")], LOSES, 101.0, NO_LOSS),
    ("graph", [fault("http_429", retry_after=1)], LOSES, 101.0, NO_LOSS),
    ("graph", [fault("http_504_after_commit")], LOSES, 101.0, None),
])
def test_may_have_been_sent_needs_an_answer_that_can_have_been_lost(backend, faults, message, ended, found):
    result = {"status": "failed", "response_code": "EwsResponseLost", "message_text": message}
    findings = check([run(0, "a", [result], ended=ended)], [], faults=faults, backend=backend,
                     if_match="ignored" if backend == "graph" else None)
    assert [detail.endswith(found) for _category, detail in findings] == ([True] if found else [])


@pytest.mark.parametrize("code, faults, wrong", [
    ("ApplicationThrottled", [], False),                        # the mailbox's four-requests limit: no fault needed
    ("TooManyRequests", [], True),
    ("TooManyRequests", [fault("http_429", retry_after=0)], False),
    ("ServiceUnavailable", [fault("http_429", retry_after=0)], True),
    ("ServiceUnavailable", [fault("http_503", retry_after=0)], False),
    ("EwsUnavailable", [fault("http_503", retry_after=0)], False),
    ("EwsUnavailable", [fault("drop_after_commit")], False),     # not sent after an earlier batch's answer was lost
    ("EwsUnavailable", [fault("graph_error", status=412, code="ErrorIrresolvableConflict")], False),
    ("EwsUnavailable", [fault("delay", delay_ms=100)], True),
    ("EwsNotSent", [fault("http_503", retry_after=0)], True),
    ("EwsNotSent", [fault("truncated_after_commit")], False),
    ("ErrorIrresolvableConflict", [], True),
    ("ErrorIrresolvableConflict", [fault("graph_error", status=412, code="ErrorIrresolvableConflict")], False),
    ("EwsResponseLost", [fault("graph_error", status=412, code="ErrorIrresolvableConflict")], True),
    ("EwsResponseLost", [fault("graph_error", status=500, code="ErrorInternalServerError")], False),
    ("ErrorInternalServerError", [fault("graph_error", status=500, code="ErrorInternalServerError")], False),
])
def test_graph_failures_need_their_cause_in_the_trial(code, faults, wrong):
    result = {"status": "failed", "response_code": code, "message_text": "setback"}
    findings = check([run(0, "a", [result])], [], faults=faults, backend="graph", if_match="honoured")
    assert categories(findings) == (["wrong_status"] if wrong else [])


@pytest.mark.parametrize("backend, faults, wrong", [
    ("ews", [fault("server_busy")], False),
    ("ews", [fault("http_429", retry_after=0)], True),
    ("graph", [fault("http_429", retry_after=0)], False),
    ("graph", [fault("graph_error", status=412, code="ErrorIrresolvableConflict")], False),
    ("graph", [fault("drop_after_commit")], True),
    ("graph", [], True),
])
def test_a_request_level_stop_needs_a_refusal_of_the_backend(backend, faults, wrong):
    result = {"status": "failed", "response_code": "EwsThrottled",
              "message_text": "not settled: the run stopped at a request-level failure (throttled)"}
    stopped = run(0, "a", [result])
    stopped.outcome["msg"] = "1 item(s) not settled before it"
    findings = check([stopped], [], faults=faults, backend=backend, if_match="ignored" if backend == "graph" else None)
    assert categories(findings) == (["wrong_status"] if wrong else [])


@pytest.mark.parametrize("if_match, wrong", [("ignored", False), ("honoured", True)])
def test_on_graph_without_if_match_another_runs_stamp_makes_a_pin_stale(if_match, wrong):
    stale = {"status": "failed", "response_code": "ErrorStaleObject", "message_text": "changed since"}
    other = run(1, "b", ["sent"], started=100.0, ended=100.8)
    findings = check([run(0, "a", [stale], pinned=True), other], [delivery(0, "b", sent_by="b")], backend="graph",
                     if_match=if_match)
    assert categories(findings) == (["wrong_status"] if wrong else [])


@pytest.mark.parametrize("backend, sender_saves, other_saves, wrong", [
    ("ews", True, False, True),      # EWS: the sender's SendItem decides the copy
    ("ews", False, True, False),
    ("graph", True, True, True),     # Graph: any run's stamp may have set PidTagDeleteAfterSubmit last
    ("graph", True, False, False),
])
def test_missing_is_wrong_only_where_a_copy_was_certain(backend, sender_saves, other_saves, wrong):
    runs = [run(0, "a", ["sent"], save_copy=sender_saves),
            run(1, "b", ["missing"], save_copy=other_saves, started=102.0, ended=103.0)]
    findings = check(runs, [delivery(0, "a", sent_by="a" if backend == "graph" else None)],
                     clean=run(2, "clean", ["already_sent" if wrong else "missing"],
                               started=200.0, ended=200.5, deadline=60), backend=backend,
                     if_match="ignored" if backend == "graph" else None)
    assert categories(findings) == (["wrong_status"] if wrong else [])
