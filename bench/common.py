"""Shared helpers of the benchmark scenarios: the sandbox, timing, the request log, the three clients.

Every scenario gets a ``Bench`` (one sandbox started by ``run.py``) and returns
plain dicts that ``report.py`` turns into the table and docs/performance.md.
Nothing here asserts: a benchmark measures, the test suite checks behaviour.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / "build" / "collections"
SANDBOX_SRC = REPO / "sandbox"
PRINCIPAL = "alice"
PRINCIPAL_SMTP = "alice@sandbox.test"
RECIPIENT = "bob@sandbox.test"
# What the sandbox reports and what the exchangelib Account is told, so it asks nothing.
SANDBOX_BUILD = (15, 1, 2507, 6)

for path in (str(COLLECTIONS), str(SANDBOX_SRC)):
    if path not in sys.path:
        sys.path.insert(0, path)


def median(values):
    return statistics.median(values) if values else float("nan")


def ratio(a, b):
    return a / b if b else float("nan")


class Bench:
    """The sandbox plus what every scenario needs: credentials, env for subprocesses, reps."""

    def __init__(self, sandbox, reps, quick=False):
        self.sandbox = sandbox
        self.admin = sandbox.admin
        self.reps = reps
        self.quick = quick
        self.user = sandbox.users[PRINCIPAL]
        self.workdir = Path(tempfile.mkdtemp(prefix="ews-bench-"))
        self._cursor = 0

    @property
    def env(self):
        """Environment of a child process: the collection, the sandbox, alice's credentials."""
        env = dict(os.environ)
        env.update(
            EWS_URL=self.sandbox.url, EWS_CA_PATH=self.sandbox.ca_path, EWS_ADMIN_URL=self.sandbox.admin_url,
            EWS_USERNAME=self.user.login, EWS_PASSWORD=self.user.password,
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            PYTHONPATH=os.pathsep.join([str(COLLECTIONS), str(SANDBOX_SRC)]),
            # Neither requests nor Ansible should read anything from the user's set-up.
            ANSIBLE_CONFIG=str(REPO / "bench" / "ansible.cfg"),
        )
        env.pop("REQUESTS_CA_BUNDLE", None)
        env.pop("CURL_CA_BUNDLE", None)
        return env

    def settings_params(self):
        return {"url": self.sandbox.url, "username": self.user.login, "password": self.user.password,
                "auth": "ntlm", "ca_path": self.sandbox.ca_path}

    def fresh_drafts(self, count, subject="bench {n}"):
        """Empty the store (and the logs), then seed ``count`` drafts; returns [{"id", "change_key"}].

        The Outbox of the previous run is drained first, so its background deliveries never overlap
        the next measurement.
        """
        self.admin.wait_for_outbox()
        self.admin.reset()
        ids = []
        while len(ids) < count:
            chunk = min(5000, count - len(ids))
            ids.extend(self.admin.seed(PRINCIPAL_SMTP, count=chunk, subject=subject, to=[RECIPIENT]))
        return ids

    def sandbox_cpu(self):
        """CPU seconds the sandbox process has used (all its threads: requests, TLS, the Outbox's submitter)."""
        with open("/proc/%d/stat" % self.sandbox.process.pid) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))

    def log_cursor(self):
        """The sequence number of the newest request-log entry (the log only grows between resets)."""
        entries = self.admin.requests(since=self._cursor)
        if entries:
            self._cursor = entries[-1]["seq"]
        return self._cursor


class Window:
    """Wall time of a block plus the sandbox's request log entries made during it."""

    def __init__(self, bench):
        self.bench = bench
        self.entries = []
        self.seconds = None

    def __enter__(self):
        self.seq = self.bench.log_cursor()
        self.sandbox_cpu_started = self.bench.sandbox_cpu()
        self.cpu_started = time.process_time()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        # CPU of this process (all threads): the client's own cost when the client runs in-process.
        self.cpu_seconds = time.process_time() - self.cpu_started
        self.sandbox_cpu_seconds = self.bench.sandbox_cpu() - self.sandbox_cpu_started
        self.entries = self.bench.admin.requests(since=self.seq)

    @property
    def ews_requests(self):
        """EWS requests that reached an operation (NTLM's 401 challenges are not round trips of EWS)."""
        return [e for e in self.entries if e["operation"]]

    @property
    def http_requests(self):
        return len(self.entries)

    @property
    def server_seconds(self):
        return sum(e["ms"] for e in self.entries) / 1000.0

    def server_by_operation(self):
        """Sandbox seconds per EWS operation (NTLM challenges under None)."""
        totals = {}
        for e in self.entries:
            totals[e["operation"]] = totals.get(e["operation"], 0.0) + e["ms"] / 1000.0
        return totals

    def operations(self):
        counts = {}
        for e in self.ews_requests:
            counts[e["operation"]] = counts.get(e["operation"], 0) + 1
        return counts


def run_child(args, env, stdin=None, cwd=None, timeout=600):
    """Run a child process; returns (wall seconds, stdout text). Raises with its output when it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, cwd=cwd or REPO, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(stdin, timeout=timeout)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s\n%s" % (" ".join(map(str, args)), process.returncode,
                                                         out[-3000:], err[-3000:]))
    return wall, out


def write_json(path, value):
    Path(path).write_text(json.dumps(value), encoding="utf-8")
    return path


# -- the three clients, built the way their users build them ------------------------------------

def ews_client(params):
    """The collection's client, exactly as send_item builds it from module.params."""
    from ansible_collections.exchange.ews.plugins.module_utils.client import EwsClient
    from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
    return EwsClient(ConnectionSettings.from_params(params))


def lookup_entries(drafts):
    """The drafts as the draft_ids lookup hands them to send_item: read as drafts in the connecting
    mailbox, with their ChangeKey, so send_item skips its read (and the verify)."""
    return [dict(id=d["id"], change_key=d["change_key"], is_draft=True, send_state=None, mailbox=None,
                 subject="bench", to=[RECIPIENT]) for d in drafts]


def send_item_sender(params, concurrency=None, batch_size=100):
    """An ``ExactlyOnceSender`` built as send_item's main() builds it: a channel over one client, and a
    factory of more from the same settings for the concurrent batches (the module's default concurrency)."""
    from ansible_collections.exchange.ews.plugins.module_utils.client import EwsClient
    from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
    from ansible_collections.exchange.ews.plugins.module_utils.ews_channel import EwsChannel
    from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import ExactlyOnceSender
    from ansible_collections.exchange.ews.plugins.modules.send_item import DEFAULT_CONCURRENCY
    settings = ConnectionSettings.from_params(params)
    return ExactlyOnceSender(EwsChannel(EwsClient(settings)), batch_size=batch_size,
                             concurrency=DEFAULT_CONCURRENCY if concurrency is None else concurrency,
                             channel_factory=lambda: EwsChannel(EwsClient(settings)))


def send_item_window(bench, drafts, concurrency=None, entries=lookup_entries, batch_size=100):
    """Send ``drafts`` with send_item's sender (client built untimed, as P1 measures that); (Window, sent)."""
    from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import ItemRef
    sender = send_item_sender(bench.settings_params(), concurrency=concurrency, batch_size=batch_size)
    refs = [ItemRef.from_raw(entry, i) for i, entry in enumerate(entries(drafts))]
    with Window(bench) as window:
        results = sender.send(refs)
    sender.channel.close()
    return window, sum(1 for r in results if r["status"] == "sent")


def exchangelib_account(url, username, password, ca_path, smtp=PRINCIPAL_SMTP):
    """An exchangelib Account: no autodiscover, explicit Configuration and Version, NTLM, the sandbox CA."""
    import requests.adapters
    from exchangelib import DELEGATE, NTLM, Account, Build, Configuration, Credentials, Version
    from exchangelib.protocol import BaseProtocol

    class SandboxCAAdapter(requests.adapters.HTTPAdapter):
        # exchangelib builds its own sessions; trust the sandbox CA on each of them.
        def send(self, request, **kwargs):
            kwargs["verify"] = ca_path
            return super().send(request, **kwargs)

    BaseProtocol.HTTP_ADAPTER_CLS = SandboxCAAdapter
    config = Configuration(service_endpoint=url, credentials=Credentials(username, password), auth_type=NTLM,
                           version=Version(build=Build(*SANDBOX_BUILD), api_version="Exchange2016"))
    return Account(smtp, config=config, autodiscover=False, access_type=DELEGATE)


def close_exchangelib():
    from exchangelib.protocol import close_connections
    close_connections()


class RawSender:
    """The baseline: lxml-built SendItem envelopes over one keep-alive requests.Session with NTLM.

    No schema, no retries, no idempotency: the least a client can do.
    """

    M = "http://schemas.microsoft.com/exchange/services/2006/messages"
    T = "http://schemas.microsoft.com/exchange/services/2006/types"
    S = "http://schemas.xmlsoap.org/soap/envelope/"

    def __init__(self, url, username, password, ca_path):
        import requests
        from requests_ntlm import HttpNtlmAuth
        self.url = url
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = ca_path
        self.session.auth = HttpNtlmAuth(username, password)

    def envelope(self, refs):
        from lxml import etree
        m, t, s = "{%s}" % self.M, "{%s}" % self.T, "{%s}" % self.S
        env = etree.Element(s + "Envelope", nsmap={"soap": self.S, "m": self.M, "t": self.T})
        header = etree.SubElement(env, s + "Header")
        etree.SubElement(header, t + "RequestServerVersion", Version="Exchange2013_SP1")
        send = etree.SubElement(etree.SubElement(env, s + "Body"), m + "SendItem", SaveItemToFolder="true")
        ids = etree.SubElement(send, m + "ItemIds")
        for ref in refs:
            etree.SubElement(ids, t + "ItemId", Id=ref["id"], ChangeKey=ref["change_key"])
        folder = etree.SubElement(send, m + "SavedItemFolderId")
        etree.SubElement(folder, t + "DistinguishedFolderId", Id="sentitems")
        return etree.tostring(env, xml_declaration=True, encoding="utf-8")

    def send(self, refs, chunk=100):
        from lxml import etree
        ok = 0
        for start in range(0, len(refs), chunk):
            response = self.session.post(self.url, data=self.envelope(refs[start:start + chunk]), headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": '"%s/SendItem"' % self.M})
            response.raise_for_status()
            root = etree.fromstring(response.content)
            ok += len(root.findall(".//{%s}SendItemResponseMessage[@ResponseClass='Success']" % self.M))
        return ok

    def close(self):
        self.session.close()
