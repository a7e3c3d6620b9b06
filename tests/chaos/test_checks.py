"""The chaos checks on hand-made trial records: each definition of docs/reliability.md flags what it should."""

from __future__ import annotations

from ansible_collections.exchange.ews.plugins.module_utils import properties

from checks import TrialCheck
from plan import FaultPlan, RunPlan, TrialPlan, UserActionPlan
from trial import FaultRecord, RunRecord, TrialRecord, UserActionRecord

DRAFTS = [{"id": "draft-%d" % n, "change_key": "key-%d" % n} for n in range(2)]


def run(index, token, results=None, drafts=(0,), pinned=False, deadline=10, started=100.0, ended=101.0,
        killed=False, outcome=None):
    plan = RunPlan(index=index, drafts=list(drafts), pinned=[pinned] * len(drafts), as_lookup=[False] * len(drafts),
                   batch_size=100, pending_timeout=0, save_copy=True, deadline=deadline, start_at=0.0, kill_after=None)
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


def delivery(draft, token):
    return {"marker": properties.marker_for(DRAFTS[draft]["id"]),
            "send_state": properties.state_value(properties.PENDING, token, 0)}


def check(runs, deliveries, clean=None, faults=(), user_actions=()):
    plan = TrialPlan(seed=7, drafts=1, runs=[r.plan for r in runs], faults=[f.plan for f in faults],
                     user_actions=[a.plan for a in user_actions], latency_ms=0, item_latency_ms=0,
                     submission_delay_ms=0)
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
