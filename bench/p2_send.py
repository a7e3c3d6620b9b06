"""P2 send: drafts sent with send_item's exactly-once protocol vs exchangelib bulk_send vs a raw baseline.

For each batch size (ids per run) and each repetition, the sandbox is emptied and
seeded with fresh drafts (admin seed), a fresh client is built (not timed: P1
measures that), and the send is timed, connection set-up and NTLM included:

* ``send_item (in-process)``: ``ExactlyOnceSender(client).send(refs)`` with the
  module's defaults (batch_size 100, save copy to Sent Items);
* ``exchangelib``: ``account.bulk_send([(id, changekey), ...])`` (its default
  chunk of 100 and copy to Sent Items; resolving ``account.sent`` costs it two
  GetFolder requests per Account, counted);
* ``raw``: lxml-built SendItem envelopes of 100 ids over one keep-alive
  requests.Session with NTLM, no idempotency.

Round trips come from the sandbox's request log (NTLM's 401 challenges are
HTTP requests but not EWS round trips: they are listed apart). The module via
ansible-playbook is in ``playbook_level.py``.
"""

import math

from common import Window, RawSender, close_exchangelib, ews_client, exchangelib_account, median, ratio

VARIANTS = ("send_item", "exchangelib", "raw")
LABELS = {"send_item": "send_item (ExactlyOnceSender, in-process)", "exchangelib": "exchangelib bulk_send",
          "raw": "raw SendItem (lxml + requests)"}


def _send_item(bench, drafts, batch_size=100):
    from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import ExactlyOnceSender, ItemRef
    client = ews_client(bench.settings_params())
    refs = [ItemRef.from_raw(d["id"], i) for i, d in enumerate(drafts)]
    sender = ExactlyOnceSender(client, batch_size=batch_size)
    with Window(bench) as window:
        results = sender.send(refs)
    client.close()
    sent = sum(1 for r in results if r["status"] == "sent")
    return window, sent


def _exchangelib(bench, drafts):
    close_exchangelib()
    sandbox = bench.sandbox
    account = exchangelib_account(sandbox.url, bench.user.login, bench.user.password, sandbox.ca_path)
    with Window(bench) as window:
        results = account.bulk_send([(d["id"], d["change_key"]) for d in drafts])
    sent = sum(1 for r in results if r is True)
    close_exchangelib()
    return window, sent


def _raw(bench, drafts):
    sandbox = bench.sandbox
    sender = RawSender(sandbox.url, bench.user.login, bench.user.password, sandbox.ca_path)
    with Window(bench) as window:
        sent = sender.send(drafts)
    sender.close()
    return window, sent


RUNNERS = {"send_item": _send_item, "exchangelib": _exchangelib, "raw": _raw}


def run(bench):
    sizes = (10, 100, 300, 1000)
    samples = {(v, n): [] for v in VARIANTS for n in sizes}
    # One warm-up round (first TLS contexts, zeep's schema, exchangelib's lazy imports), dropped.
    for rep in range(bench.reps + 1):
        for n in sizes:
            for variant in VARIANTS:
                drafts = bench.fresh_drafts(n)
                window, sent = RUNNERS[variant](bench, drafts)
                if sent != n:
                    raise RuntimeError("%s sent %d of %d drafts" % (variant, sent, n))
                if rep:
                    samples[(variant, n)].append(window)
    stats = {}
    for (variant, n), windows in samples.items():
        stats[(variant, n)] = dict(
            seconds=median([w.seconds for w in windows]),
            cpu=median([w.cpu_seconds for w in windows]),
            server=median([w.server_seconds for w in windows]),
            server_by_op={op: median([w.server_by_operation().get(op, 0.0) for w in windows])
                          for op in windows[0].server_by_operation() if op},
            ews=windows[0].operations(), ews_total=len(windows[0].ews_requests),
            http=windows[0].http_requests)
    # One batch holding every id: the round trips of one batch do not grow with its size.
    one_batch = {}
    for n in sizes:
        windows = []
        for _ in range(bench.reps):
            drafts = bench.fresh_drafts(n)
            window, _ = _send_item(bench, drafts, batch_size=n)
            windows.append(window)
        one_batch[n] = dict(seconds=median([w.seconds for w in windows]), ews=windows[0].operations(),
                            ews_total=len(windows[0].ews_requests))

    n = 1000
    eo, xl, raw = (stats[(v, n)]["seconds"] for v in VARIANTS)
    rows = [
        dict(id="P2", what="send 1,000 drafts: send_item in-process", value="%.2f s" % eo,
             compare="%.2f× exchangelib (%.2f s)" % (ratio(eo, xl), xl), target="≤ 1.0×", met=eo <= xl),
        dict(id="P2", what="send 1,000 drafts: send_item in-process", value="%.2f s" % eo,
             compare="%.2f× raw (%.2f s)" % (ratio(eo, raw), raw), target="≤ 2×", met=eo <= 2 * raw),
        dict(id="P2", what="round trips per batch (send_item, 1 batch of 10 … 1,000 ids)",
             value=", ".join(str(one_batch[s]["ews_total"]) for s in sizes),
             compare="constant" if len({one_batch[s]["ews_total"] for s in sizes}) == 1 else "NOT constant",
             target="constant (4)", met=len({one_batch[s]["ews_total"] for s in sizes}) == 1),
    ]
    lines = ["| ids | variant | median s | ms / id | ratio to exchangelib | ratio to raw | EWS requests | "
             "HTTP requests (with NTLM) | sandbox share | client CPU s |",
             "| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for n in sizes:
        for v in VARIANTS:
            s = stats[(v, n)]
            ops = ", ".join("%s %d" % item for item in sorted(s["ews"].items()))
            lines.append("| %d | %s | %.3f | %.2f | %.2f× | %.2f× | %d (%s) | %d | %.0f%% | %.3f |" % (
                n, LABELS[v], s["seconds"], 1000 * s["seconds"] / n, ratio(s["seconds"], stats[("exchangelib", n)]["seconds"]),
                ratio(s["seconds"], stats[("raw", n)]["seconds"]), s["ews_total"], ops, s["http"],
                100 * ratio(s["server"], s["seconds"]), s["cpu"]))
    lines += ["", "Round trips of send_item with one batch holding every id (`batch_size` = ids):", "",
              "| ids in the batch | EWS requests | by operation | s |", "| ---: | ---: | --- | ---: |"]
    for s in sizes:
        b = one_batch[s]
        lines.append("| %d | %d | %s | %.3f |" % (s, b["ews_total"], ", ".join(
            "%s %d" % item for item in sorted(b["ews"].items())), b["seconds"]))
    lines += ["", "With the default `batch_size` (100) the requests are %s per batch of 100 ids." % ", ".join(
        "%.1f" % (stats[("send_item", s)]["ews_total"] / math.ceil(s / 100.0)) for s in sizes)]
    plot = {v: [(n, stats[(v, n)]["seconds"]) for n in sizes] for v in VARIANTS}
    return dict(name="P2 send", rows=rows, detail="\n".join(lines),
                data=dict(plot=plot, labels=LABELS, stats={"%s/%d" % k: v for k, v in stats.items()},
                          one_batch=one_batch))
