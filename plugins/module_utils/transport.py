# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP for the EWS client: one keep-alive session, authentication, TLS, and a
zeep transport that serves the embedded schema and classifies HTTP failures.

Failure classification is what makes retries safe (see ``retry.py``):

* the connection could not be opened (refused, DNS, TLS handshake, connect
  timeout): the request never left, ``EwsNotSent``;
* the request was written but no complete response came back (read timeout,
  connection reset or closed mid-response): Exchange may have committed it,
  ``EwsResponseLost``;
* HTTP 401/403: ``EwsAuthError``; 503: ``EwsUnavailable`` with Retry-After;
  other non-SOAP answers (HTML error pages of IIS or a proxy): ``EwsHttpStatusError``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import requests
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
    EwsHttpStatusError,
    EwsNotSent,
    EwsResponseLost,
    EwsTransportError,
    EwsUnavailable,
    redact,
)
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import DOCUMENTS, NSMAP

USER_AGENT = "exchange.ews (Ansible collection)"

# Exceptions from urllib3 that prove the request was never written.
if HAS_ZEEP:
    _NOT_SENT = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError,
                 urllib3.exceptions.NameResolutionError)
else:
    _NOT_SENT = ()


class _BearerAuth:
    """OAuth2: the access token as a bearer header (token acquisition is the caller's job)."""

    def __init__(self, token):
        self._token = token

    def __call__(self, request):
        request.headers["Authorization"] = "Bearer " + self._token
        return request


def build_session(settings):
    """A ``requests.Session`` with auth, TLS verification and keep-alive for ``settings``."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    if settings.auth == "ntlm":
        if not HAS_REQUESTS_NTLM:
            raise EwsConfigError("auth=ntlm needs the Python library requests-ntlm on the host running the task")
        session.auth = HttpNtlmAuth(settings.username, settings.password)
    elif settings.auth == "basic":
        session.auth = (settings.username, settings.password)
    else:
        session.auth = _BearerAuth(settings.access_token)
    if not settings.validate_certs:
        session.verify = False
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    elif settings.ca_path:
        session.verify = settings.ca_path
    return session


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


def classify_request_exception(exc, operation, secrets=()):
    """Map a ``requests`` exception to ``EwsNotSent`` or ``EwsResponseLost``."""
    text = redact("%s: %s" % (type(exc).__name__, exc), secrets)
    if isinstance(exc, requests.exceptions.SSLError):
        # Permanent until someone fixes the certificate or ca_path: not worth retrying.
        return EwsTransportError("TLS handshake failed (check ca_path / validate_certs): %s" % text,
                                 operation=operation)
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)):
        return EwsConfigError("invalid url: %s" % text, operation=operation)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return EwsNotSent("could not connect: %s" % text, operation=operation)
    if isinstance(exc, requests.exceptions.ConnectionError):
        if any(isinstance(e, _NOT_SENT) for e in _chain(exc)):
            return EwsNotSent("could not connect: %s" % text, operation=operation)
    return EwsResponseLost("no response after the request was sent (it may have been processed): %s" % text,
                           operation=operation)


_TITLE = re.compile(r"(?is)<title>(.*?)</title>")


def check_http_response(response, operation, secrets=()):
    """Raise for answers that are not a SOAP envelope; return ``response`` otherwise."""
    status = response.status_code
    if status in (401, 403):
        raise EwsAuthError("Exchange refused the credentials or access (check username, password, auth "
                           "method or token)", operation=operation, http_status=status)
    content_type = response.headers.get("Content-Type", "")
    is_xml = "xml" in content_type.lower()
    if status == 503:
        raise EwsUnavailable("service unavailable", retry_after=_retry_after(response),
                             operation=operation, http_status=status)
    if status == 200 and is_xml or status == 500 and is_xml:
        return response  # a SOAP response or SOAP fault: zeep parses it
    match = _TITLE.search(response.text or "")
    what = ("HTML error page %r" % match.group(1).strip()) if match else (
        "non-SOAP answer (Content-Type %r)" % content_type)
    raise EwsHttpStatusError(redact("Exchange answered with an %s instead of a SOAP response; check that url "
                                    "points at /EWS/Exchange.asmx" % what, secrets),
                             operation=operation, http_status=status)


def _retry_after(response):
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None  # HTTP-date form: fall back to the policy's own backoff


class EmbeddedSchemaTransport(Transport):
    """zeep transport: schema documents from memory, SOAP posts through the session.

    ``load`` never touches the network: it serves ``ews_schema.DOCUMENTS`` and
    refuses anything else. ``post`` classifies failures (see module docstring).
    The ``operation`` attribute is set by the client before each call so that
    errors name it.
    """

    def __init__(self, session=None, timeout=60, secrets=()):
        super(EmbeddedSchemaTransport, self).__init__(session=session or _offline_session(),
                                                      operation_timeout=timeout)
        self.secrets = tuple(secrets)
        self.operation = None

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
        try:
            # verify is passed explicitly: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE
            # override session.verify, which would silently ignore ca_path.
            response = self.session.post(address, data=message, headers=headers,
                                         timeout=self.operation_timeout, verify=self.session.verify)
        except requests.exceptions.RequestException as exc:
            raise classify_request_exception(exc, self.operation, self.secrets)
        return check_http_response(response, self.operation, self.secrets)


def _offline_session():
    """Session used only while parsing the schema; it is never sent anything."""
    return requests.Session()
