# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions raised by the EWS client.

Every message names the operation, the Exchange ResponseCode (when there is
one) and the item (when there is one), and goes through ``redact`` so that a
password, token or NTLM blob echoed by a server or a library never reaches
Ansible's output.

Hierarchy::

    EwsError                      anything the client reports
      EwsConfigError              bad options, detected before any request
      EwsTransportError           HTTP/TLS level failure, request not processed
        EwsAuthError              HTTP 401/403 after authentication
        EwsNotSent                connection failed before the request was sent (retryable)
        EwsHttpStatusError        unexpected HTTP status / HTML error page
          EwsUnavailable          HTTP 503 (retryable, ``retry_after``)
      EwsResponseLost             request sent, outcome unknown (read timeout, dropped connection)
      EwsFault                    SOAP fault (request-level ResponseCode)
        EwsServerBusy             ErrorServerBusy (retryable, ``back_off_ms``)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# NTLM / Negotiate / Basic / Bearer credentials as they appear in HTTP headers
# or library messages, and password-ish key=value pairs.
_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(NTLM|Negotiate|Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}"),
    re.compile(r"(?i)\b(password|passwd|access_token|token)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
)


def redact(text, secrets=()):
    """Return ``text`` with the given secret values and credential-looking tokens masked."""
    if text is None:
        return text
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    text = _SECRET_PATTERNS[0].sub(lambda m: m.group(1) + " ********", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: m.group(1) + m.group(2) + "********", text)
    return text


class EwsError(Exception):
    """Base class. Attributes are safe to show: they never hold secrets."""

    def __init__(self, message, operation=None, response_code=None, item_id=None, http_status=None):
        self.operation = operation
        self.response_code = response_code
        self.item_id = item_id
        self.http_status = http_status
        self.message_text = redact(message)
        super(EwsError, self).__init__(self._compose())

    def _compose(self):
        parts = []
        if self.operation:
            parts.append("EWS %s failed" % self.operation)
        else:
            parts.append("EWS request failed")
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
    """The HTTP exchange failed in a way that shows Exchange did not process the request."""


class EwsAuthError(EwsTransportError):
    """Exchange refused the credentials (HTTP 401) or access (HTTP 403)."""


class EwsNotSent(EwsTransportError):
    """The connection failed before the request was written: safe to retry."""


class EwsHttpStatusError(EwsTransportError):
    """Exchange (or a proxy in front of it) answered with an unexpected HTTP status or an HTML page."""


class EwsUnavailable(EwsHttpStatusError):
    """HTTP 503. ``retry_after`` is the Retry-After header in seconds, or None."""

    def __init__(self, message, retry_after=None, **kwargs):
        self.retry_after = retry_after
        super(EwsUnavailable, self).__init__(message, **kwargs)


class EwsResponseLost(EwsError):
    """The request was (or may have been) delivered but no response arrived.

    Exchange may have committed it. Never repeated blindly for a write: the
    exactly-once protocol resolves it by reading the items again.
    """


class EwsFault(EwsError):
    """A SOAP fault: Exchange rejected the whole request with ``response_code``."""


class EwsServerBusy(EwsFault):
    """ErrorServerBusy: throttled, nothing processed. ``back_off_ms`` comes from MessageXml."""

    def __init__(self, message, back_off_ms=None, **kwargs):
        self.back_off_ms = back_off_ms
        super(EwsServerBusy, self).__init__(message, **kwargs)
