"""P4 memory: peak RSS of sending 10,000 drafts in one task.

* the module process: ``plugins/modules/send_item.py`` run the way Ansible
  runs a module (a JSON args file), with 10,000 of the draft_ids lookup's
  entries and the module's defaults (batch_size 100, concurrency 4);
* the in-process sender in a child Python process (``ExactlyOnceSender`` built
  as send_item builds it, ``common.send_item_sender``);
* for scale, a process that imports what the module imports and builds the client.

Peak RSS is the child's own ``VmHWM`` (``/proc/self/status``), printed by the
child as it exits. Not ``ru_maxrss``: a child spawned by vfork + exec inherits
its parent's high-water mark (Linux keeps the larger of the pre- and post-exec
marks), so it would report the benchmark harness's memory.
"""

import sys

# Runs a script (the module) as __main__ and reports the process's peak RSS on stderr, even when the
# script ends with sys.exit (exit_json does).
RUN_REPORTING_PEAK = """
import runpy, sys
script = sys.argv[1]
sys.argv = sys.argv[1:]
try:
    runpy.run_path(script, run_name="__main__")
finally:
    with open("/proc/self/status") as status:
        peak = [line.split()[1] for line in status if line.startswith("VmHWM:")][0]
    sys.stderr.write("PEAK_RSS_KB=%s\\n" % peak)
"""

CHILD_SENDER = """
import json, sys
sys.path.insert(0, sys.argv[2])
from common import send_item_sender
from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import ItemRef
params = json.load(open(sys.argv[1]))
entries = params.pop("item_ids")
sender = send_item_sender(params)
if entries:
    results = sender.send([ItemRef.from_raw(entry, n) for n, entry in enumerate(entries)])
    print(sum(1 for r in results if r["status"] == "sent"))
else:
    print(0)
"""

from common import REPO, lookup_entries, write_json  # noqa: E402

IDS = 10000


def _rss_child(args, env):
    """(peak RSS MB, stdout) of one Python child run through RUN_REPORTING_PEAK."""
    import re
    import subprocess
    process = subprocess.run([sys.executable, "-c", RUN_REPORTING_PEAK] + args, env=env, cwd=REPO,
                             capture_output=True, text=True, stdin=subprocess.DEVNULL)
    peak = re.search(r"PEAK_RSS_KB=(\d+)", process.stderr)
    if process.returncode != 0 or not peak:
        raise RuntimeError("%s failed:\n%s\n%s" % (" ".join(map(str, args)), process.stdout[-3000:],
                                                   process.stderr[-3000:]))
    return int(peak.group(1)) / 1024.0, process.stdout


def run(bench):
    import json
    import time
    env = bench.env
    measured = {}
    sender_script = bench.workdir / "sender.py"
    sender_script.write_text(CHILD_SENDER, encoding="utf-8")
    sender_script = str(sender_script)
    # The module, as Ansible runs it.
    drafts = bench.fresh_drafts(IDS)
    args = dict(bench.settings_params(), item_ids=lookup_entries(drafts))
    path = write_json(bench.workdir / "module-args.json", {"ANSIBLE_MODULE_ARGS": args})
    started = time.perf_counter()
    rss, out = _rss_child([str(REPO / "plugins" / "modules" / "send_item.py"), str(path)], env)
    seconds = time.perf_counter() - started
    result = json.loads(out[out.index("{"):])
    if result["counts"]["sent"] != IDS:
        raise RuntimeError("the module sent %s" % result["counts"])
    measured["module"] = (rss, seconds)
    # The sender in-process, in its own child.
    drafts = bench.fresh_drafts(IDS)
    params = write_json(bench.workdir / "sender.json", dict(bench.settings_params(), item_ids=lookup_entries(drafts)))
    started = time.perf_counter()
    rss, out = _rss_child([sender_script, str(params), str(REPO / "bench")], env)
    measured["sender"] = (rss, time.perf_counter() - started)
    if int(out.strip().splitlines()[-1]) != IDS:
        raise RuntimeError("the sender sent %s" % out)
    # Imports + client only.
    params = write_json(bench.workdir / "empty.json", dict(bench.settings_params(), item_ids=[]))
    started = time.perf_counter()
    rss, _ = _rss_child([sender_script, str(params), str(REPO / "bench")], env)
    measured["imports"] = (rss, time.perf_counter() - started)

    rows = [dict(id="P4", what="peak RSS, send_item module process, 10,000 ids", value="%.0f MB" % measured["module"][0],
                 compare="in-process sender %.0f MB; imports + client alone %.0f MB" % (
                     measured["sender"][0], measured["imports"][0]),
                 target="≤ 150 MB", met=measured["module"][0] <= 150)]
    lines = ["| process | peak RSS | wall s |", "| --- | ---: | ---: |",
             "| send_item module process, 10,000 ids | %.0f MB | %.1f |" % measured["module"],
             "| ExactlyOnceSender in a child process, 10,000 ids | %.0f MB | %.1f |" % measured["sender"],
             "| imports + EwsClient, no ids | %.0f MB | %.1f |" % measured["imports"]]
    return dict(name="P4 memory", rows=rows, detail="\n".join(lines), data=measured)
