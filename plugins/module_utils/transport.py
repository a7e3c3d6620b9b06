# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP for the EWS client: one keep-alive session, authentication, TLS, bounded
answers, and a zeep transport that serves the embedded schema and classifies failures.

Failure classification is what makes retries (``retry.py``) and the
exactly-once protocol safe. Only these prove Exchange processed nothing:

* the connection could not be opened (refused, DNS, connect timeout):
  ``EwsNotSent``; a failed TLS handshake: ``EwsTransportError`` (not retried);
* HTTP 401/403: ``EwsAuthError``; HTTP 503: ``EwsUnavailable`` with Retry-After;
* a SOAP fault (parsed by the client).

Anything else once the request was written is ``EwsResponseLost``: a dropped
connection, the timeout, an answer over the size limit, and answers that are
not SOAP (``EwsHttpStatusError``: a gateway's 502/504, an HTML page, a redirect).

Bounds a server cannot lift:

* ``timeout`` covers the whole request, connect to last byte: a watchdog
  shuts the request's sockets down when it expires, so a server trickling
  an endless answer cannot keep a run alive;
* bodies are read by the session's adapter, decompressed here (only gzip is
  asked for) and counted after decompression up to ``max_response_mb``;
  nothing reads an unbounded body, not even requests-ntlm's handshake;
* redirects are never followed: credentials and the request body only go to
  ``url``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import http.client
import re
import socket
import threading
import time
import warnings
import zlib

from urllib.parse import urlsplit

try:
    import requests
    import requests.adapters
    import urllib3
    import urllib3.exceptions
    from lxml import etree
    from zeep.transports import Transport
    HAS_ZEEP = True
    ZEEP_IMPORT_ERROR = None
except ImportError as exc:  # reported by the plugin through missing_required_lib
    HAS_ZEEP = False
    ZEEP_IMPORT_ERROR = exc
    Transport = object

try:
    from requests_ntlm import HttpNtlmAuth
    HAS_REQUESTS_NTLM = True
    REQUESTS_NTLM_IMPORT_ERROR = None
except ImportError as exc:
    HAS_REQUESTS_NTLM = False
    REQUESTS_NTLM_IMPORT_ERROR = exc

from ansible_collections.exchange.ews.plugins.module_utils.errors import (
    EwsAuthError,
    EwsConfigError,
    EwsHostNotFound,
    EwsHttpStatusError,
    EwsNotSent,
    EwsPolicyBlocked,
    EwsResponseLost,
    EwsTransportError,
    EwsUnavailable,
    excerpt,
)
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import DOCUMENTS, NSMAP

USER_AGENT = "exchange.ews (Ansible collection)"
# The shortest time a request gets once its caller's deadline is (nearly) reached.
MIN_REQUEST_SECONDS = 0.1
READ_CHUNK = 64 * 1024

# Exceptions from urllib3 that prove the connection was never opened (urllib3 1.26, still found on
# targets, reports a failed name resolution as a NewConnectionError).
if HAS_ZEEP:
    _NEVER_OPENED = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError,
                     getattr(urllib3.exceptions, "NameResolutionError", urllib3.exceptions.NewConnectionError))
    # urllib3 2 says so; urllib3 1.26 (still found on targets) wraps socket.gaierror in a NewConnectionError.
    _NAME_NOT_RESOLVED = tuple(c for c in (getattr(urllib3.exceptions, "NameResolutionError", None), socket.gaierror)
                               if c is not None)
else:
    _NEVER_OPENED = ()
    _NAME_NOT_RESOLVED = ()

# The request in progress in this thread (a ``_Deadline``), which connections report to.
_CURRENT = threading.local()


class UnusableAnswer(Exception):
    """An answer the adapter refuses to read further; ``status`` is its HTTP status."""

    def __init__(self, status, what):
        self.status = status
        super(UnusableAnswer, self).__init__(what)


class ResponseTooLarge(UnusableAnswer):
    """The answer's body exceeds ``limit`` bytes, counted after decompression."""

    def __init__(self, status, limit):
        self.limit = limit
        super(ResponseTooLarge, self).__init__(status, "answer larger than %d bytes" % limit)


class UnreadableEncoding(UnusableAnswer):
    """The answer uses a Content-Encoding the client did not ask for."""

    def __init__(self, status, encoding):
        self.encoding = encoding
        super(UnreadableEncoding, self).__init__(status, "Content-Encoding %s" % encoding)


class Redirected(UnusableAnswer):
    """A redirect, which is never followed; ``location`` is where it pointed."""

    def __init__(self, status, location):
        self.location = location
        super(Redirected, self).__init__(status, "redirect")


# What making a request can raise besides a bug: each is classified, none escapes raw.
if HAS_ZEEP:
    _EXCHANGE_FAILURES = (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError,
                          http.client.HTTPException, zlib.error, UnusableAnswer)


class _Deadline:
    """One request's time bound, and the sockets it uses.

    Entered around a request: a timer shuts down every socket the request
    opened or wrote to once ``seconds`` have passed, which ends any read in
    progress. ``written`` tells whether any byte of the request may have
    reached the server.
    """

    def __init__(self, seconds):
        self.seconds = seconds
        self.sockets = []
        self.written = False
        self.expired = False
        self._outer = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock, writing=False):
        with self._lock:
            self.written = self.written or writing
            if sock is not None and not any(sock is known for known in self.sockets):
                self.sockets.append(sock)
                if self.expired:
                    _shut_down(sock)

    def _expire(self):
        with self._lock:
            self.expired = True
            for sock in self.sockets:
                _shut_down(sock)

    def __enter__(self):
        # A request can run inside another's (a token fetched while a Graph request is being prepared):
        # the outer one gets its deadline back afterwards.
        self._outer = getattr(_CURRENT, "deadline", None)
        _CURRENT.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info):
        self._timer.cancel()
        _CURRENT.deadline = self._outer


def _shut_down(sock):
    try:
        # The plain socket's shutdown, also for TLS: it wakes a read blocked in the other thread.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


if HAS_ZEEP:
    class _WatchedConnection:
        """Mixin: a connection that hands its socket to the current ``_Deadline`` when it opens it and
        when it starts writing a request (the socket object, kept: http.client drops its reference to
        it once an answer says Connection: close)."""

        def connect(self):
            super(_WatchedConnection, self).connect()
            deadline = getattr(_CURRENT, "deadline", None)
            if deadline is not None:
                deadline.watch(self.sock)

        def request(self, *args, **kwargs):
            deadline = getattr(_CURRENT, "deadline", None)
            if deadline is not None:
                deadline.watch(self.sock, writing=True)
            return super(_WatchedConnection, self).request(*args, **kwargs)

    class _WatchedHTTPConnection(_WatchedConnection, urllib3.connection.HTTPConnection):
        pass

    class _WatchedHTTPSConnection(_WatchedConnection, urllib3.connection.HTTPSConnection):
        pass

    class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
        ConnectionCls = _WatchedHTTPConnection

    class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = _WatchedHTTPSConnection

    _WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    class BoundedResponse(requests.Response):
        """A response whose body is read through ``read_body``: bounded, whoever asks for it.

        Read on first use, as requests does, because requests-ntlm's hook needs
        the live socket (for the channel binding) before it reads the body.
        """

        max_bytes = None

        @property
        def content(self):
            if self._content is False:
                try:
                    self._content = read_body(self.raw, self.max_bytes)
                except BaseException:
                    self.raw.close()  # unread bytes are left on it: the connection cannot be reused
                    raise
                self._content_consumed = True
                self.raw.release_conn()
            return self._content

    class BoundedAdapter(requests.adapters.HTTPAdapter):
        """An adapter whose connections report to the deadline, which refuses redirects and whose
        responses read their bodies within ``max_bytes``.

        ``build_response`` runs for every answer, also those requests-ntlm reads
        during its handshake, so no body is ever read without the size limit and
        no redirect reaches requests' redirect handling.
        """

        def __init__(self, max_bytes):
            self.max_bytes = max_bytes
            super(BoundedAdapter, self).__init__()

        def init_poolmanager(self, *args, **kwargs):
            super(BoundedAdapter, self).init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = dict(_WATCHED_POOLS)

        def proxy_manager_for(self, proxy, **proxy_kwargs):
            manager = super(BoundedAdapter, self).proxy_manager_for(proxy, **proxy_kwargs)
            if isinstance(manager, urllib3.ProxyManager):  # SOCKS managers keep their own pools
                manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
            return manager

        def build_response(self, req, resp):
            if resp.status in requests.models.REDIRECT_STATI:
                resp.close()
                raise Redirected(resp.status, resp.headers.get("Location"))
            response = super(BoundedAdapter, self).build_response(req, resp)
            response.__class__ = BoundedResponse  # the one place requests makes its Response
            response.max_bytes = self.max_bytes
            return response


def read_body(raw, limit):
    """The body of the urllib3 response ``raw``, gzip-decoded, or ``ResponseTooLarge`` beyond ``limit`` bytes.

    urllib3 does not decode: its decoder may inflate one read of a gzip bomb
    into gigabytes. Here each step inflates at most what the limit still allows.
    """
    encoding = (raw.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise UnreadableEncoding(raw.status, encoding)
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding != "identity" else None
    body = bytearray()
    for chunk in raw.stream(READ_CHUNK, decode_content=False):
        if decoder is None:
            body += chunk
        while decoder is not None and chunk and len(body) <= limit:
            body += decoder.decompress(chunk, limit + 1 - len(body))
            chunk = decoder.unconsumed_tail
        if len(body) > limit:
            raise ResponseTooLarge(raw.status, limit)
    return bytes(body)


class QuietInsecureRequests:
    """urllib3's InsecureRequestWarning ignored while unverified requests of the collection run.

    ``warnings.catch_warnings`` alone is not thread-safe: requests running
    side by side (several batches over their own connections) would restore
    each other's filters in the wrong order and leave the warning off for the
    rest of the process. Here one ``catch_warnings`` is entered by the first
    request and left by the last, so the process gets its filters back exactly.
    """

    _lock = threading.Lock()
    _running = 0
    _saved = None

    def __enter__(self):
        with QuietInsecureRequests._lock:
            if QuietInsecureRequests._running == 0:
                saved = warnings.catch_warnings()
                saved.__enter__()
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                QuietInsecureRequests._saved = saved
            QuietInsecureRequests._running += 1
        return self

    def __exit__(self, *exc_info):
        with QuietInsecureRequests._lock:
            QuietInsecureRequests._running -= 1
            if QuietInsecureRequests._running == 0:
                QuietInsecureRequests._saved.__exit__(None, None, None)
                QuietInsecureRequests._saved = None


class _BearerAuth:
    """OAuth2: a bearer token from ``token_source()`` on every request (an app's tokens renew themselves)."""

    def __init__(self, token_source):
        self._token_source = token_source

    def __call__(self, request):
        request.headers["Authorization"] = "Bearer " + self._token_source()
        return request


def build_session(settings, token_source=None):
    """A ``requests.Session`` with auth, TLS verification, keep-alive and the bounds of ``settings``.

    ``token_source``: a callable returning the bearer token (``oauth.token_source``), for ``settings.uses_token``;
    None for a session that carries no credentials (the identity platform's, which msal posts credentials to).
    """
    session = requests.Session()
    adapter = BoundedAdapter(settings.max_response_bytes)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # The only encoding read_body can inflate within bounds.
    session.headers["Accept-Encoding"] = "gzip"
    if token_source is not None:
        session.auth = _BearerAuth(token_source)
    elif settings.auth == "ntlm" and settings.api == "ews":
        if not HAS_REQUESTS_NTLM:
            raise EwsConfigError("auth=ntlm needs the Python library requests-ntlm on the host running the task")
        session.auth = HttpNtlmAuth(settings.username, settings.password)
    elif settings.auth == "basic" and settings.api == "ews":
        # UTF-8 (RFC 7617); requests would use Latin-1 and fail on other characters.
        session.auth = (settings.username.encode("utf-8"), settings.password.encode("utf-8"))
    if not settings.validate_certs:
        session.verify = False
    elif settings.ca_path:
        session.verify = settings.ca_path
    return session


def classify_failure(exc, operation, deadline, secrets=(), host=None, api="EWS"):
    """The ``EwsError`` for an exception raised while a request to ``host`` was made (see module docstring)."""
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                        requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader)):
        # No exception text: an invalid header quotes its value, which may be a credential.
        return EwsConfigError("the request could not be built (%s); check url and the credentials"
                              % type(exc).__name__, operation=operation, api=api)
    if isinstance(exc, Redirected):
        return EwsHttpStatusError(redirect_message(exc.location, secrets), operation=operation, api=api,
                                  http_status=exc.status)
    if isinstance(exc, ResponseTooLarge):
        return EwsResponseLost("the answer is larger than max_response_mb (%d MB, counted after decompression); "
                               "the request may have been processed" % (exc.limit // (1024 * 1024)),
                               operation=operation, api=api, http_status=exc.status)
    if any(isinstance(cause, _NAME_NOT_RESOLVED) for cause in _chain(exc)):
        return EwsHostNotFound("the host %s in url cannot be resolved (DNS); check url" % excerpt(host, secrets, 100),
                               operation=operation, api=api)
    if isinstance(exc, UnreadableEncoding):
        return EwsResponseLost("the answer uses Content-Encoding %s, which was not asked for; the request may have "
                               "been processed" % excerpt(exc.encoding, secrets, 40),
                               operation=operation, api=api, http_status=exc.status)
    text = excerpt("%s: %s" % (type(exc).__name__, exc), secrets)
    if deadline.expired and deadline.written:
        return EwsResponseLost("no complete answer within the timeout of %s seconds; the request may have been "
                               "processed" % deadline.seconds, operation=operation, api=api)
    never_opened = any(isinstance(cause, _NEVER_OPENED) for cause in _chain(exc)) or isinstance(
        exc, requests.exceptions.ConnectTimeout)
    if never_opened or not deadline.written:
        if isinstance(exc, requests.exceptions.SSLError) and not never_opened:
            # Permanent until someone fixes the certificate or ca_path: not worth retrying.
            return EwsTransportError("TLS handshake failed (check ca_path / validate_certs): %s" % text,
                                     operation=operation, api=api)
        return EwsNotSent("could not connect to %s: %s" % (excerpt(host, secrets, 100), _reason(exc, secrets)),
                          operation=operation, api=api)
    return EwsResponseLost("no complete answer after the request was sent (it may have been processed): %s" % text,
                           operation=operation, api=api)


def _reason(exc, secrets):
    """The innermost system error behind a failed connection (``Connection refused``...), else the exception."""
    for cause in reversed(_chain(exc)):
        if isinstance(cause, OSError) and cause.strerror:
            return excerpt(cause.strerror, secrets, 200)
    return excerpt("%s: %s" % (type(exc).__name__, exc), secrets)


def _chain(exc):
    """The exception and everything it wraps (causes, contexts, urllib3 ``reason``)."""
    seen = []
    pending = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(current.args)
    return seen


_TITLE = re.compile(r"(?is)<title>(.*?)</title>")


def check_http_response(response, operation, secrets=()):
    """Raise for answers that are not a SOAP envelope; return ``response`` otherwise."""
    status = response.status_code
    policy = response.headers.get("X-EWS-Policy-Reason")
    if status == 403 and policy:
        raise EwsPolicyBlocked(
            "Exchange Online blocks EWS for this application by tenant policy (X-EWS-Policy-Reason: %s). An "
            "administrator allows it with the organization's EWSEnabled setting and the EwsAllowedAppIDs list; "
            "Exchange Online has blocked EWS by default since 1 October 2026 and switches it off on 1 April 2027, so "
            "move the job to Microsoft Graph (api: graph)" % excerpt(policy, secrets, 200),
            operation=operation, http_status=status)
    if status == 401:
        raise EwsAuthError("Exchange refused the credentials (check username, password, auth method or token)",
                           operation=operation, http_status=status)
    if status == 403:
        raise EwsAuthError("Exchange refused access to EWS for this account (HTTP 403: EWS may be disabled for the "
                           "mailbox or the application, or the account lacks the right)",
                           operation=operation, http_status=status)
    if status == 503:
        raise EwsUnavailable("service unavailable", retry_after=_retry_after(response),
                             operation=operation, http_status=status)
    content_type = response.headers.get("Content-Type", "")
    if status in (200, 500) and "xml" in content_type.lower():
        return response  # a SOAP response or SOAP fault: the client parses it
    match = _TITLE.search(response.content[:64 * 1024].decode("utf-8", "replace"))
    what = ("an HTML error page %r" % excerpt(match.group(1).strip(), secrets, 200)) if match else (
        "a non-SOAP answer (Content-Type %r)" % excerpt(content_type, secrets, 100))
    raise EwsHttpStatusError("Exchange, or a gateway in front of it, answered with %s instead of a SOAP response; "
                             "check that url points at /EWS/Exchange.asmx. The request may have been processed"
                             % what, operation=operation, http_status=status)


def redirect_message(location, secrets=()):
    """Why a redirect to ``location`` stops the request, naming the host it pointed at."""
    try:
        host = urlsplit(location or "").hostname
    except ValueError:
        host = None
    where = "host %s" % excerpt(host, secrets, 100) if host else "a location on the same host"
    return ("Exchange answered with a redirect to %s. Redirects are never followed, so no credentials and no "
            "request went there; if the endpoint moved, set url to its new address" % where)


def _retry_after(response):
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None  # HTTP-date form: fall back to the policy's own backoff


class EmbeddedSchemaTransport(Transport):
    """zeep transport: schema documents from memory, SOAP posts through the session.

    ``load`` never touches the network: it serves ``ews_schema.DOCUMENTS`` and
    refuses anything else. ``post`` bounds and classifies failures (see module
    docstring). The ``operation`` attribute is set by the client before each
    call so that errors name it; ``last_date`` is the Date header of the last
    answer (or None).
    """

    def __init__(self, session=None, timeout=60, secrets=()):
        super(EmbeddedSchemaTransport, self).__init__(session=session or _offline_session(),
                                                      operation_timeout=timeout)
        self.secrets = secrets  # the settings' list, which grows with the tokens the run obtains
        self.operation = None
        self.last_date = None
        self.ends_at = None   # a time.monotonic() no request runs past (the caller's deadline), or None

    def load(self, url):
        try:
            return DOCUMENTS[url]
        except KeyError:
            raise EwsConfigError("schema document %s is not embedded; refusing to fetch it" % url)

    def post_xml(self, address, envelope, headers):
        # zeep declares the namespace again on every element of a list; one
        # declaration at the top keeps a 1,000-id request a third smaller.
        etree.cleanup_namespaces(envelope, top_nsmap=NSMAP)
        return self.post(address, etree.tostring(envelope, encoding="utf-8", xml_declaration=True), headers)

    def post(self, address, message, headers):
        response = bounded_request(self.session, "POST", address, self.operation_timeout, self.ends_at,
                                   self.operation, self.secrets, data=message, headers=headers)
        self.last_date = response.headers.get("Date")
        return check_http_response(response, self.operation, self.secrets)


def bounded_request(session, method, url, timeout, ends_at, operation, secrets=(), api="EWS", **kwargs):
    """One HTTP request through ``session`` (``build_session``'s): the whole request bounded by ``timeout``
    seconds and by ``ends_at`` (a ``time.monotonic()`` deadline, or None), redirects never followed, failures
    classified (``classify_failure``). Returns the ``requests.Response``, its body read within the size limit.
    """
    seconds = timeout
    if ends_at is not None:
        # Each request gets at most what is left of the caller's deadline, and a sliver once it is
        # (nearly) reached, so that the best-effort requests after it can still end in time.
        seconds = max(MIN_REQUEST_SECONDS, min(seconds, ends_at - time.monotonic()))
    deadline = _Deadline(seconds)
    # The plugin warned once, naming the host; urllib3 would warn on every unverified request.
    quiet = QuietInsecureRequests() if session.verify is False else contextlib.nullcontext()
    try:
        with deadline, quiet:
            # verify is passed explicitly: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE
            # override session.verify, which would silently ignore ca_path.
            response = session.request(method, url, allow_redirects=False, timeout=seconds, verify=session.verify,
                                       **kwargs)
    except _EXCHANGE_FAILURES as exc:
        # from None: the original exception's text (a header value, a body) must not reach a traceback.
        raise classify_failure(exc, operation, deadline, secrets, urlsplit(url).hostname, api=api) from None
    return response


def _offline_session():
    """Session used only while parsing the schema; it is never sent anything."""
    return requests.Session()
