# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validated connection settings every module and the lookup build their client from.

Modules get the options through ``connection_options.CONNECTION_ARGUMENT_SPEC``;
the lookup reads the same option names through its own option system. Both hand
a plain dict to ``ConnectionSettings.from_params``. This file imports nothing of
Ansible, so a client costs no more than zeep and requests-ntlm to set up.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import DEFAULT_SERVER_VERSION, SERVER_VERSIONS

AUTH_METHODS = ("ntlm", "basic", "oauth2")
# MailboxCulture is a language tag (Exchange rejects en_US and the like with ErrorSchemaValidation).
CULTURE_PATTERN = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


def _as_bool(value):
    """Lookups get env/vars values as strings; modules already converted them."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on", "y")


class ConnectionSettings:
    """Everything needed to talk to one EWS endpoint, validated.

    Build it with ``ConnectionSettings.from_params(params)`` where ``params``
    has the keys of ``CONNECTION_ARGUMENT_SPEC`` (missing keys take the
    documented defaults). ``secrets`` lists the values that must never appear
    in a message.
    """

    __slots__ = ("url", "username", "password", "auth", "access_token", "validate_certs",
                 "ca_path", "timeout", "server_version", "impersonate", "culture",
                 "retries", "retry_timeout", "retry_max_delay")

    def __init__(self, url, username=None, password=None, auth="ntlm", access_token=None,
                 validate_certs=True, ca_path=None, timeout=60, server_version=DEFAULT_SERVER_VERSION,
                 impersonate=None, culture=None, retries=5, retry_timeout=120, retry_max_delay=30):
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
        self._validate()

    @classmethod
    def from_params(cls, params):
        """Build settings from a module's ``params`` or the lookup's options (a dict)."""
        def get(name, default=None):
            value = params.get(name)
            return default if value is None or value == "" else value

        return cls(
            url=get("url"),
            username=get("username"),
            password=get("password"),
            auth=get("auth", "ntlm"),
            access_token=get("access_token"),
            validate_certs=_as_bool(get("validate_certs", True)),
            ca_path=get("ca_path"),
            timeout=float(get("timeout", 60)),
            server_version=get("server_version", DEFAULT_SERVER_VERSION),
            impersonate=get("impersonate"),
            culture=get("culture"),
            retries=int(get("retries", 5)),
            retry_timeout=float(get("retry_timeout", 120)),
            retry_max_delay=float(get("retry_max_delay", 30)),
        )

    @property
    def secrets(self):
        return tuple(s for s in (self.password, self.access_token) if s)

    def _validate(self):
        if not self.url:
            raise EwsConfigError("option url (or EWS_URL) is required")
        if not self.url.lower().startswith(("https://", "http://")):
            raise EwsConfigError("url must start with https:// (got %r)" % self.url)
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
        if self.timeout <= 0:
            raise EwsConfigError("timeout must be positive (got %s)" % self.timeout)
        if self.retries < 0 or self.retry_timeout < 0 or self.retry_max_delay < 0:
            raise EwsConfigError("retries, retry_timeout and retry_max_delay must not be negative")
        if self.culture is not None and not CULTURE_PATTERN.match(self.culture):
            raise EwsConfigError("culture must be a language tag such as en-US (got %r)" % self.culture)

    def __repr__(self):
        # Never print secrets, even in a traceback.
        return "ConnectionSettings(url=%r, username=%r, auth=%r, impersonate=%r, server_version=%r)" % (
            self.url, self.username, self.auth, self.impersonate, self.server_version)
