"""P3 lookup: 3 matching drafts among 10,000, by subject.

* ``draft_ids core``: what the lookup runs once its options are read: a fresh
  ``EwsClient`` and ``FindItem(client).find(...)`` with the lookup's own
  restriction builder, properties, sort and result conversion (``draft_result``);
* ``exchangelib``: ``list(account.drafts.filter(subject=...))`` on a fresh
  Account (the Drafts folder is resolved with GetFolder first, counted), and
  the same query again on the warm Account;
* via Ansible: a playbook whose one task templates
  ``query('exchange.ews.draft_ids', subject=...)``, minus a no-op playbook
  (``playbook_level.py`` measures that baseline).

Client construction is timed on both sides for the cold numbers: a lookup
builds its client on every call.
"""

from common import PRINCIPAL_SMTP, RECIPIENT, Window, close_exchangelib, ews_client, exchangelib_account, \
    median, ratio

NEEDLE = "bench needle 7f3a"
HAYSTACK = 10000


def seed(bench):
    bench.fresh_drafts(HAYSTACK - 3, subject="bench filler {n}")
    bench.admin.seed(PRINCIPAL_SMTP, count=3, subject=NEEDLE, to=[RECIPIENT])


def _core(bench, client=None):
    from ansible_collections.exchange.ews.plugins.lookup.draft_ids import RESULT_PROPERTIES, draft_result
    from ansible_collections.exchange.ews.plugins.module_utils import restrictions as r
    from ansible_collections.exchange.ews.plugins.module_utils.services.common import folder_id
    from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem
    from ansible_collections.exchange.ews.plugins.plugin_utils.draft_filters import draft_field_orders, \
        draft_restriction
    own = client is None
    client = client or ews_client(bench.settings_params())
    result = FindItem(client).find(folder_id("drafts"),
                                   additional_properties=[r.field_uri(uri) for uri in RESULT_PROPERTIES],
                                   restriction=draft_restriction(subject=NEEDLE),
                                   field_orders=draft_field_orders("newest_first"))
    found = [draft_result(item) for item in result.items]
    if own:
        client.close()
    return found


def run(bench):
    seed(bench)
    sandbox = bench.sandbox
    samples = {"core_cold": [], "core_warm": [], "xl_cold": [], "xl_warm": []}
    for rep in range(2 * bench.reps + 1):     # cheap, so twice the reps; the first round is dropped
        with Window(bench) as w:
            found = _core(bench)
        assert len(found) == 3, found
        client = ews_client(bench.settings_params())
        _core(bench, client)
        with Window(bench) as w2:
            _core(bench, client)
        client.close()
        close_exchangelib()
        with Window(bench) as x:
            account = exchangelib_account(sandbox.url, bench.user.login, bench.user.password, sandbox.ca_path)
            items = list(account.drafts.filter(subject=NEEDLE))
        assert len(items) == 3, items
        with Window(bench) as x2:
            items = list(account.drafts.filter(subject=NEEDLE))
        close_exchangelib()
        if rep:
            for key, window in (("core_cold", w), ("core_warm", w2), ("xl_cold", x), ("xl_warm", x2)):
                samples[key].append(window)
    med = {k: median([w.seconds for w in v]) for k, v in samples.items()}
    ops = {k: v[0].operations() for k, v in samples.items()}
    trips = {k: len(v[0].ews_requests) for k, v in samples.items()}
    server = {k: median([w.server_seconds for w in v]) for k, v in samples.items()}
    cold = ratio(med["core_cold"], med["xl_cold"])
    warm = ratio(med["core_warm"], med["xl_warm"])
    rows = [
        dict(id="P3", what="lookup 3 of 10,000 drafts, fresh client: draft_ids core", value="%.3f s" % med["core_cold"],
             compare="%.2f× exchangelib (%.3f s)" % (cold, med["xl_cold"]), target="≤ 1.0×", met=cold <= 1.0),
        dict(id="P3", what="lookup, warm client: draft_ids core", value="%.3f s" % med["core_warm"],
             compare="%.2f× exchangelib (%.3f s)" % (warm, med["xl_warm"]), target="≤ 1.0×", met=warm <= 1.0),
        dict(id="P3", what="lookup round trips (draft_ids)", value=str(trips["core_warm"]),
             compare="exchangelib: %d cold, %d warm" % (trips["xl_cold"], trips["xl_warm"]), target="1",
             met=trips["core_warm"] == 1 and trips["core_cold"] == 1),
    ]
    labels = {"core_cold": "draft_ids core, fresh client", "core_warm": "draft_ids core, warm client",
              "xl_cold": "exchangelib, fresh Account", "xl_warm": "exchangelib, warm Account"}
    lines = ["| variant | median s | EWS requests | sandbox share |", "| --- | ---: | --- | ---: |"]
    for key, label in labels.items():
        lines.append("| %s | %.3f | %d (%s) | %.0f%% |" % (label, med[key], trips[key], ", ".join(
            "%s %d" % item for item in sorted(ops[key].items())), 100 * ratio(server[key], med[key])))
    return dict(name="P3 lookup", rows=rows, detail="\n".join(lines), data=dict(median=med, trips=trips, ops=ops))
