"""P1 client ready: a fresh Python process until it holds a client that can send.

Three children, each started fresh ``reps`` times and timed from just before
the parent spawns it until the child has its client (the child prints the
wall-clock difference, so process exit is not counted):

* ``exchange.ews``: imports as send_item does, ``ConnectionSettings`` +
  ``EwsClient`` (embedded WSDL/XSD parsed by zeep, the requests session with NTLM);
* ``exchangelib``: import, ``Configuration`` with the sandbox URL, NTLM, an
  explicit Version (so nothing is asked of the server) and the sandbox CA, ``Account``;
* floor: a process that only imports zeep and requests_ntlm;
* for scale, a process that only imports ``ansible.module_utils.basic`` (every
  module imports it for ``AnsibleModule``; the ews child reports whether building
  the client imported it too).

No variant talks to the server: the NTLM handshake belongs to the first request (P2).
"""

import sys
import time


def _child(kind, started):
    import os
    stages = []
    imports_basic = None
    if kind == "ews":
        from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
        from ansible_collections.exchange.ews.plugins.module_utils.client import EwsClient, schema_document
        from ansible_collections.exchange.ews.plugins.module_utils.ews_channel import EwsChannel
        from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import ExactlyOnceSender
        stages.append(time.time())
        schema_document()   # what EwsClient does first; split out only to report it
        stages.append(time.time())
        client = EwsClient(ConnectionSettings.from_params({
            "url": os.environ["EWS_URL"], "username": os.environ["EWS_USERNAME"],
            "password": os.environ["EWS_PASSWORD"], "ca_path": os.environ["EWS_CA_PATH"]}))
        ExactlyOnceSender(EwsChannel(client))
    elif kind == "exchangelib":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from common import exchangelib_account
        exchangelib_account(os.environ["EWS_URL"], os.environ["EWS_USERNAME"], os.environ["EWS_PASSWORD"],
                            os.environ["EWS_CA_PATH"])
    elif kind == "ansible_basic":
        import ansible.module_utils.basic  # noqa: F401
    else:
        import zeep  # noqa: F401
        import requests_ntlm  # noqa: F401
    now = time.time()
    print("IMPORTS_ANSIBLE_BASIC=%d" % ("ansible.module_utils.basic" in sys.modules))
    # Last line: total; the line before: the stage boundaries (imports done, schema parsed) when known.
    print(" ".join("%.6f" % (t - started) for t in stages))
    print("%.6f" % (now - started))


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    _child(sys.argv[2], float(sys.argv[3]))
    sys.exit(0)

from common import median, ratio  # noqa: E402

KINDS = (("ews", "exchange.ews EwsClient"), ("exchangelib", "exchangelib Account"),
         ("floor", "floor: import zeep + requests_ntlm"),
         ("ansible_basic", "for scale: import ansible.module_utils.basic only"))


def run(bench):
    import subprocess
    times = {kind: [] for kind, _ in KINDS}
    stages = []
    env = bench.env
    # The first round, dropped, also writes the collection's .pyc as any first import does (exchangelib's were written
    # when pip installed it): with PYTHONDONTWRITEBYTECODE inherited, every round would compile the modules changed
    # since the last import, and P1 would measure the checkout's history rather than the client.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for _ in range(2 * bench.reps + 1):        # cheap, so twice the reps; the first round warms the page cache, dropped
        for kind, _label in KINDS:
            started = time.time()
            out = subprocess.run([sys.executable, __file__, "--child", kind, repr(started)], env=env,
                                 check=True, capture_output=True, text=True).stdout
            lines = out.strip().splitlines()
            times[kind].append(float(lines[-1]))
            if kind == "ews":
                stages.append([float(v) for v in lines[-2].split()])
                imports_basic = lines[-3].strip() == "IMPORTS_ANSIBLE_BASIC=1"
    med = {kind: median(values[1:]) for kind, values in times.items()}
    to_xl = ratio(med["ews"], med["exchangelib"])
    to_floor = ratio(med["ews"], med["floor"])
    rows = [
        dict(id="P1", what="client ready (fresh process): exchange.ews", value="%.3f s" % med["ews"],
             compare="%.2f× exchangelib (%.3f s)" % (to_xl, med["exchangelib"]), target="≤ 0.7×",
             met=to_xl <= 0.7),
        dict(id="P1", what="client ready (fresh process): exchange.ews", value="%.3f s" % med["ews"],
             compare="%.2f× floor (%.3f s)" % (to_floor, med["floor"]), target="≤ 1.3×", met=to_floor <= 1.3),
    ]
    imports = median([s[0] for s in stages[1:]])
    schema = median([s[1] - s[0] for s in stages[1:]])
    rest = med["ews"] - imports - schema
    detail = ["| process | median s | all runs (s) |", "| --- | ---: | --- |"]
    for kind, label in KINDS:
        detail.append("| %s | %.3f | %s |" % (label, med[kind], ", ".join("%.3f" % v for v in times[kind][1:])))
    detail += ["", "exchange.ews, where the time goes (medians): process start + imports %.3f s, parsing the "
               "embedded WSDL/XSD with zeep %.3f s, zeep client + service binding + session %.3f s."
               % (imports, schema, rest)]
    return dict(name="P1 client ready", rows=rows, detail="\n".join(detail),
                data=dict(median=med, runs=times, stages=dict(imports=imports, schema=schema, client=rest),
                          imports_ansible_basic=imports_basic))
