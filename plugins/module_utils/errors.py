# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions raised by the EWS client, and the redaction every message goes through.

Every message names the operation, the Exchange ResponseCode (when there is
one) and the item (when there is one). Messages go through ``redact`` so that
a password, token or NTLM blob echoed by a server or a library never reaches
Ansible's output, in any of the forms a secret takes on the way
(``secret_forms``), and text a server wrote is quoted through ``excerpt``: a
hostile or broken server cannot fill a log.

Hierarchy. What an error proves about the request decides retries
(``retry.py``) and what the exactly-once protocol does next::

    EwsError                      anything the client reports
      EwsConfigError              bad options, detected before any request
      EwsTransportError           Exchange did not process the request
        EwsAuthError              HTTP 401/403: authentication or access refused
          EwsPolicyBlocked        HTTP 403 with X-EWS-Policy-Reason: the tenant blocks EWS for the app
          EwsTokenError           the identity platform issued no token for the app credentials
        EwsHostNotFound           the url's host name does not resolve (DNS)
        EwsNotSent                the connection was never opened (retryable)
        EwsUnavailable            HTTP 503 (retryable, ``retry_after``)
          EwsThrottled            HTTP 429 from Microsoft Graph (retryable, ``retry_after``)
      EwsResponseLost             the request was written and the outcome is unknown: a dropped
                                  connection, a timeout, a body over the size limit or one the
                                  client refuses to parse (DTD, truncated, not XML)
        EwsHttpStatusError        an answer that is not SOAP: a gateway's 502/504, an HTML page,
                                  a redirect (never followed)
      EwsFault                    SOAP fault (request-level ResponseCode): nothing was processed
        EwsServerBusy             ErrorServerBusy (retryable, ``back_off_ms``)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import functools
import json
import re

from urllib.parse import quote, quote_plus

MASK = "********"
# How much of a server's text an error message or a result quotes.
EXCERPT_CHARS = 500
# No message the client composes is longer than this, whatever went into it.
MESSAGE_CHARS = 2000

# NTLM / Negotiate / Basic / Bearer credentials as they appear in HTTP headers
# or library messages, and password-ish key=value pairs.
_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(NTLM|Negotiate|Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}"),
    re.compile(r"(?i)\b(password|passwd|access_token|token)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
)


def secret_forms(secret, username=None):
    """Every form ``secret`` may take in a message, longest first.

    The literal; URL-encoded (``+`` or ``%20`` for spaces); base64 of the secret and of the Basic credential
    ``username:secret``, in UTF-8 and Latin-1; escaped as in a bytes repr
    (``\\xc3\\xa9``), a str repr (``\\xe9``) or JSON (``\\u00e9``); XML-escaped,
    also with character references for non-ASCII characters.
    """
    if not secret:
        return ()
    escaped = secret.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    forms = set([secret, json.dumps(secret)[1:-1], ascii(secret)[1:-1], escaped,
                 escaped.encode("ascii", "xmlcharrefreplace").decode("ascii")])
    forms.update((quote(secret, safe=""), quote_plus(secret)))
    for encoding in ("utf-8", "latin-1"):
        try:
            raw = secret.encode(encoding)
        except UnicodeEncodeError:
            continue
        forms.add(repr(raw)[2:-1])
        forms.add(base64.b64encode(raw).decode("ascii"))
        if username:
            forms.add(base64.b64encode(username.encode(encoding, "replace") + b":" + raw).decode("ascii"))
    return tuple(sorted(forms, key=len, reverse=True))


def redact(text, secrets=()):
    """Return ``text`` with the given secret values and credential-looking tokens masked.

    ``secrets`` are exact strings, matched ignoring case
    (``ConnectionSettings.secrets`` holds every form of each secret, see
    ``secret_forms``).
    """
    if text is None:
        return text
    text = str(text)
    if secrets:
        text = _secrets_pattern(tuple(secrets)).sub(MASK, text)
    text = _SECRET_PATTERNS[0].sub(lambda match: match.group(1) + " " + MASK, text)
    text = _SECRET_PATTERNS[1].sub(lambda match: match.group(1) + match.group(2) + MASK, text)
    return text


@functools.lru_cache(maxsize=8)
def _secrets_pattern(secrets):
    """One expression for all ``secrets``, longest first, ignoring case: a server or a library may
    change the case of what it echoes (a host name, percent escapes)."""
    forms = sorted(set(secret for secret in secrets if secret), key=len, reverse=True)
    return re.compile("|".join(re.escape(form) for form in forms) or "(?!)", re.IGNORECASE)


def excerpt(text, secrets=(), limit=EXCERPT_CHARS):
    """At most ``limit`` characters of a server's ``text`` (bytes are decoded), redacted.

    Redaction runs on a window long enough to hold any secret that starts
    within the limit, then the text is cut: the cut never leaves half a
    secret visible.
    """
    if text is None:
        return None
    window = limit + max([len(secret) for secret in secrets] or [0]) + 64
    if isinstance(text, bytes):
        text = text[:4 * window]
        for secret in secrets:
            # Also as the server may have encoded it: decoding with replacement would hide it from redact.
            for encoding in ("utf-8", "latin-1"):
                try:
                    text = text.replace(secret.encode(encoding), MASK.encode("ascii"))
                except UnicodeEncodeError:
                    pass
        text = text.decode("utf-8", "replace")
    text = redact(text[:window], secrets)
    if len(text) <= limit:
        return text
    return text[:limit] + "... (cut)"


class EwsError(Exception):
    """Base class. Attributes are safe to show: they never hold secrets."""

    def __init__(self, message, operation=None, response_code=None, item_id=None, http_status=None, api="EWS"):
        self.api = api          # "EWS" or "Graph": the service the operation belongs to
        self.operation = operation
        self.response_code = response_code
        self.item_id = item_id
        self.http_status = http_status
        self.message_text = redact(message)
        super(EwsError, self).__init__(excerpt(self._compose(), limit=MESSAGE_CHARS))

    def _compose(self):
        parts = []
        if self.operation:
            parts.append("%s %s failed" % (self.api, self.operation))
        else:
            parts.append("%s request failed" % self.api)
        if self.response_code:
            parts.append("ResponseCode %s" % self.response_code)
        if self.http_status:
            parts.append("HTTP %s" % self.http_status)
        if self.item_id:
            parts.append("item %s" % self.item_id)
        return "%s: %s" % (", ".join(parts), self.message_text)


class EwsConfigError(EwsError):
    """The connection or module options are unusable."""

    def _compose(self):
        # Raised before any request: the message names the option, an operation would mislead.
        if self.operation:
            return super(EwsConfigError, self)._compose()
        return "invalid options: %s" % self.message_text


class EwsTransportError(EwsError):
    """The HTTP exchange failed in a way that proves Exchange did not process the request."""


class EwsAuthError(EwsTransportError):
    """Exchange refused the credentials (HTTP 401) or access (HTTP 403)."""


class EwsPolicyBlocked(EwsAuthError):
    """HTTP 403 with ``X-EWS-Policy-Reason``: Exchange Online blocks EWS for this application by tenant policy."""


class EwsTokenError(EwsAuthError):
    """The identity platform issued no token for the app credentials (an AADSTS error, or no usable answer):
    nothing was sent to Exchange or Graph."""


class EwsHostNotFound(EwsTransportError):
    """The host name of ``url`` does not resolve: a typo or a DNS problem, not worth retrying."""


class EwsNotSent(EwsTransportError):
    """The connection could not be opened, so the request was never written: safe to retry."""


class EwsUnavailable(EwsTransportError):
    """HTTP 503. ``retry_after`` is the Retry-After header in seconds, or None."""

    def __init__(self, message, retry_after=None, **kwargs):
        self.retry_after = retry_after
        super(EwsUnavailable, self).__init__(message, **kwargs)


class EwsThrottled(EwsUnavailable):
    """HTTP 429 from Microsoft Graph: throttled, nothing processed. ``retry_after`` is Retry-After, or None."""


class EwsResponseLost(EwsError):
    """The request was (or may have been) delivered but no usable response arrived.

    Exchange may have committed it. Never repeated blindly for a write: the
    exactly-once protocol resolves it by reading the items again.
    ``http_status`` is set when an HTTP status line arrived.
    """


class EwsHttpStatusError(EwsResponseLost):
    """Exchange, or a gateway or proxy in front of it, answered with something other than SOAP.

    A 502/504 from a gateway, an HTML error page or a redirect says nothing
    about whether Exchange behind it processed the request.
    """


class EwsFault(EwsError):
    """A SOAP fault: Exchange rejected the whole request with ``response_code``."""


class EwsServerBusy(EwsFault):
    """ErrorServerBusy: throttled, nothing processed. ``back_off_ms`` comes from MessageXml."""

    def __init__(self, message, back_off_ms=None, **kwargs):
        self.back_off_ms = back_off_ms
        super(EwsServerBusy, self).__init__(message, **kwargs)
