"""Run a sandbox from tests: ``Sandbox`` (a server in a subprocess on a free port), ``AdminClient``, and
``SmtpSink`` (an SMTP server that keeps what the sandbox relays to it).

    with SmtpSink() as sink, Sandbox(smarthost=sink.address) as sandbox:
        session.verify = sandbox.ca_path
        session.post(sandbox.url, ...)
        sandbox.admin.add_fault("server_busy", operation="SendItem")
        assert sandbox.admin.requests(since=0)[-1]["http_status"] == 500
        [mail] = sink.wait_for(1)
        mail.message["Subject"], mail.rcpt_tos
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import os
import queue
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Sequence

from .config import User, load_directory
from .files import private_dir, private_file
from .graph.apps import DEMO_CERTIFICATE, DEMO_CERTIFICATE_KEY, App, load_apps

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the folder holding ews_sandbox, for PYTHONPATH
START_KEYS = ("EWS_URL", "EWS_CA_PATH", "EWS_ADMIN_URL", "EWS_USERS_FILE", "GRAPH_URL", "GRAPH_AUTHORITY_HOST")


class SandboxError(RuntimeError):
    """The sandbox did not start, or an admin request failed (the message holds the sandbox's reason)."""


class AdminClient:
    """Client of the ``/_sandbox`` JSON endpoints; ``ca_path`` is needed when the sandbox speaks HTTPS."""

    def __init__(self, admin_url: str, ca_path: str | None = None, timeout: float = 30):
        self.admin_url = admin_url.rstrip("/")
        self.timeout = timeout
        self._ssl = ssl.create_default_context(cafile=ca_path) if admin_url.startswith("https:") else None

    def _call(self, method: str, path: str, body: dict | None = None, since: int | None = None,
              timeout: float | None = None, query: dict | None = None):
        url = f"{self.admin_url}/{path}"
        query = dict(query or {}, **({"since": since} if since is not None else {}))
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        # JSON, which a web page cannot send cross-origin without a preflight, is what the sandbox requires.
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout, context=self._ssl) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                reason = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                reason = exc.reason
            raise SandboxError(f"{method} /_sandbox/{path}: HTTP {exc.code}: {reason}") from None

    def health(self) -> dict:
        return self._call("GET", "health")

    def add_fault(self, kind: str, operation: str | None = None, times: int = 1, **options) -> dict:
        """options: back_off_ms, retry_after, delay_ms, code, position, body_bytes, status, api (see faults.Fault)."""
        return self._call("POST", "faults", {"kind": kind, "operation": operation, "times": times, **options})

    def add_graph_fault(self, kind: str, operation: str | None = None, times: int = 1, **options) -> dict:
        """A fault for Microsoft Graph requests (``api: graph``): kind http_429, http_503, graph_error, delay,
        drop_after_commit, http_502_after_commit, http_504_after_commit or truncated_after_commit; ``operation``
        ListMessages, GetMessage, CreateMessage, UpdateMessage, DeleteMessage, SendMessage or Batch."""
        return self.add_fault(kind, operation, times, api="graph", **options)

    def graph_settings(self) -> dict:
        """{"if_match": "ignored" | "honoured", "batch_concurrency": "throttle" | "queue", "token_lifetime_s"}."""
        return self._call("GET", "graph")

    def set_graph_settings(self, **changes) -> dict:
        """Change the Graph settings named (``reset()`` restores the defaults); returns them all."""
        return self._call("POST", "graph", changes)

    def graph_sends(self, since: int = 0) -> list[dict]:
        """The sends Graph accepted: {"seq", "marker", "client_request_id", "time"}, oldest first (who sent what:
        Graph's send checks no ChangeKey, so a delivery's send_state need not be the sender's)."""
        return self._call("GET", "graph/sends", since=since)

    def faults(self) -> list[dict]:
        return self._call("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def requests(self, since: int = 0) -> list[dict]:
        return self._call("GET", "requests", since=since)

    def deliveries(self, since: int = 0) -> list[dict]:
        return self._call("GET", "deliveries", since=since)

    def seed(self, mailbox: str, count: int = 1, folder: str = "drafts", **fields) -> list[dict]:
        """Bulk-create items; fields: subject, to, item_class, extended_properties. Returns [{"id", "change_key"}]."""
        return self._call("POST", "seed", {"mailbox": mailbox, "count": count, "folder": folder, **fields})["ids"]

    def reset(self) -> None:
        self._call("POST", "reset")

    def set_quirks(self, delegate_quirks: bool) -> dict:
        return self._call("POST", "quirks", {"delegate_quirks": delegate_quirks})

    def latency(self) -> dict:
        """The latency model: {"request_ms", "item_ms", "operations": {name: {"request_ms", "item_ms"}}}."""
        return self._call("GET", "latency")

    def set_latency(self, request_ms: float | None = None, item_ms: float | None = None,
                    operations: dict | None = None) -> dict:
        """Change the latency model (the arguments given; ``operations`` replaces every per-operation setting)."""
        changes = {"request_ms": request_ms, "item_ms": item_ms, "operations": operations}
        return self._call("POST", "latency", {key: value for key, value in changes.items() if value is not None})

    def outbox(self) -> dict:
        """{"delay_ms": the submission delay, "pending": [{"item_id", "mailbox", "sender", "subject", "marker",
        "submitted", "due_in_ms", "saved_folder_id"}, ...]}: messages sent and not yet delivered."""
        return self._call("GET", "outbox")

    def set_submission_delay(self, delay_ms: int) -> dict:
        """How long messages sent from now on wait in the Outbox before delivery; returns outbox()."""
        return self._call("POST", "outbox", {"delay_ms": delay_ms})

    def wait_for_outbox(self, timeout: float = 30) -> None:
        """Return once every submitted message is delivered (and filed); SandboxError after ``timeout`` seconds."""
        self._call("POST", "outbox/wait", {"timeout_ms": round(timeout * 1000)}, timeout=timeout + self.timeout)

    def delivery_mime(self, seq: int) -> bytes:
        """The Internet message (MIME) delivery ``seq`` of the delivery log carried, as relayed."""
        return base64.b64decode(self._call("GET", "deliveries/mime", since=None, query={"seq": seq})["mime"])

    def limits(self) -> dict:
        """{"max_request_bytes": the EWS request size limit, "max_send_bytes": the message size limit on send}."""
        return self._call("GET", "limits")

    def set_limits(self, max_request_bytes: int | None = None, max_send_bytes: int | None = None) -> dict:
        """Change the size limits given (bytes); returns limits()."""
        changes = {"max_request_bytes": max_request_bytes, "max_send_bytes": max_send_bytes}
        return self._call("POST", "limits", {key: value for key, value in changes.items() if value is not None})


class Sandbox:
    """A sandbox server in a subprocess on a free port; a context manager.

    ``data_dir`` defaults to a fresh temporary folder removed on stop. The
    server's log goes to ``<data_dir>/server.log``.
    """

    def __init__(self, data_dir: str | Path | None = None, users_file: str | Path | None = None,
                 http: bool = False, smarthost: str | None = None, host: str = "127.0.0.1", allow_remote: bool = False,
                 submission_delay_ms: int = 0, options: Sequence[str] = (), python: str = sys.executable,
                 startup_timeout: float = 20):
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ews-sandbox-")
            data_dir = self._tmp.name
        self.data_dir = Path(data_dir).resolve()
        self.command = [python, "-m", "ews_sandbox", "serve", "--host", host, "--port", "0", "--data", str(self.data_dir),
                        "--exit-with-parent"]
        if users_file:
            self.command += ["--users", str(users_file)]
        if http:
            self.command.append("--http")
        if allow_remote:
            self.command.append("--allow-remote")
        if submission_delay_ms:
            self.command += ["--submission-delay-ms", str(submission_delay_ms)]
        self.command += list(options)     # any other serve option, e.g. ["--latency-ms", "20"]
        if smarthost:
            self.command += ["--smarthost", smarthost]
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self._pump: threading.Thread | None = None
        self.url = self.ca_path = self.admin_url = self.users_file = None
        self.graph_url = self.authority_host = None
        self.admin: AdminClient | None = None
        self.users: dict[str, User] = {}
        self.apps: dict[str, App] = {}
        self.startup_seconds: float | None = None

    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        private_dir(self.data_dir)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
        started = time.perf_counter()
        with open(private_file(self.data_dir / "server.log"), "ab") as server_log:
            self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=server_log,
                                            stdin=subprocess.DEVNULL, env=env, text=True)
        facts = self._read_start_lines()
        self.url, self.ca_path = facts["EWS_URL"], facts["EWS_CA_PATH"] or None
        self.admin_url, self.users_file = facts["EWS_ADMIN_URL"], facts["EWS_USERS_FILE"]
        self.admin = AdminClient(self.admin_url, self.ca_path)
        self._wait_healthy(started)
        self.startup_seconds = time.perf_counter() - started
        directory = load_directory(Path(self.users_file))
        self.users = {u.login: u for u in directory.users}
        self.graph_url, self.authority_host = facts["GRAPH_URL"], facts["GRAPH_AUTHORITY_HOST"]
        self.apps = {app.name: app for app in load_apps(Path(self.users_file), directory).apps}

    # -- Microsoft Graph ------------------------------------------------------------------

    def authority(self, app: str = "exchange-ews-demo") -> str:
        """The authority (``<host>/<tenant>``) of an app registration, for msal's ``authority``."""
        return f"{self.authority_host}/{self.apps[app].tenant}"

    def token_url(self, app: str = "exchange-ews-demo") -> str:
        return f"{self.authority(app)}/oauth2/v2.0/token"

    @property
    def instance_discovery_url(self) -> str:
        """For msal's ``instance_discovery`` (the sandbox stands in for login.microsoftonline.com's)."""
        return f"{self.authority_host}/common/discovery/instance"

    @property
    def demo_certificate(self) -> tuple[Path, Path]:
        """(certificate, private key) PEM files of the demo app exchange-ews-demo (written with the demo users)."""
        folder = Path(self.users_file).parent
        return folder / DEMO_CERTIFICATE, folder / DEMO_CERTIFICATE_KEY

    def graph_token(self, app: str = "exchange-ews-demo") -> str:
        """An access token for ``app`` from the token endpoint, with its first client secret (no msal needed)."""
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": self.apps[app].client_id,
                                       "client_secret": self.apps[app].secrets[0],
                                       "scope": "https://graph.microsoft.com/.default"}).encode()
        context = ssl.create_default_context(cafile=self.ca_path) if self.ca_path else None
        with urllib.request.urlopen(urllib.request.Request(self.token_url(app), data=form), timeout=30,
                                    context=context) as response:
            return json.loads(response.read())["access_token"]

    def _read_start_lines(self) -> dict[str, str]:
        lines: queue.Queue[str | None] = queue.Queue()

        def pump(stream):
            # Keep draining stdout so the server can never block on a full pipe.
            for line in stream:
                lines.put(line)
            lines.put(None)

        self._pump = threading.Thread(target=pump, args=(self.process.stdout,), daemon=True)
        self._pump.start()
        facts: dict[str, str] = {}
        deadline = time.monotonic() + self.startup_timeout
        while not all(key in facts for key in START_KEYS):
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self._fail("did not print its start lines in time")
            if line is None:
                self._fail("exited before it was ready")
            key, sep, value = line.strip().partition("=")
            if sep and key in START_KEYS:
                facts[key] = value
        return facts

    def _wait_healthy(self, started: float) -> None:
        while True:
            try:
                if self.admin.health().get("ok"):
                    return
            except (OSError, SandboxError):
                pass
            if time.perf_counter() - started > self.startup_timeout:
                self._fail("did not answer /_sandbox/health in time")
            time.sleep(0.02)

    def _fail(self, what: str):
        self.stop(remove_data=False)
        log_tail = (self.data_dir / "server.log").read_text(errors="replace")[-2000:]
        self.stop()  # a failed start never reaches __exit__: remove the temporary data folder here
        raise SandboxError(f"the sandbox ({' '.join(self.command)}) {what}; server log:\n{log_tail}")

    def stop(self, remove_data: bool = True) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._pump is not None:
            self._pump.join(timeout=5)  # the server exited, so its stdout reaches EOF
            self.process.stdout.close()
            self._pump = None
        if remove_data and self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


@dataclass
class ReceivedMail:
    """One message an SmtpSink accepted: the SMTP envelope and the message exactly as it arrived."""
    mail_from: str
    rcpt_tos: list[str]
    rcpt_options: list[str]     # RCPT TO parameters, e.g. "NOTIFY=SUCCESS,FAILURE" (one per recipient that sent it)
    data: bytes

    @property
    def message(self) -> EmailMessage:
        """The message parsed as a mail client reads it (email.policy.default: headers decoded, parts walkable)."""
        return email.message_from_bytes(self.data, policy=email.policy.default)


class SmtpSink:
    """An SMTP server on a free loopback port that keeps every message it is given; a context manager.

    Give ``sink.address`` ("127.0.0.1:PORT") as a sandbox's ``smarthost`` and read what the sandbox relayed from
    ``sink.messages`` (``ReceivedMail``, in arrival order) or ``sink.wait_for(count)``. It offers the DSN extension
    (RFC 3461) unless ``dsn=False``, so the relay's delivery receipt requests show in ``rcpt_options``.
    """

    def __init__(self, host: str = "127.0.0.1", dsn: bool = True):
        self.host = host
        self.dsn = dsn
        self.messages: list[ReceivedMail] = []
        self._arrived = threading.Condition()
        self._controller = None
        self.address: str | None = None

    def __enter__(self) -> "SmtpSink":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        self._controller = _sink_controller(self)
        self._controller.start()
        self.address = f"{self.host}:{self._controller.port}"

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self._arrived:
            self.messages.clear()

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[ReceivedMail]:
        """The first ``count`` messages, once that many arrived; TimeoutError after ``timeout`` seconds."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"{len(self.messages)} of {count} message(s) reached the SMTP sink in {timeout} s")
            return self.messages[:count]

    def _received(self, mail: ReceivedMail) -> None:
        with self._arrived:
            self.messages.append(mail)
            self._arrived.notify_all()


def _sink_controller(sink: SmtpSink):
    """An aiosmtpd controller for ``sink`` (imported here: a sandbox server never loads aiosmtpd)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class DsnSmtp(SMTP):
        """aiosmtpd refuses every RCPT TO parameter; this one takes RFC 3461's NOTIFY and ORCPT and keeps them."""

        async def smtp_RCPT(self, arg):
            address, *params = (arg or "").split()
            dsn = [p for p in params if p.upper().startswith(("NOTIFY=", "ORCPT="))] if sink.dsn else []
            before = len(self.envelope.rcpt_tos) if self.envelope is not None else 0
            await super().smtp_RCPT(" ".join([address] + [p for p in params if p not in dsn]))
            if self.envelope is not None and len(self.envelope.rcpt_tos) > before:
                self.envelope.rcpt_options.extend(dsn)

    class Handler:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            session.host_name = hostname
            return responses[:-1] + ["250-DSN"] + responses[-1:] if sink.dsn else responses

        async def handle_DATA(self, server, session, envelope):
            sink._received(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), list(envelope.rcpt_options),
                                        envelope.original_content))
            return "250 OK: queued"

    class FreePortController(Controller):
        def factory(self):
            return DsnSmtp(self.handler, **self.SMTP_kwargs)

        def _trigger_server(self):
            self.port = self.server.sockets[0].getsockname()[1]    # port 0 asked the system for a free one
            super()._trigger_server()

    return FreePortController(Handler(), hostname=sink.host, port=0, data_size_limit=None)
