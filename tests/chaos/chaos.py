"""Chaos suite for exchange.ews.send_item (issues #9, #14): randomized trials against one real sandbox, on EWS and
on Microsoft Graph.

    python tests/chaos/chaos.py [--seed N] [--trials N] [--backends ews,graph]   # `make chaos`: 500 per backend
    python tests/chaos/chaos.py --replay TRIAL_SEED --backends graph              # one trial again, with its records

Each trial mixes concurrent runs of the real module (own processes, overlapping ids, pinned and
unpinned, kill -9), every sandbox fault kind of its backend, Outbox delays and latency, and a user editing and
moving drafts (on Graph, under either reading of If-Match); then a clean re-run. ``--trials`` is per backend; both
backends run the same trial seeds, each drawing its own plan from them. docs/reliability.md explains the method and
each check; the table printed at the end is its results table. Exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ews_sandbox.testing import Sandbox

from checks import CATEGORIES, MAY_HAVE, TrialCheck, send_state_token
from plan import BACKENDS, draw
from trial import COLLECTION_ROOT, run_trial

RECORDS = COLLECTION_ROOT / "build" / "chaos"
LABELS = {
    "duplicate": "duplicates (a draft delivered more than once)",
    "lost": "lost (never delivered, though a run said sent or already_sent)",
    "wrong_status": "wrong statuses",
    "past_deadline": "runs that did not end by their deadline",
    "no_result": "runs that ended without a result",
}


@dataclasses.dataclass
class Tally:
    trials: int = 0
    drafts: int = 0
    runs: int = 0
    seconds: float = 0.0
    load_max: float = 0.0
    overrun: float = 0.0           # the most a run (not killed) went past its deadline after its start-up
    counts: dict = dataclasses.field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    # What the trials exercised: results by status (and code for failures), faults by kind, If-Match readings,
    # deliveries that went out under another run's stamp, "may have been sent" results.
    exercised: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    def note(self, trial, check) -> None:
        for run in check.runs:
            for result in (run.outcome or {}).get("results") or ():
                self.exercised["result " + result["status"] + (
                    " " + result["response_code"] if result["status"] == "failed" else "")] += 1
                if any(text in (result.get("message_text") or "") for text in MAY_HAVE):
                    self.exercised["results saying it may have been sent"] += 1
            if run.killed:
                self.exercised["runs killed (kill -9)"] += 1
        for fault in trial.faults:
            self.exercised["fault " + fault.plan.kind] += 1
        if trial.plan.if_match:
            self.exercised["trials with If-Match " + trial.plan.if_match] += 1
        for delivery in trial.deliveries:
            if delivery.get("sent_by") != send_state_token(delivery):
                self.exercised["deliveries sent under another run's stamp"] += 1


def trial_seeds(seed: int, trials: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.getrandbits(31) for _ in range(trials)]


def table(tallies: dict) -> str:
    """The results as docs/reliability.md's markdown table: a column per backend."""
    names = list(tallies)
    rows = [("trials", [tallies[n].trials for n in names]), ("drafts", [tallies[n].drafts for n in names]),
            ("runs (clean re-runs included)", [tallies[n].runs for n in names])]
    rows += [(LABELS[category], [tallies[n].counts[category] for n in names]) for category in CATEGORIES]
    rows.append(("time", ["%d min %02d s" % divmod(round(tallies[n].seconds), 60) for n in names]))
    rows.append(("most a run went past its deadline, after its start-up", ["%.1f s" % tallies[n].overrun
                                                                          for n in names]))
    rows.append(("highest 1-minute load average at a trial's end", ["%.1f" % tallies[n].load_max for n in names]))
    width = max(len(label) for label, _ in rows)
    lines = ["| %s | %s |" % ("check".ljust(width), " | ".join(names)),
             "| %s |%s" % ("-" * width, " ---: |" * len(names))]
    lines += ["| %s | %s |" % (label.ljust(width), " | ".join(str(v) for v in values)) for label, values in rows]
    return "\n".join(lines)


def commit() -> str:
    """The commit the trials ran on (``+changes`` when the tree differs from it)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=COLLECTION_ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=COLLECTION_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" +changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def parse_backends(text: str) -> list[str]:
    backends = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in backends if name not in BACKENDS]
    if not backends or unknown:
        raise argparse.ArgumentTypeError("--backends takes a comma-separated list of %s" % ", ".join(BACKENDS))
    return list(dict.fromkeys(backends))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--seed", type=int, default=1, help="seed the trials' own seeds are drawn from")
    parser.add_argument("--trials", type=int, default=500, help="trials per backend")
    parser.add_argument("--backends", type=parse_backends, default=list(BACKENDS),
                        help="comma-separated: ews, graph (default both)")
    parser.add_argument("--replay", type=int, metavar="TRIAL_SEED", help="run the one trial with this seed, verbosely")
    args = parser.parse_args(argv)
    seeds = [args.replay] if args.replay is not None else trial_seeds(args.seed, args.trials)
    RECORDS.mkdir(parents=True, exist_ok=True)
    selection = ("--replay %d" % args.replay if args.replay is not None
                 else "--seed %d --trials %d" % (args.seed, args.trials))
    command = "chaos.py %s --backends %s" % (selection, ",".join(args.backends))
    print("%s on commit %s, %d CPUs, load average %.1f at the start" % (command, commit(), os.cpu_count() or 0,
                                                                        os.getloadavg()[0]), flush=True)

    tallies = {backend: Tally() for backend in args.backends}
    findings = []
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="chaos-") as workdir:
        for backend in args.backends:
            tally = tallies[backend]
            started = time.monotonic()
            for number, seed in enumerate(seeds, 1):
                trial = run_trial(sandbox, draw(seed, backend), Path(workdir) / backend / str(seed))
                check = TrialCheck(trial)
                tally.trials += 1
                tally.drafts += trial.plan.drafts
                tally.runs += len(check.runs)
                tally.note(trial, check)
                tally.load_max = max(tally.load_max, trial.load_average)
                tally.overrun = max([tally.overrun] + [check.ran(run) - run.plan.deadline for run in check.runs
                                                       if not run.killed and run.ended])
                for finding in check.findings:
                    tally.counts[finding.category] += 1
                findings += [(backend, finding) for finding in check.findings]
                if check.findings or args.replay is not None:
                    # A replay keeps the record of the run that found the failure.
                    record = RECORDS / ("trial-%s-%d%s.json" % (backend, seed, "-replay" if args.replay is not None
                                                                else ""))
                    record.write_text(json.dumps(dataclasses.asdict(trial), indent=1, default=str))
                print("%s trial %d/%d seed %d%s: %d drafts, %d runs, %.1f s, load %.1f%s" % (
                    backend, number, len(seeds), seed, " (If-Match %s)" % trial.plan.if_match if trial.plan.if_match
                    else "", trial.plan.drafts, len(trial.runs), trial.seconds, trial.load_average,
                    "".join("\n  %s: %s" % (f.category, f.detail) for f in check.findings)), flush=True)
            tally.seconds = time.monotonic() - started
    print()
    for backend, tally in tallies.items():
        print("%s exercised: %s" % (backend, "; ".join("%s %d" % (name, count)
                                                        for name, count in sorted(tally.exercised.items()))))
    print()
    print(table(tallies))
    if findings:
        print("\nFailures (replay one with --replay SEED --backends BACKEND; its records are in "
              "%s/trial-BACKEND-SEED.json):" % RECORDS)
        for backend, finding in findings:
            print("  %s seed %d %s: %s" % (backend, finding.seed, finding.category, finding.detail))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
