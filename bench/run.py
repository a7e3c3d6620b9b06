"""`make bench`: every benchmark against one sandbox, a table on stdout, docs/performance.md.

    python bench/run.py [--reps N] [--only p1,p2,sandbox,p3,p4,playbook] [--no-docs]

One sandbox (HTTPS + NTLM, ews_sandbox.testing.Sandbox) serves every scenario,
so each ratio compares clients measured side by side in one run (the sandbox
profile starts a second, profiled one of its own). Each number is the median of
``--reps`` repetitions after a dropped warm-up round. Results are also written
as JSON to bench/results/ (git-ignored). A full run (``make bench``, 5 reps)
takes about 4 to 5 minutes on a 2-core machine, most of it the playbook level;
while developing, ``--reps 1 --only p2`` takes about 25 s.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import COLLECTIONS, REPO, Bench  # noqa: E402

SCENARIOS = ("p1", "p2", "sandbox", "p3", "p4", "playbook")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions per measurement (median; default 5)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated subset of %s" % ", ".join(SCENARIOS))
    parser.add_argument("--no-docs", action="store_true", help="print the table only, leave docs/ alone")
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        parser.error("unknown scenario(s): %s" % ", ".join(sorted(unknown)))
    if not (COLLECTIONS / "ansible_collections" / "exchange" / "ews").exists():
        sys.exit("bench: run `make collection` first (or `make bench`)")
    plot = not args.no_docs
    if plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            sys.exit("bench: the plot needs matplotlib: %s/bin/python -m pip install -r requirements/bench.txt"
                     % os.environ.get("VIRTUAL_ENV", ".venv"))

    from ews_sandbox.testing import Sandbox
    import p1_client_ready
    import p2_send
    import p3_lookup
    import p4_memory
    import playbook_level
    import report
    import sandbox_profile

    # Stopped with SIGTERM, still stop the sandbox (the with block's exit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.time()
    with Sandbox() as sandbox:
        bench = Bench(sandbox, reps=args.reps)
        bench.results = {}
        bench.commit, bench.dirty = report.source_state()
        steps = [("p1", lambda: p1_client_ready.run(bench)), ("p2", lambda: p2_send.run(bench)),
                 ("sandbox", lambda: sandbox_profile.run(bench)),
                 ("p3", lambda: p3_lookup.run(bench)), ("p4", lambda: p4_memory.run(bench)),
                 ("playbook", lambda: playbook_level.run(bench, bench.results.get("p2")))]
        for key, step in steps:
            if key not in only:
                continue
            t0 = time.time()
            print("bench: %s ..." % key, file=sys.stderr, flush=True)
            bench.results[key] = step()
            print("bench: %s done in %.0f s" % (key, time.time() - t0), file=sys.stderr, flush=True)
        shutil.rmtree(bench.workdir, ignore_errors=True)   # playbooks, id lists and args files of this run
    elapsed = time.time() - started
    results = [bench.results[k] for k in SCENARIOS if k in bench.results]
    print(report.table(results))
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(
        {r["name"]: {"rows": r["rows"], "data": r["data"]} for r in results}, default=str, indent=1))
    if not args.no_docs:
        report.write_docs(results, bench, elapsed)
        print("bench: wrote docs/performance.md and its plots, docs/performance-*.png (%.0f s)" % elapsed)


if __name__ == "__main__":
    main()
