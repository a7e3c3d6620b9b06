"""The HTTP side: a threading HTTP/1.1 server (TLS, keep-alive), IIS-like authentication, EWS and admin routing."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import sys
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from . import admin, soap
from .addresses import is_loopback
from .auth import Authenticator, ConnectionAuth
from .config import Directory
from .context import RequestContext
from .errors import INTERNAL_ERROR_MESSAGE, EwsFault
from .faults import AFTER_COMMIT, Fault, FaultRegistry
from .graph import server as graph_server
from .latency import LatencyModel
from .limits import Limits
from .request_log import RequestLog
from .tls import TlsMaterial

log = logging.getLogger(__name__)

EWS_PATH = "/ews/exchange.asmx"
ADMIN_PREFIX = "/_sandbox/"
MAX_BODY = 64 * 1024 * 1024  # for the admin endpoints; EWS requests have their own limit (limits.py)
MAX_TRAILER_LINES = 100      # as http.server's header limit
# A body over the limit is read and thrown away before the answer, up to this much and while it keeps coming,
# so the client, still writing, gets to read the answer (as Exchange's clients do).
DRAIN_LIMIT = 256 * 1024 * 1024
DRAIN_IDLE_SECONDS = 0.5

SERVER_BUSY_MESSAGE = "The server cannot service this request right now. Try again later."

# Bodies IIS / HTTP.sys send with these statuses.
IIS_401 = (b"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" "
           b"\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\r\n<html><head><title>401 - Unauthorized: "
           b"Access is denied due to invalid credentials.</title></head>\r\n<body><h2>401 - Unauthorized: Access is "
           b"denied due to invalid credentials.</h2>\r\n<h3>You do not have permission to view this directory or page "
           b"using the credentials that you supplied.</h3></body></html>\r\n")
HTTPSYS_503 = (b"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n"
               b"<HTML><HEAD><TITLE>Service Unavailable</TITLE>\r\n<META HTTP-EQUIV=\"Content-Type\" "
               b"Content=\"text/html; charset=us-ascii\"></HEAD>\r\n<BODY><h2>Service Unavailable</h2>\r\n<hr><p>HTTP "
               b"Error 503. The service is unavailable.</p>\r\n</BODY></HTML>\r\n")
IIS_500 = (b"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" "
           b"\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\r\n<html xmlns=\"http://www.w3.org/1999/xhtml\">"
           b"\r\n<head>\r\n<title>500 - Internal server error.</title>\r\n</head>\r\n<body>\r\n<div id=\"header\">"
           b"<h1>Server Error</h1></div>\r\n<div id=\"content\">\r\n <div class=\"content-container\"><fieldset>\r\n"
           b"  <h2>500 - Internal server error.</h2>\r\n  <h3>There is a problem with the resource you are looking "
           b"for, and it cannot be displayed.</h3>\r\n </fieldset></div>\r\n</div>\r\n</body>\r\n</html>\r\n")

# What a reverse proxy in front of Exchange answers when the back end fails or is too slow: IIS Application
# Request Routing's 502, a load balancer's 504 (written in their style; no SOAP envelope in either).
ARR_502 = (b"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" "
           b"\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\r\n<html xmlns=\"http://www.w3.org/1999/xhtml\">"
           b"\r\n<head>\r\n<title>502 - Web server received an invalid response while acting as a gateway or proxy "
           b"server.</title>\r\n</head>\r\n<body>\r\n<div id=\"header\"><h1>Server Error</h1></div>\r\n<div id=\"content\">"
           b"\r\n <div class=\"content-container\"><fieldset>\r\n  <h2>502 - Web server received an invalid response while "
           b"acting as a gateway or proxy server.</h2>\r\n  <h3>The page you are looking for cannot be shown because the "
           b"server acting as a gateway or proxy got an invalid response from the upstream server.</h3>\r\n </fieldset>"
           b"</div>\r\n</div>\r\n</body>\r\n</html>\r\n")
LOAD_BALANCER_504 = (b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway "
                     b"Time-out</h1></center>\r\n<hr><center>The upstream server did not answer in time.</center>\r\n"
                     b"</body>\r\n</html>\r\n")


@dataclass
class SandboxApp:
    """Everything a request needs, built once at start and shared by all threads."""

    directory: Directory
    authenticator: Authenticator
    store: object       # store.Store
    delivery: object    # delivery.Delivery
    submitter: object   # submission.Submitter
    faults: FaultRegistry
    latency: LatencyModel
    limits: Limits
    requests: RequestLog
    tls: TlsMaterial | None
    data_dir: Path
    users_file: Path
    public_host: str    # the host name or address clients are told to use (EWS_URL)
    graph: object = None  # graph.server.GraphService: Microsoft Graph and the identity platform


class EwsServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # a benchmark opens many connections at once

    def __init__(self, address: tuple[str, int], app: SandboxApp):
        self.app = app
        self.ssl_context = app.tls.server_context() if app.tls else None
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, EwsRequestHandler)

    def finish_request(self, request, client_address):
        # Runs in the connection's own thread, so a slow TLS handshake never holds up accept().
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        try:
            request.settimeout(EwsRequestHandler.timeout)  # a client that never completes the handshake
            request = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.debug("TLS handshake with %s failed: %s", client_address, exc)
            return
        try:
            super().finish_request(request, client_address)
        finally:
            request.close()

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError, ssl.SSLError)):
            log.debug("connection from %s ended: %s", client_address, error)
        else:
            log.exception("connection from %s failed", client_address)


class EwsRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    # Without this, Nagle plus delayed ACKs add ~40 ms whenever an answer spans more than one write.
    disable_nagle_algorithm = True
    timeout = 300  # idle keep-alive connections are closed after this

    server: EwsServer

    def setup(self):
        super().setup()
        self.auth = ConnectionAuth()

    def log_message(self, format, *args):
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s", self.address_string(), format % args)

    # -- routing -----------------------------------------------------------------------

    def do_POST(self):
        self._route("POST")

    def do_GET(self):
        self._route("GET")

    def do_DELETE(self):
        self._route("DELETE")

    def do_PATCH(self):
        self._route("PATCH")

    def _route(self, method: str):
        self.auth_headers: list[tuple[str, str]] = []  # sent with whatever answers this request
        self.latency_seconds = 0.0                      # the latency model's delay before this request's answer
        url = urlsplit(self.path)
        path = url.path.lower()
        ews = path == EWS_PATH and method == "POST"
        body = self._read_body(self.server.app.limits.max_request_bytes if ews else MAX_BODY, ews)
        if body is None:
            return
        if ews:
            self._ews(body)
        elif path.startswith(ADMIN_PREFIX):
            self._admin(method, path[len(ADMIN_PREFIX):], parse_qs(url.query), body)
        elif graph_server.handles(url.path):
            graph_server.serve(self, method, url, body)
        else:
            self._send(404, b"Not Found", "text/plain")

    def _read_body(self, limit: int, ews: bool) -> bytes | None:
        """The request body (Content-Length or chunked, capped at ``limit`` either way); None after answering
        400 to an unreadable one, or to one over the limit 507 with no body for EWS (what an Exchange front end
        answers), 400 otherwise. It is read before authentication, so nothing here may read without a bound."""
        try:
            transfer_encoding = self.headers.get("Transfer-Encoding")
            if transfer_encoding is not None:
                # Only plain chunked framing; with a Content-Length too the framing is ambiguous (request smuggling).
                if transfer_encoding.strip().lower() != "chunked" or "Content-Length" in self.headers:
                    raise ValueError(f"Transfer-Encoding {transfer_encoding!r}")
                return self._read_chunked(limit)
            length_header = (self.headers.get("Content-Length") or "0").strip()
            if not length_header.isdigit():
                raise ValueError(f"Content-Length {length_header!r}")
            length = int(length_header)
            if length > limit:
                self._drain(length)
                raise BodyTooLarge(f"Content-Length {length} over {limit}")
            return self.rfile.read(length) if length else b""
        except BodyTooLarge as exc:
            log.info("request body too large: %s", exc)
            if not ews:
                self._send(400, b"Bad Request", "text/plain", close=True)
                return None
            # Closed after the answer, as Exchange's front end does (and a body past DRAIN_LIMIT was not all read).
            self.server.app.requests.record(None, None, None, 0, 507, 0.0)
            self._send(507, b"", "text/html", close=True)
            return None
        except ValueError as exc:
            log.info("unreadable request body: %s", exc)
            self._send(400, b"Bad Request", "text/plain", close=True)
            return None

    def _read_chunked(self, limit: int) -> bytes:
        parts, total = [], 0
        while True:
            size_field = self._read_line(1024).split(b";", 1)[0].strip()
            # Hex digits only: int(..., 16) would also take "-1" (a read until EOF), "+1", "0x1" and "1_0".
            if not size_field or len(size_field) > 16 or size_field.strip(b"0123456789abcdefABCDEF"):
                raise ValueError(f"chunk size {size_field[:20]!r}")
            size = int(size_field, 16)
            if size == 0:
                for _ in range(MAX_TRAILER_LINES + 1):     # trailer fields, up to the blank line
                    if not self._read_line(8192).strip():
                        return b"".join(parts)
                raise ValueError("too many chunk trailer fields")
            total += size
            if total > limit:
                self._drain(size)
                raise BodyTooLarge(f"chunked body over {limit}")
            chunk = self.rfile.read(size)
            if len(chunk) != size or self._read_line(2).strip():
                raise ValueError("chunk shorter than its size")
            parts.append(chunk)

    def _drain(self, size: int) -> None:
        """Read and drop up to ``size`` bytes of a refused body (at most DRAIN_LIMIT; stop when it stops coming)."""
        remaining = min(size, DRAIN_LIMIT)
        self.connection.settimeout(DRAIN_IDLE_SECONDS)
        try:
            while remaining > 0:
                block = self.rfile.read1(min(remaining, 65536))
                if not block:
                    break
                remaining -= len(block)
        except (TimeoutError, OSError):
            pass
        finally:
            self.connection.settimeout(self.timeout)

    def _read_line(self, limit: int) -> bytes:
        """One CRLF-terminated line of at most ``limit`` bytes; ValueError for a longer one or the end of the stream."""
        line = self.rfile.readline(limit + 1)
        if not line.endswith(b"\n") or len(line) > limit:
            raise ValueError("line too long or connection closed")
        return line

    def _send(self, status: int, body: bytes, content_type: str, headers=(), close: bool = False):
        self._wait_latency()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in [*headers, *self.auth_headers]:
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        # end_headers() plus the body in one write: one TLS record and one TCP segment per small answer.
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def _wait_latency(self) -> None:
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
            self.latency_seconds = 0.0

    # -- admin -------------------------------------------------------------------------

    def _admin(self, method: str, path: str, query: dict, body: bytes):
        refusal = self._admin_refusal(method)
        if refusal is not None:
            status, payload = refusal
        else:
            status, payload = admin.handle(self.server.app, method, path.strip("/"), query, body)
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8")

    def _admin_refusal(self, method: str) -> tuple[int, dict] | None:
        """Why an admin request is refused, if it is: only a local program may steer the sandbox, never a web page.

        A page on any site can make the browser send a request to 127.0.0.1: it carries an Origin (refused unless
        it is the sandbox's own), or a foreign Host after DNS rebinding (refused), and without a preflight it can
        only GET, or POST form or text types (a POST must be JSON, which browsers send cross-origin only after a
        preflight the sandbox never answers; so is any DELETE).
        """
        if not is_loopback(self.client_address[0]):
            return 403, {"error": "the admin endpoints answer on loopback only"}
        host = self.headers.get("Host", "")
        if not is_loopback(host.rsplit(":", 1)[0] if not host.endswith("]") else host):
            return 403, {"error": f"the admin endpoints answer to a loopback Host only, not {host!r}"}
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"{'https' if self.server.ssl_context else 'http'}://{host}":
            return 403, {"error": f"the admin endpoints refuse requests from web pages (Origin {origin!r})"}
        content_type = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if method == "POST" and content_type != "application/json":
            return 415, {"error": "admin POST requests must be sent as Content-Type: application/json"}
        return None

    # -- EWS ---------------------------------------------------------------------------

    def _ews(self, body: bytes):
        app = self.server.app
        started = time.perf_counter()
        self.latency_seconds = app.latency.settings.cost(None).request_ms / 1000     # until the operation is known
        result = app.authenticator.authenticate(self.auth, self.headers.get("Authorization"))
        user = result.user
        if result.final:
            self.auth_headers.append(("WWW-Authenticate", result.final))
        if user is None:
            headers = ([("WWW-Authenticate", result.continuation)] if result.continuation
                       else app.authenticator.challenge_headers(result.bearer_rejected))
            app.requests.record(None, None, None, 0, 401, _ms(started))
            self._send(401, IIS_401, "text/html", headers)
            return

        version = operation = mailbox = fault = None  # until the envelope is read
        items = 0
        try:
            # The submitter gives way while the request is worked on (and while an injected fault delays or answers
            # it); the latency model's wait before a normal answer comes after.
            with app.submitter.paused():
                request = soap.parse_request(body)
                version, operation = request.server_version, request.operation
                items = soap.count_items(request.body)
                cost = app.latency.settings.cost(operation)
                self.latency_seconds = (cost.request_ms + items * cost.item_ms) / 1000
                mailbox = soap.effective_mailbox(request, user, app.directory)
                fault = app.faults.take(operation)
                if fault is not None and self._answer_with_fault(fault, started, operation, user.login, mailbox,
                                                                 items):
                    return
                item_failure = (fault.position, fault.code) if fault is not None and fault.kind == "item_error" else None
                context = RequestContext(user=user, mailbox=mailbox, directory=app.directory, store=app.store,
                                         delivery=app.delivery, submitter=app.submitter, server_version=version,
                                         culture=request.culture, item_failure=item_failure, limits=app.limits)
                payload = soap.dispatch(context, request)
                status, data = 200, soap.response_envelope(payload, version)
        except EwsFault as exc:
            status, data = exc.http_status, soap.fault_envelope(exc, version)
        except Exception:
            log.exception("%s failed", operation or "request")
            status, data = 500, soap.fault_envelope(EwsFault("ErrorInternalServerError", INTERNAL_ERROR_MESSAGE), version)
        if fault is not None and fault.kind in AFTER_COMMIT:
            self._spoil_answer(fault, status, data, started, operation, user.login, mailbox, items)
            return
        app.requests.record(operation, user.login, mailbox, items, status, _ms(started))
        self._send(status, data, "text/xml; charset=utf-8")

    def _answer_with_fault(self, fault: Fault, started: float, operation: str, login: str, mailbox: str,
                           items: int) -> bool:
        """Apply an injected fault. True when it answered the request; False when the operation still runs."""
        if fault.kind == "delay":
            time.sleep(fault.delay_ms / 1000)
            return False
        if fault.kind in AFTER_COMMIT or fault.kind == "item_error":
            return False  # the operation runs: _spoil_answer() deals with its answer, each_item() with its items
        if fault.kind == "server_busy":
            raise EwsFault("ErrorServerBusy", SERVER_BUSY_MESSAGE, details={"BackOffMilliseconds": fault.back_off_ms})
        if fault.kind == "soap_fault":
            message = INTERNAL_ERROR_MESSAGE if fault.code == "ErrorInternalServerError" else f"Injected fault {fault.code}."
            raise EwsFault(fault.code, message)
        status = 503 if fault.kind == "http_503" else 500
        # Logged before answering, so a client reading the log right after the answer finds the entry.
        self.server.app.requests.record(operation, login, mailbox, items, status, _ms(started))
        if fault.kind == "http_503":
            self._send(503, HTTPSYS_503, "text/html; charset=us-ascii", [("Retry-After", str(fault.retry_after))])
        else:  # html_error
            self._send(500, IIS_500, "text/html")
        return True

    def _spoil_answer(self, fault: Fault, status: int, data: bytes, started: float, operation: str, login: str,
                      mailbox: str, items: int, content_type: str = "text/xml; charset=utf-8") -> None:
        """The operation has run and committed: lose its answer the way ``fault`` says."""
        log_status = {"drop_after_commit": 0, "http_502_after_commit": 502, "http_504_after_commit": 504}.get(
            fault.kind, status)
        if fault.kind in ("http_502_after_commit", "http_504_after_commit"):
            time.sleep(fault.delay_ms / 1000)   # the gateway waited for the back end before giving up
        # Logged before answering, so a client reading the log right after the answer finds the entry.
        self.server.app.requests.record(operation, login, mailbox, items, log_status, _ms(started))
        if fault.kind == "drop_after_commit":
            self._wait_latency()
            self._drop_connection()
        elif fault.kind == "http_502_after_commit":
            self._send(502, ARR_502, "text/html")
        elif fault.kind == "http_504_after_commit":
            self._send(504, LOAD_BALANCER_504, "text/html")
        else:  # truncated_after_commit: the full Content-Length, part of the body, then the connection closes
            cut = len(data) // 2 if fault.body_bytes is None else min(fault.body_bytes, len(data))
            self._wait_latency()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in self.auth_headers:
                self.send_header(name, value)
            self._headers_buffer.append(b"\r\n" + data[:cut])
            self.flush_headers()
            self._drop_connection()

    def _drop_connection(self):
        """Close the TCP connection without a byte of answer, as a crashed front end would."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class BodyTooLarge(Exception):
    """A request body longer than its endpoint accepts."""


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
