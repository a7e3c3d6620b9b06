"""P4 memory: peak RSS of sending 10,000 drafts in one task.

* the module process: ``plugins/modules/send_item.py`` run the way Ansible
  runs a module (a JSON args file), with 10,000 ids and the default batch size;
* the in-process sender in a child Python process (``ExactlyOnceSender`` on a
  client built as send_item builds it);
* for scale, a process that imports what the module imports and builds the client.

Peak RSS is the child's ``ru_maxrss`` from ``os.wait4`` (the kernel's count of
that one process), read by the parent.
"""

import sys

CHILD_SENDER = """
import json, os, sys
from ansible_collections.exchange.ews.plugins.module_utils.client import EwsClient
from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import ExactlyOnceSender, ItemRef
params = json.load(open(sys.argv[1]))
ids = params.pop("item_ids")
client = EwsClient(ConnectionSettings.from_params(params))
if ids:
    results = ExactlyOnceSender(client).send([ItemRef.from_raw(i, n) for n, i in enumerate(ids)])
    print(sum(1 for r in results if r["status"] == "sent"))
else:
    print(0)
"""

from common import REPO, write_json  # noqa: E402

IDS = 10000


def _rss_child(args, env):
    """(peak RSS MB, stdout) of one child process."""
    import os
    import subprocess
    import tempfile
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if process.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(map(str, args)), text[-3000:]))
    return usage.ru_maxrss / 1024.0, text


def run(bench):
    import json
    import time
    env = bench.env
    measured = {}
    # The module, as Ansible runs it.
    drafts = bench.fresh_drafts(IDS)
    args = dict(bench.settings_params(), item_ids=[d["id"] for d in drafts])
    path = write_json(bench.workdir / "module-args.json", {"ANSIBLE_MODULE_ARGS": args})
    started = time.perf_counter()
    rss, out = _rss_child([sys.executable, str(REPO / "plugins" / "modules" / "send_item.py"), str(path)], env)
    seconds = time.perf_counter() - started
    result = json.loads(out[out.index("{"):])
    if result["counts"]["sent"] != IDS:
        raise RuntimeError("the module sent %s" % result["counts"])
    measured["module"] = (rss, seconds)
    # The sender in-process, in its own child.
    drafts = bench.fresh_drafts(IDS)
    params = write_json(bench.workdir / "sender.json", dict(bench.settings_params(), item_ids=[d["id"] for d in drafts]))
    started = time.perf_counter()
    rss, out = _rss_child([sys.executable, "-c", CHILD_SENDER, str(params)], env)
    measured["sender"] = (rss, time.perf_counter() - started)
    if int(out.strip().splitlines()[-1]) != IDS:
        raise RuntimeError("the sender sent %s" % out)
    # Imports + client only.
    params = write_json(bench.workdir / "empty.json", dict(bench.settings_params(), item_ids=[]))
    started = time.perf_counter()
    rss, _ = _rss_child([sys.executable, "-c", CHILD_SENDER, str(params)], env)
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
