"""Carry out one trial plan against a running sandbox and record what happened.

Every run is its own OS process executing the module file exactly as Ansible does
(``python send_item.py ARGS_FILE`` with ``{"ANSIBLE_MODULE_ARGS": ...}``), its JSON result read
from stdout. Faults, user edits and moves, and kill -9 happen on the plan's schedule. Then the
Outbox drains, a clean re-run goes over every draft, the Outbox drains again, and the delivery
log is the ground truth.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.exchange.ews.plugins.module_utils import properties
from ansible_collections.exchange.ews.plugins.module_utils.retry import RetryPolicy
from ansible_collections.exchange.ews.plugins.module_utils.validation import rest_form
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import edit_as_user, move_as_user

from plan import FaultPlan, RunPlan, TrialPlan, UserActionPlan

MAILBOX = "alice@sandbox.test"
RECIPIENT = "carol@sandbox.test"
# The app registration Graph runs use (the sandbox's demo app: Mail.ReadWrite and Mail.Send on every mailbox).
GRAPH_APP = "exchange-ews-demo"
COLLECTION_ROOT = Path(__file__).resolve().parents[2]
MODULE = COLLECTION_ROOT / "plugins" / "modules" / "send_item.py"
COLLECTIONS_PATH = COLLECTION_ROOT / "build" / "collections"
# A run still alive this long after its deadline is killed by the harness (and counted past its deadline).
HARD_LIMIT_SECONDS = 30
CLEAN_RUN_DEADLINE = 60
OUTBOX_TIMEOUT = 60


@dataclass
class RunRecord:
    plan: RunPlan
    item_ids: list
    started: float = 0.0           # wall clock (time.time()), just before the process was started
    ended: float = 0.0             # wall clock, once it exited
    duration: float = 0.0          # monotonic seconds from start to exit
    read_args: float | None = None  # wall clock when the module read its arguments file (its access time)
    killed: bool = False           # ended by the plan's kill -9
    hung: bool = False             # killed by the harness HARD_LIMIT_SECONDS after its deadline
    returncode: int | None = None
    outcome: dict | None = None    # the module's JSON result
    output: str = ""               # stdout and stderr, when there is no JSON result

    @property
    def token(self) -> str | None:
        return (self.outcome or {}).get("run_id")


@dataclass
class UserActionRecord:
    plan: UserActionPlan
    started: float
    ended: float
    error: str | None              # None: done; else what it raised (it may still have been applied)

    @property
    def may_have_applied(self) -> bool:
        return self.error is None or "ErrorItemNotFound" not in self.error


@dataclass
class FaultRecord:
    plan: FaultPlan
    added: float


@dataclass
class TrialRecord:
    plan: TrialPlan
    drafts: list[dict]             # {"id", "change_key"} as seeded
    runs: list[RunRecord] = field(default_factory=list)
    clean: RunRecord | None = None
    faults: list[FaultRecord] = field(default_factory=list)
    user_actions: list[UserActionRecord] = field(default_factory=list)
    # Each has "sent_by": the run token of the send that submitted it. EWS: the token of the send state it carried
    # (SendItem succeeds only with the ChangeKey of that run's own stamp); Graph: the client-request-id of the send
    # request (the sandbox's send log), as Graph's send checks no ChangeKey.
    deliveries: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    load_average: float = 0.0      # the machine's 1-minute load average when the runs had ended


def module_args(sandbox, backend, item_ids, **options) -> dict:
    """EWS: alice's NTLM login. Graph: ``api: graph`` with the demo app's client secret, its tenant's authority on
    the sandbox's identity platform, acting on alice's mailbox (``impersonate``)."""
    if backend == "graph":
        app = sandbox.apps[GRAPH_APP]
        args = {"api": "graph", "tenant_id": app.tenant, "client_id": app.client_id, "client_secret": app.secrets[0],
                "authority": sandbox.authority_host, "graph_url": sandbox.graph_url, "impersonate": MAILBOX}
    else:
        user = sandbox.users["alice"]
        args = {"url": sandbox.url, "username": user.login, "password": user.password}
    args.update({"ca_path": sandbox.ca_path, "item_ids": item_ids, "fail_on": []})
    args.update(options)
    return {"ANSIBLE_MODULE_ARGS": args}


def parse_outcome(stdout: str) -> dict | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def execute(record: RunRecord, args: dict, workdir: Path, trial_started: float) -> None:
    """Run the module as its own process on the plan's schedule; kill -9 it if the plan says so."""
    args_file = workdir / ("run-%d.json" % record.plan.index)
    args_file.write_text(json.dumps(args))
    time.sleep(max(0.0, trial_started + record.plan.start_at - time.monotonic()))
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS_PATH))
    record.started = time.time()
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, str(MODULE), str(args_file)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True,
                               cwd=str(workdir))
    communicate = {}
    reader = threading.Thread(target=lambda: communicate.update(zip(("stdout", "stderr"), process.communicate())))
    reader.start()
    if record.plan.kill_after is not None:
        reader.join(record.plan.kill_after)
        # send_signal does nothing once the process has been reaped; a zombie ignores it: killed means
        # the signal really ended it (returncode -9), never a run that had already finished.
        process.send_signal(signal.SIGKILL)
    reader.join(record.plan.deadline + HARD_LIMIT_SECONDS)
    if reader.is_alive():
        record.hung = True
        process.kill()
        reader.join()
    record.duration = time.monotonic() - started
    record.ended = time.time()
    record.returncode = process.returncode
    record.killed = process.returncode == -signal.SIGKILL and not record.hung
    # Reading the arguments file is the module's first act after its imports: the file's access time (updated
    # by the first read after a write, relatime) marks the end of the start-up.
    accessed = args_file.stat().st_atime
    record.read_args = accessed if accessed >= record.started else None
    record.outcome = parse_outcome(communicate.get("stdout") or "")
    if record.outcome is None:
        record.output = ((communicate.get("stdout") or "") + (communicate.get("stderr") or ""))[-3000:]


def run_args(drafts: list[dict], plan: RunPlan, backend: str = "ews") -> list:
    """The run's item_ids: each id in its backend's form (Graph's: the REST id, as the draft_ids lookup returns it
    with api graph), alone, pinned with its ChangeKey, or as the lookup returns it."""
    ids = []
    for index, pinned, as_lookup in zip(plan.drafts, plan.pinned, plan.as_lookup):
        draft = drafts[index]
        item_id = rest_form(draft["id"]) if backend == "graph" else draft["id"]
        if not pinned:
            ids.append(item_id)
        elif as_lookup:
            ids.append({"id": item_id, "change_key": draft["change_key"], "is_draft": True, "send_state": None,
                        "mailbox": None})
        else:
            ids.append({"id": item_id, "change_key": draft["change_key"]})
    return ids


def attribute(plan: TrialPlan, deliveries: list[dict], sends: list[dict]) -> list[dict]:
    """The deliveries, each with ``sent_by`` (see ``TrialRecord.deliveries``). On Graph the n-th delivery of a
    marker is the n-th accepted send of it (a submission delivers once; no run withdraws one); a delivery without
    an accepted send (impossible unless the sandbox is wrong) has ``sent_by`` None."""
    if plan.backend != "graph":
        for delivery in deliveries:
            state = properties.SendState.parse(delivery.get("send_state"))
            delivery["sent_by"] = state.run_token if state else None
        return deliveries
    senders = {}
    for send in sends:
        request_id = (send.get("client_request_id") or "").replace("-", "")
        senders.setdefault(send["marker"], []).append(request_id[:16] or None)
    for delivery in deliveries:
        queue = senders.get(delivery["marker"]) or [None]
        delivery["sent_by"] = queue.pop(0) if len(queue) > 1 else queue[0]
    return deliveries


def user_action(sandbox, drafts: list[dict], action: UserActionPlan) -> UserActionRecord:
    started = time.time()
    draft_id = drafts[action.draft]["id"]
    error = None
    try:
        if action.kind == "edit":
            edit_as_user(sandbox, draft_id, subject="edited at %.3f" % started,
                         retry_policy=RetryPolicy(retries=1, timeout=2, max_delay=0.2))
        else:
            move_as_user(sandbox, draft_id, action.folder)
    except Exception as exc:  # a user's failed action is part of the trial, whatever it raised
        error = "%s: %s" % (type(exc).__name__, exc)
    return UserActionRecord(action, started, time.time(), error)


def run_trial(sandbox, plan: TrialPlan, workdir: Path) -> TrialRecord:
    admin = sandbox.admin
    began = time.monotonic()
    admin.reset()
    admin.set_latency(request_ms=plan.latency_ms, item_ms=plan.item_latency_ms)
    admin.set_submission_delay(plan.submission_delay_ms)
    if plan.backend == "graph":
        admin.set_graph_settings(if_match=plan.if_match)
    drafts = admin.seed(MAILBOX, count=plan.drafts, subject="chaos {n}", to=[RECIPIENT])
    trial = TrialRecord(plan=plan, drafts=drafts)
    workdir.mkdir(parents=True, exist_ok=True)

    trial_started = time.monotonic()
    threads = []
    for run_plan in plan.runs:
        record = RunRecord(plan=run_plan, item_ids=run_args(drafts, run_plan, plan.backend))
        trial.runs.append(record)
        args = module_args(sandbox, plan.backend, record.item_ids, batch_size=run_plan.batch_size,
                           pending_timeout=run_plan.pending_timeout, save_copy=run_plan.save_copy,
                           deadline=run_plan.deadline)
        threads.append(threading.Thread(target=execute, args=(record, args, workdir, trial_started)))
    for thread in threads:
        thread.start()

    events = sorted([(f.at, f) for f in plan.faults] + [(a.at, a) for a in plan.user_actions], key=lambda e: e[0])
    for at, event in events:
        time.sleep(max(0.0, trial_started + at - time.monotonic()))
        if isinstance(event, FaultPlan):
            admin.add_fault(event.kind, operation=event.operation, times=event.times,
                            api="graph" if plan.backend == "graph" else "ews", **event.fields)
            trial.faults.append(FaultRecord(event, time.time()))
        else:
            trial.user_actions.append(user_action(sandbox, drafts, event))
    for thread in threads:
        thread.join()
    trial.load_average = os.getloadavg()[0]
    admin.clear_faults()
    if any(run.killed or run.hung for run in trial.runs):
        # A killed run's last request may still be held up by a fault at the server; let it commit first.
        time.sleep(plan.longest_hold() + plan.latency_ms / 1000 + 0.2)
    admin.wait_for_outbox(OUTBOX_TIMEOUT)

    clean_plan = RunPlan(index=len(plan.runs), drafts=list(range(plan.drafts)), pinned=[False] * plan.drafts,
                         as_lookup=[False] * plan.drafts,
                         batch_size=100, pending_timeout=0, save_copy=True, deadline=CLEAN_RUN_DEADLINE,
                         start_at=0.0, kill_after=None)
    trial.clean = RunRecord(plan=clean_plan, item_ids=run_args(drafts, clean_plan, plan.backend))
    execute(trial.clean, module_args(sandbox, plan.backend, trial.clean.item_ids, pending_timeout=0,
                                     deadline=CLEAN_RUN_DEADLINE), workdir, time.monotonic())
    admin.wait_for_outbox(OUTBOX_TIMEOUT)
    trial.deliveries = attribute(plan, admin.deliveries(), admin.graph_sends() if plan.backend == "graph" else [])
    trial.seconds = time.monotonic() - began
    return trial
