# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validated connection settings every module and the lookup build their client from.

Modules get the options through ``connection_options.CONNECTION_ARGUMENT_SPEC``;
the lookup reads the same option names through its own option system. Both hand
a plain dict to ``ConnectionSettings.from_params``, which checks every value
(strict booleans, no control characters in credentials, no plain HTTP unless
allowed) before any request. This file imports nothing of Ansible, so a client
costs no more than zeep and requests-ntlm to set up.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import os
import re

from urllib.parse import urlsplit

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError, secret_forms
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import DEFAULT_SERVER_VERSION, SERVER_VERSIONS
from ansible_collections.exchange.ews.plugins.module_utils.validation import (
    parse_bool,
    validate_secret,
    validate_smtp_address,
)

AUTH_METHODS = ("ntlm", "basic", "oauth2")
# MailboxCulture is a language tag (Exchange rejects en_US and the like with ErrorSchemaValidation).
CULTURE_PATTERN = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*\Z")
# Documented defaults (doc_fragments/connection.py), in the units the options use.
DEFAULT_TIMEOUT = 60
DEFAULT_MAX_RESPONSE_MB = 16
MAX_TIMEOUT = 86400
MAX_RESPONSE_MB_LIMIT = 2048


class ConnectionSettings:
    """Everything needed to talk to one EWS endpoint, validated.

    Build it with ``ConnectionSettings.from_params(params)`` where ``params``
    has the keys of ``CONNECTION_ARGUMENT_SPEC`` (missing keys take the
    documented defaults). ``secrets`` lists every form of every credential
    (``errors.secret_forms``) that must never appear in a message;
    ``warnings`` the risks the options accept (no certificate check, plain
    HTTP), for the plugin to show on every run; ``host`` the endpoint's host.
    """

    __slots__ = ("url", "username", "password", "auth", "access_token", "validate_certs",
                 "ca_path", "timeout", "server_version", "impersonate", "culture",
                 "retries", "retry_timeout", "retry_max_delay", "allow_http", "max_response_mb",
                 "host", "secrets", "warnings")

    def __init__(self, url, username=None, password=None, auth="ntlm", access_token=None,
                 validate_certs=True, ca_path=None, timeout=DEFAULT_TIMEOUT, server_version=DEFAULT_SERVER_VERSION,
                 impersonate=None, culture=None, retries=5, retry_timeout=120, retry_max_delay=30,
                 allow_http=False, max_response_mb=DEFAULT_MAX_RESPONSE_MB):
        self.url = url
        self.username = username
        self.password = password
        self.auth = auth
        self.access_token = access_token
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.server_version = server_version
        self.impersonate = impersonate
        self.culture = culture
        self.retries = retries
        self.retry_timeout = retry_timeout
        self.retry_max_delay = retry_max_delay
        self.allow_http = allow_http
        self.max_response_mb = max_response_mb
        # Secrets first: every later message may be redacted with them, and none may quote them.
        for name in ("password", "access_token", "username"):
            if getattr(self, name) is not None:
                validate_secret(getattr(self, name), name)
        self.secrets = secret_forms(password, username) + secret_forms(access_token)
        self.host = None
        self.warnings = ()
        self._validate()

    @classmethod
    def from_params(cls, params):
        """Build settings from a module's ``params`` or the lookup's options (a dict).

        Lookups hand values as their source gave them (strings from the
        environment); they are converted here, strictly.
        """
        def get(name, default=None):
            value = params.get(name)
            return default if value is None or value == "" else value

        return cls(
            url=get("url"),
            username=get("username"),
            password=get("password"),
            auth=get("auth", "ntlm"),
            access_token=get("access_token"),
            validate_certs=parse_bool(get("validate_certs", True), "validate_certs"),
            ca_path=get("ca_path"),
            timeout=_number(get("timeout", DEFAULT_TIMEOUT), float, "timeout"),
            server_version=get("server_version", DEFAULT_SERVER_VERSION),
            impersonate=get("impersonate"),
            culture=get("culture"),
            retries=_number(get("retries", 5), int, "retries"),
            retry_timeout=_number(get("retry_timeout", 120), float, "retry_timeout"),
            retry_max_delay=_number(get("retry_max_delay", 30), float, "retry_max_delay"),
            allow_http=parse_bool(get("allow_http", False), "allow_http"),
            max_response_mb=_number(get("max_response_mb", DEFAULT_MAX_RESPONSE_MB), int, "max_response_mb"),
        )

    @property
    def max_response_bytes(self):
        return self.max_response_mb * 1024 * 1024

    def _validate(self):
        self._validate_url()
        if self.auth not in AUTH_METHODS:
            raise EwsConfigError("auth must be one of %s (got %r)" % (", ".join(AUTH_METHODS), self.auth))
        if self.auth == "oauth2":
            if not self.access_token:
                raise EwsConfigError("auth=oauth2 needs access_token (or EWS_ACCESS_TOKEN)")
        elif not (self.username and self.password):
            raise EwsConfigError("auth=%s needs username and password (or EWS_USERNAME / EWS_PASSWORD)"
                                 % self.auth)
        if self.server_version not in SERVER_VERSIONS:
            raise EwsConfigError("server_version must be one of %s (got %r)"
                                 % (", ".join(SERVER_VERSIONS), self.server_version))
        if not 0 < self.timeout <= MAX_TIMEOUT:
            raise EwsConfigError("timeout must be more than 0 and at most %d seconds (got %s)"
                                 % (MAX_TIMEOUT, self.timeout))
        if not 1 <= self.max_response_mb <= MAX_RESPONSE_MB_LIMIT:
            raise EwsConfigError("max_response_mb must be between 1 and %d (got %s)"
                                 % (MAX_RESPONSE_MB_LIMIT, self.max_response_mb))
        if self.retries < 0 or self.retry_timeout < 0 or self.retry_max_delay < 0:
            raise EwsConfigError("retries, retry_timeout and retry_max_delay must not be negative")
        if self.impersonate is not None:
            validate_smtp_address(self.impersonate, "impersonate")
        if self.culture is not None and not CULTURE_PATTERN.match(self.culture):
            raise EwsConfigError("culture must be a language tag such as en-US (got %r)" % self.culture)
        if self.validate_certs and self.ca_path:
            self.ca_path = os.path.expanduser(os.path.expandvars(self.ca_path))
            if not os.path.exists(self.ca_path):
                raise EwsConfigError("ca_path %s does not exist (a PEM file or a folder of CA certificates)"
                                     % self.ca_path)

    def _validate_url(self):
        if not self.url:
            raise EwsConfigError("option url (or EWS_URL) is required")
        validate_secret(self.url, "url")  # control characters: the URL may be quoted, but never with them
        try:
            parts = urlsplit(self.url)
            host = parts.hostname
        except ValueError:
            raise EwsConfigError("url is not a URL; expected https://<host>/EWS/Exchange.asmx")
        if "@" in parts.netloc:
            raise EwsConfigError("url must not carry credentials; use username and password")
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http") or not host:
            raise EwsConfigError("url must be https://<host>/EWS/Exchange.asmx (got %r)" % self.url)
        self.host = host
        warnings = []
        if scheme == "http":
            if not self.allow_http:
                raise EwsConfigError("url %s is plain http://: requests and credentials would travel unencrypted. "
                                     "Use https://, or set allow_http=true for a test server" % self.url)
            if self.auth != "ntlm":
                raise EwsConfigError("auth=%s sends the %s in clear over http://; refused even with allow_http. "
                                     "Use https://" % (self.auth, "password" if self.auth == "basic" else "token"))
            warnings.append("url %s is plain http:// (allow_http=true): requests to %s and their answers travel "
                            "unencrypted" % (self.url, self.host))
        elif not self.validate_certs:
            warnings.append("validate_certs=false: the TLS certificate of %s is not checked, so anyone on the network "
                            "path can pose as %s and read the requests; use ca_path instead" % (self.host, self.host))
        self.warnings = tuple(warnings)

    def __repr__(self):
        # Never print secrets, even in a traceback.
        return "ConnectionSettings(url=%r, username=%r, auth=%r, impersonate=%r, server_version=%r)" % (
            self.url, self.username, self.auth, self.impersonate, self.server_version)


def _number(value, kind, where):
    """``kind(value)``, finite, or an error naming the option (lookups hand strings)."""
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise EwsConfigError("%s must be a number (got %r)" % (where, value))
    if not math.isfinite(number):
        raise EwsConfigError("%s must be a finite number (got %r)" % (where, value))
    return number
