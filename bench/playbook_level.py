"""Playbook level: what a task costs through ansible-playbook, and where a task's fixed cost goes.

Each playbook runs on localhost (connection local, the venv's Python), the
connection options come from the EWS_* environment variables (the modules'
fallbacks), ``item_ids`` are the draft_ids lookup's entries. Times are
ansible-playbook wall times; the no-op playbook (one ``debug`` task) is the
fixed cost of starting ansible-playbook, subtracted to get a task's own cost.

* one ``send_item`` task with 1,000 ids (P2 via Ansible), and with LOOP_IDS ids;
* a ``loop`` of LOOP_IDS ``send_item`` tasks with one id each;
* one task templating ``query('exchange.ews.draft_ids', ...)`` (P3 via Ansible).

The per-task breakdown takes one ``send_item`` task in check mode on one draft
(it reads the draft: one GetItem, and changes nothing, so every layer below
can run it again with the same arguments) and peels it layer by layer, each
layer timed in fresh processes, median of the reps:

1. the task: the one-task playbook minus the no-op playbook run just before it;
2. building the AnsiballZ payload: the first task minus a second, identical
   task in the same playbook (Ansible builds a module's payload once per run
   and reuses it); ``ANSIBLE_DEBUG``'s timestamps cannot time it, as a
   worker's debug lines are stamped when the main process receives them;
3. the payload run alone on the target: the ``AnsiballZ_send_item.py`` kept by
   ``ANSIBLE_KEEP_REMOTE_FILES=1`` (its arguments are inside); the second task
   minus this is Ansible's task machinery on the controller (the worker,
   templating, the remote temp folder, shipping the payload, the result,
   clean-up);
4. the module file run directly with the same arguments (``send_item.py
   args.json``): the difference to 3 is AnsiballZ on the target (writing the
   payload out, importing from the zip, where Python keeps no ``.pyc``);
5. a child that repeats the module's set-up in stages, each timed: Python's
   start, the imports (each library is charged what it adds over the stages
   before it), the schema parse, the zeep client and session, and a first and a
   second GetItem on the connection (the difference is TLS and the NTLM
   handshake); what is left of 4 is the module's own work (argument parsing,
   the GetItem, the result, exit).

Differences of medians taken on a busy machine can come out slightly
negative where a part is small: read them as "about zero".
"""

import base64
import io
import json
import re
import sys
import time
import zipfile

STAGES_CHILD = """
import json, os, sys, time
started = float(sys.argv[1])
marks = [("Python start", time.time())]
def mark(name):
    marks.append((name, time.time()))
import ansible.module_utils.basic
mark("import ansible.module_utils.basic")
import requests
mark("import requests (urllib3, idna, certifi, charset_normalizer)")
import lxml.etree
mark("import lxml")
import zeep
mark("import zeep")
import requests_ntlm
mark("import requests-ntlm (pyspnego, cryptography)")
from ansible_collections.exchange.ews.plugins.modules import send_item
from ansible_collections.exchange.ews.plugins.module_utils.client import EwsClient, schema_document
from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import GetItem
mark("import the collection's module and module_utils")
schema_document()
mark("client: parse the embedded WSDL/XSD (zeep)")
client = EwsClient(ConnectionSettings.from_params({
    "url": os.environ["EWS_URL"], "username": os.environ["EWS_USERNAME"],
    "password": os.environ["EWS_PASSWORD"], "ca_path": os.environ["EWS_CA_PATH"]}))
mark("client: zeep client, service binding, requests session")
GetItem(client).call([sys.argv[2]], field_uris=("item:IsDraft",))
mark("first GetItem (TLS, NTLM handshake, request)")
GetItem(client).call([sys.argv[2]], field_uris=("item:IsDraft",))
mark("second GetItem (request only)")
print(json.dumps([(name, at - started) for name, at in marks]))
"""

from common import REPO, Window, lookup_entries, median, ratio, run_child, write_json  # noqa: E402
from p3_lookup import NEEDLE, seed as seed_lookup  # noqa: E402

LOOP_IDS = 20
# The breakdown subtracts whole playbook runs from one another: twice the reps, as each run is short.
BREAKDOWN_REPS_FACTOR = 2
PLAY = """- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: %(python)s
  tasks:
%(tasks)s
"""
NOOP = """    - ansible.builtin.debug:
        msg: ok
"""
ONE_TASK = """    - exchange.ews.send_item:
        item_ids: "{{ ids }}"
      register: sent
    - ansible.builtin.assert:
        that: sent.counts.sent == ids | length
        quiet: true
"""
CHECK_TASK = """    - exchange.ews.send_item:
        item_ids: "{{ ids }}"
      check_mode: true
"""
LOOP = """    - exchange.ews.send_item:
        item_ids: ["{{ item }}"]
      loop: "{{ ids }}"
"""
LOOKUP = """    - ansible.builtin.assert:
        that: query('exchange.ews.draft_ids', subject=%r) | length == 3
        quiet: true
""" % NEEDLE


def _playbook(bench, name, tasks):
    path = bench.workdir / ("%s.yml" % name)
    path.write_text(PLAY % {"python": sys.executable, "tasks": tasks}, encoding="utf-8")
    return path


def _playbook_args(bench, playbook, ids=None):
    args = [str(bench.ansible_playbook), "-i", "localhost,", str(playbook)]
    if ids is not None:
        args += ["-e", "@%s" % write_json(bench.workdir / "ids.json", {"ids": ids})]
    return args


def _run(bench, playbook, ids=None):
    with Window(bench) as window:
        run_child(_playbook_args(bench, playbook, ids), bench.env)
    return window


def run(bench, p2=None):
    from pathlib import Path
    bench.ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    noop = _playbook(bench, "noop", NOOP)
    one = _playbook(bench, "one_task", ONE_TASK)
    loop = _playbook(bench, "loop", LOOP)
    lookup = _playbook(bench, "lookup", LOOKUP)
    reps = bench.reps
    samples = {"noop": [], "one1000": [], "one_small": [], "loop": [], "lookup": []}
    _run(bench, noop)  # warm-up: page cache, Ansible's own caches
    for rep in range(reps):
        samples["noop"].append(_run(bench, noop))
        for key, n in (("one1000", 1000), ("one_small", LOOP_IDS)):
            samples[key].append(_run(bench, one, lookup_entries(bench.fresh_drafts(n))))
        samples["loop"].append(_run(bench, loop, lookup_entries(bench.fresh_drafts(LOOP_IDS))))
    seed_lookup(bench)
    for rep in range(reps):
        samples["lookup"].append(_run(bench, lookup))
    med = {k: median([w.seconds for w in v]) for k, v in samples.items()}
    task = {k: med[k] - med["noop"] for k in med}
    trips = {k: len(v[0].ews_requests) for k, v in samples.items()}
    server = {k: median([w.server_seconds for w in v]) for k, v in samples.items()}
    per_loop_task = (task["loop"] - task["one_small"]) / (LOOP_IDS - 1.0)
    breakdown = _task_breakdown(bench, noop)
    rows = []
    if p2:
        xl = p2["data"]["stats"]["exchangelib/0ms"]["seconds"]
        raw = p2["data"]["stats"]["raw/0ms"]["seconds"]
        rows += [
            dict(id="P2", what="send 1,000 drafts: send_item task via ansible-playbook (minus no-op playbook), 0 ms",
                 value="%.2f s" % task["one1000"], compare="%.2f× exchangelib (%.2f s)" % (ratio(task["one1000"], xl), xl),
                 target="≤ 1.0×", met=task["one1000"] <= xl),
            dict(id="P2", what="send 1,000 drafts: send_item task via ansible-playbook (minus no-op playbook), 0 ms",
                 value="%.2f s" % task["one1000"], compare="%.2f× raw (%.2f s)" % (ratio(task["one1000"], raw), raw),
                 target="≤ 2×", met=task["one1000"] <= 2 * raw),
        ]
    if "p3" in bench.results:
        # A lookup in a playbook pays its imports and client in the controller on first use, so the
        # like-for-like exchangelib number is a fresh process: P1's Account ready time plus the cold query.
        xl = bench.results["p3"]["data"]["median"]["xl_cold"]
        xl_ready = bench.results["p1"]["data"]["median"]["exchangelib"] if "p1" in bench.results else 0.0
        rows.append(dict(id="P3", what="lookup via ansible-playbook (minus no-op playbook)", value="%.3f s" % task["lookup"],
                         compare="%.2f× exchangelib fresh process: import + Account + query (%.3f s)" % (
                             ratio(task["lookup"], xl + xl_ready), xl + xl_ready),
                         target="≤ 1.0×", met=task["lookup"] <= xl + xl_ready))
    rows.append(dict(id="PB", what="%d ids: loop of %d single-id tasks vs one task" % (LOOP_IDS, LOOP_IDS),
                     value="%.1f s vs %.1f s" % (task["loop"], task["one_small"]),
                     compare="%.0f× slower; %.2f s per extra task" % (ratio(task["loop"], task["one_small"]),
                                                                       per_loop_task),
                     target="(guidance)", met=None))
    labels = {"noop": "no-op playbook (one debug task)", "one1000": "one send_item task, 1,000 ids",
              "one_small": "one send_item task, %d ids" % LOOP_IDS,
              "loop": "loop of %d send_item tasks, 1 id each" % LOOP_IDS,
              "lookup": "one task templating the draft_ids lookup (3 of 10,000)"}
    lines = ["| playbook | runs | median wall s | minus no-op s | EWS requests | sandbox share of the task |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for key, label in labels.items():
        lines.append("| %s | %d | %.2f | %s | %d | %s |" % (
            label, len(samples[key]), med[key], "—" if key == "noop" else "%.2f" % task[key], trips[key],
            "—" if key == "noop" else "%.0f%%" % (100 * ratio(server[key], task[key]))))
    lines += ["", "Where one task's time goes: a send_item task in check mode on one draft (one GetItem), "
              "peeled layer by layer as the module docstring describes (medians of %d runs each):" % (
                  BREAKDOWN_REPS_FACTOR * reps), "",
              "| | part | s | share of the task | measured as |", "| --- | --- | ---: | ---: | --- |"]
    for group, part, seconds, how in breakdown["parts"]:
        share = ratio(seconds, breakdown["task"])
        lines.append("| %s | %s | %.3f | %.0f%% | %s |" % (group, part, seconds, 100 * share, how))
    lines.append("| | **the task (one-task playbook minus no-op playbook)** | **%.3f** | 100%% | |" % breakdown["task"])
    lines += ["", "In short: %s." % groups_text(breakdown)]
    lines += ["", "The AnsiballZ payload is %d KB (%d files zipped); Ansible builds it once per ansible-playbook run "
              "and module (a loop's later tasks reuse it), and every task ships and runs it again." % (
                  breakdown["payload_bytes"] // 1024, breakdown["payload_files"])]
    return dict(name="Playbook level", rows=rows, detail="\n".join(lines),
                data=dict(median=med, task=task, trips=trips, per_loop_task=per_loop_task, loop_ids=LOOP_IDS,
                          breakdown=breakdown))


def groups_text(breakdown):
    return ", ".join("%s %.2f s (%.0f%%)" % (group, seconds, 100 * ratio(seconds, breakdown["task"]))
                     for group, seconds in breakdown["groups"])


def _task_breakdown(bench, noop):
    one = _playbook(bench, "check_task", CHECK_TASK)
    two = _playbook(bench, "check_twice", CHECK_TASK + CHECK_TASK)
    drafts = bench.fresh_drafts(1)
    entries = lookup_entries(drafts)
    env = bench.env
    remote_tmp = bench.workdir / "remote-tmp"
    run_child(_playbook_args(bench, one, entries), dict(env, ANSIBLE_KEEP_REMOTE_FILES="1",
                                                         ANSIBLE_REMOTE_TMP=str(remote_tmp)))
    ballz_path = str(next(remote_tmp.glob("*/AnsiballZ_send_item.py")))
    stages_script = bench.workdir / "stages.py"
    stages_script.write_text(STAGES_CHILD, encoding="utf-8")
    module_args = write_json(bench.workdir / "check-args.json",
                             {"ANSIBLE_MODULE_ARGS": {"item_ids": entries, "_ansible_check_mode": True}})
    first, second, ballz, module, stages = [], [], [], [], []
    for _ in range(BREAKDOWN_REPS_FACTOR * bench.reps):
        # The three playbooks back to back, so that the differences are taken under the same load.
        noop_seconds = run_child(_playbook_args(bench, noop), env)[0]
        one_seconds = run_child(_playbook_args(bench, one, entries), env)[0]
        two_seconds = run_child(_playbook_args(bench, two, entries), env)[0]
        first.append(one_seconds - noop_seconds)
        second.append(two_seconds - one_seconds)
        ballz.append(run_child([sys.executable, ballz_path], env)[0])
        module.append(run_child([sys.executable, str(REPO / "plugins" / "modules" / "send_item.py"),
                                 str(module_args)], env)[0])
        started = time.time()
        _, out = run_child([sys.executable, str(stages_script), repr(started), drafts[0]["id"]], env)
        stages.append(json.loads(out.strip().splitlines()[-1]))
    with open(ballz_path, encoding="utf-8") as stream:
        payload = base64.b64decode(re.search(r"zip_data\s*=\s*['\"]([A-Za-z0-9+/=]+)['\"]", stream.read()).group(1))
    stage_names = [name for name, _ in stages[0]]
    # The stages child reports times since the parent's spawn: each stage is the step from the one before.
    at = {name: median([dict(s)[name] for s in stages]) for name in stage_names}
    steps = [(name, at[name] - (at[stage_names[i - 1]] if i else 0.0)) for i, name in enumerate(stage_names)]
    first_request, second_request = steps[-2][1], steps[-1][1]
    set_up = sum(seconds for _, seconds in steps[:-2]) + (first_request - second_request)
    task, again = median(first), median(second)
    ballz_s, module_s = median(ballz), median(module)
    parts = [("AnsiballZ", "build the payload (controller; once per run and module)", task - again,
              "first send_item task of a playbook minus a second, identical one (which reuses the payload)"),
             ("Ansible", "task machinery on the controller (worker, templating, remote temp folder, shipping "
              "the payload, result, clean-up)", again - ballz_s,
              "second task minus the kept AnsiballZ_send_item.py run alone"),
             ("AnsiballZ", "unpack and import from the zip on the target (no .pyc there)", ballz_s - module_s,
              "kept AnsiballZ_send_item.py run alone minus the module file run directly")]
    parts += [("client set-up" if name.startswith("client") else "Python start and imports", name, seconds,
               "staged child (the module's set-up repeated)") for name, seconds in steps[:-2]]
    parts += [("client set-up", "client: TLS and NTLM handshake", first_request - second_request,
               "first GetItem on the connection minus the second"),
              ("the module's work", "arguments, one GetItem, result, exit", module_s - set_up,
               "module file run directly minus the staged set-up")]
    groups = {}
    for group, _part, seconds, _how in parts:
        groups[group] = groups.get(group, 0.0) + seconds
    return dict(parts=parts, groups=list(groups.items()), task=task, second_task=again, payload_bytes=len(payload),
                payload_files=len(zipfile.ZipFile(io.BytesIO(payload)).namelist()), ballz=ballz_s, module=module_s)
