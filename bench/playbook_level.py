"""Playbook level: what a task costs through ansible-playbook.

Each playbook runs on localhost (connection local, the venv's Python), the
connection options come from the EWS_* environment variables (the modules'
fallbacks). Times are ansible-playbook wall times; the no-op playbook (one
``debug`` task) is the fixed cost of starting ansible-playbook, subtracted to
get a task's own cost.

* one ``send_item`` task with 1,000 ids (P2 via Ansible), and with 100 ids;
* a ``loop`` of 100 ``send_item`` tasks with one id each;
* one task templating ``query('exchange.ews.draft_ids', ...)`` (P3 via Ansible).
"""

import sys

from common import Window, median, ratio, run_child, write_json
from p3_lookup import NEEDLE, seed as seed_lookup

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


def _run(bench, playbook, ids=None):
    args = [str(bench.ansible_playbook), "-i", "localhost,", str(playbook)]
    if ids is not None:
        args += ["-e", "@%s" % write_json(bench.workdir / "ids.json", {"ids": ids})]
    with Window(bench) as window:
        run_child(args, bench.env)
    return window


def run(bench, p2=None):
    from pathlib import Path
    bench.ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    noop = _playbook(bench, "noop", NOOP)
    one = _playbook(bench, "one_task", ONE_TASK)
    loop = _playbook(bench, "loop", LOOP)
    lookup = _playbook(bench, "lookup", LOOKUP)
    reps = bench.reps
    loop_reps = max(1, min(3, reps))
    samples = {"noop": [], "one1000": [], "one100": [], "loop100": [], "lookup": []}
    _run(bench, noop)  # warm-up: page cache, Ansible's own caches
    for rep in range(reps):
        samples["noop"].append(_run(bench, noop))
        for key, n in (("one1000", 1000), ("one100", 100)):
            drafts = bench.fresh_drafts(n)
            samples[key].append(_run(bench, one, [d["id"] for d in drafts]))
        if rep < loop_reps:
            drafts = bench.fresh_drafts(100)
            samples["loop100"].append(_run(bench, loop, [d["id"] for d in drafts]))
    seed_lookup(bench)
    for rep in range(reps):
        samples["lookup"].append(_run(bench, lookup))
    med = {k: median([w.seconds for w in v]) for k, v in samples.items()}
    task = {k: med[k] - med["noop"] for k in med}
    trips = {k: len(v[0].ews_requests) for k, v in samples.items()}
    server = {k: median([w.server_seconds for w in v]) for k, v in samples.items()}
    per_loop_task = task["loop100"] / 100.0
    rows = []
    if p2:
        xl = p2["data"]["stats"]["exchangelib/1000"]["seconds"]
        raw = p2["data"]["stats"]["raw/1000"]["seconds"]
        rows += [
            dict(id="P2", what="send 1,000 drafts: send_item task via ansible-playbook (minus no-op playbook)",
                 value="%.2f s" % task["one1000"], compare="%.2f× exchangelib (%.2f s)" % (ratio(task["one1000"], xl), xl),
                 target="≤ 1.0×", met=task["one1000"] <= xl),
            dict(id="P2", what="send 1,000 drafts: send_item task via ansible-playbook (minus no-op playbook)",
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
    rows.append(dict(id="PB", what="100 ids: loop of 100 single-id tasks vs one task",
                     value="%.1f s vs %.1f s" % (task["loop100"], task["one100"]),
                     compare="%.0f× slower; %.2f s per extra task" % (ratio(task["loop100"], task["one100"]), per_loop_task),
                     target="(guidance)", met=None))
    labels = {"noop": "no-op playbook (one debug task)", "one1000": "one send_item task, 1,000 ids",
              "one100": "one send_item task, 100 ids", "loop100": "loop of 100 send_item tasks, 1 id each",
              "lookup": "one task templating the draft_ids lookup (3 of 10,000)"}
    lines = ["| playbook | runs | median wall s | minus no-op s | EWS requests | sandbox share of the task |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for key, label in labels.items():
        lines.append("| %s | %d | %.2f | %s | %d | %s |" % (
            label, len(samples[key]), med[key], "—" if key == "noop" else "%.2f" % task[key], trips[key],
            "—" if key == "noop" else "%.0f%%" % (100 * ratio(server[key], task[key]))))
    return dict(name="Playbook level", rows=rows, detail="\n".join(lines),
                data=dict(median=med, task=task, trips=trips, per_loop_task=per_loop_task))
