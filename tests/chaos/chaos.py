"""Chaos suite for exchange.ews.send_item (issue #9): randomized trials against one real sandbox.

    python tests/chaos/chaos.py [--seed N] [--trials N]     # `make chaos`, TRIALS=500 by default
    python tests/chaos/chaos.py --replay TRIAL_SEED          # one trial again, with its records

Each trial mixes concurrent runs of the real module (own processes, overlapping ids, pinned and
unpinned, kill -9), every sandbox fault kind, Outbox delays and latency, and a user editing and
moving drafts; then a clean re-run. docs/reliability.md explains the method and each check.
Exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from ews_sandbox.testing import Sandbox

from checks import CATEGORIES, TrialCheck
from plan import draw
from trial import COLLECTION_ROOT, run_trial

RECORDS = COLLECTION_ROOT / "build" / "chaos"
LABELS = {
    "duplicate": "duplicates (a draft delivered more than once)",
    "lost": "lost (never delivered, though a run said sent or already_sent)",
    "wrong_status": "wrong statuses",
    "past_deadline": "runs that did not end by their deadline",
    "no_result": "runs that ended without a result",
}


def trial_seeds(seed: int, trials: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.getrandbits(31) for _ in range(trials)]


def table(trials: int, drafts: int, runs: int, counts: dict, seconds: float) -> str:
    rows = [("trials", trials), ("drafts", drafts), ("runs (clean re-runs included)", runs)]
    rows += [(LABELS[category], counts[category]) for category in CATEGORIES]
    rows.append(("time", "%d min %02d s" % divmod(round(seconds), 60)))
    width = max(len(label) for label, _ in rows)
    lines = ["| %s | %s |" % ("check".ljust(width), "count"), "| %s | ---: |" % ("-" * width)]
    lines += ["| %s | %s |" % (label.ljust(width), value) for label, value in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--seed", type=int, default=1, help="seed the trials' own seeds are drawn from")
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--replay", type=int, metavar="TRIAL_SEED", help="run the one trial with this seed, verbosely")
    args = parser.parse_args(argv)
    seeds = [args.replay] if args.replay is not None else trial_seeds(args.seed, args.trials)
    RECORDS.mkdir(parents=True, exist_ok=True)

    counts = dict.fromkeys(CATEGORIES, 0)
    findings = []
    drafts = runs = 0
    started = time.monotonic()
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="chaos-") as workdir:
        for number, seed in enumerate(seeds, 1):
            trial = run_trial(sandbox, draw(seed), Path(workdir) / str(seed))
            check = TrialCheck(trial)
            drafts += trial.plan.drafts
            runs += len(check.runs)
            for finding in check.findings:
                counts[finding.category] += 1
            findings += check.findings
            if check.findings or args.replay is not None:
                # A replay keeps the record of the run that found the failure.
                record = RECORDS / ("trial-%d%s.json" % (seed, "-replay" if args.replay is not None else ""))
                record.write_text(json.dumps(dataclasses.asdict(trial), indent=1, default=str))
            print("trial %d/%d seed %d: %d drafts, %d runs, %.1f s%s" % (
                number, len(seeds), seed, trial.plan.drafts, len(trial.runs), trial.seconds,
                "".join("\n  %s: %s" % (f.category, f.detail) for f in check.findings)), flush=True)
    print()
    print(table(len(seeds), drafts, runs, counts, time.monotonic() - started))
    if findings:
        print("\nFailures (replay one with --replay SEED; its records are in %s/trial-SEED.json):" % RECORDS)
        for finding in findings:
            print("  seed %d %s: %s" % (finding.seed, finding.category, finding.detail))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
