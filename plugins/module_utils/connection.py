# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validated connection settings every module and the lookup build their client from.

Modules get the options through ``connection_options.CONNECTION_ARGUMENT_SPEC``;
the lookup reads the same option names through its own option system. Both hand
a plain dict to ``ConnectionSettings.from_params``, which checks every value
(strict booleans, no control characters in credentials, no plain HTTP unless
allowed, app credentials complete and read) before any request. This file
imports nothing of Ansible, so a client costs no more than its libraries to
set up.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
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

APIS = ("ews", "graph")
AUTH_METHODS = ("ntlm", "basic", "oauth2")
# MailboxCulture is a language tag (Exchange rejects en_US and the like with ErrorSchemaValidation).
CULTURE_PATTERN = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*\Z")
# Documented defaults (doc_fragments/connection.py), in the units the options use.
DEFAULT_TIMEOUT = 60
DEFAULT_MAX_RESPONSE_MB = 16
MAX_TIMEOUT = 86400
MAX_RESPONSE_MB_LIMIT = 2048
GRAPH_VERSION_PATH = "/v1.0"
# A certificate file holds a key and a certificate or two: far below this.
MAX_CERTIFICATE_BYTES = 1024 * 1024
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.S)
_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}\Z")


class Cloud:
    """One Microsoft cloud: its identity platform (``authority``), Microsoft Graph and Exchange Online (the
    resource EWS tokens are for), as https roots (learn.microsoft.com/graph/deployments)."""

    def __init__(self, authority, graph, exchange):
        self.authority = authority
        self.graph = graph
        self.exchange = exchange


CLOUDS = {
    "global": Cloud("https://login.microsoftonline.com", "https://graph.microsoft.com",
                    "https://outlook.office365.com"),
    "usgovernment": Cloud("https://login.microsoftonline.us", "https://graph.microsoft.us",
                          "https://outlook.office365.us"),
    "china": Cloud("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn",
                   "https://partner.outlook.cn"),
}


class ConnectionSettings:
    """Everything needed to talk to one EWS endpoint or to Microsoft Graph, validated.

    Build it with ``ConnectionSettings.from_params(params)`` where ``params``
    has the keys of ``CONNECTION_ARGUMENT_SPEC`` (missing keys take the
    documented defaults). ``secrets`` lists every form of every credential
    (``errors.secret_forms``) that must never appear in a message, and grows
    with every access token the run obtains (``add_secret``); ``warnings`` the
    risks the options accept (no certificate check, plain HTTP), for the plugin
    to show on every run; ``host`` the endpoint's host (Graph's for
    ``api=graph``). App credentials (``app_credentials``): ``client_id`` with
    ``client_secret`` or ``client_certificate`` (its PEM, read here), for the
    identity platform at ``authority_url``.
    """

    __slots__ = ("api", "url", "username", "password", "auth", "access_token", "validate_certs",
                 "ca_path", "timeout", "server_version", "impersonate", "culture",
                 "retries", "retry_timeout", "retry_max_delay", "allow_http", "max_response_mb",
                 "tenant_id", "client_id", "client_secret", "client_certificate", "client_certificate_thumbprint",
                 "cloud", "authority", "graph_url", "host", "secrets", "warnings")

    def __init__(self, url=None, username=None, password=None, auth="ntlm", access_token=None,
                 validate_certs=True, ca_path=None, timeout=DEFAULT_TIMEOUT, server_version=DEFAULT_SERVER_VERSION,
                 impersonate=None, culture=None, retries=5, retry_timeout=120, retry_max_delay=30,
                 allow_http=False, max_response_mb=DEFAULT_MAX_RESPONSE_MB, api="ews", tenant_id=None,
                 client_id=None, client_secret=None, client_certificate=None, client_certificate_thumbprint=None,
                 cloud="global", authority=None, graph_url=None):
        self.api = api
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
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.client_certificate = client_certificate
        self.client_certificate_thumbprint = client_certificate_thumbprint
        self.cloud = cloud
        self.authority = authority
        self.graph_url = graph_url
        # Secrets first: every later message may be redacted with them, and none may quote them.
        for name in ("password", "access_token", "username", "client_secret", "client_certificate"):
            if getattr(self, name) is not None:
                value = getattr(self, name)
                # A PEM text is lines: only its line breaks are allowed.
                validate_secret(re.sub(r"\r?\n", "", value) if name == "client_certificate" else value, name)
        self.secrets = list(secret_forms(password, username) + secret_forms(access_token)
                            + secret_forms(client_secret))
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
            api=get("api", "ews"),
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
            tenant_id=get("tenant_id"),
            client_id=get("client_id"),
            client_secret=get("client_secret"),
            client_certificate=get("client_certificate"),
            client_certificate_thumbprint=get("client_certificate_thumbprint"),
            cloud=get("cloud", "global"),
            authority=get("authority"),
            graph_url=get("graph_url"),
        )

    @property
    def max_response_bytes(self):
        return self.max_response_mb * 1024 * 1024

    @property
    def app_credentials(self):
        """True when the run gets its tokens itself (client credentials) rather than being handed one."""
        return self.client_id is not None and self.access_token is None

    @property
    def uses_token(self):
        """True when requests carry a bearer token: always on Graph, with auth=oauth2 on EWS."""
        return self.api == "graph" or self.auth == "oauth2"

    @property
    def authority_url(self):
        """The identity platform's authority for the tenant: ``<authority host>/<tenant_id>``."""
        return "%s/%s" % ((self.authority or CLOUDS[self.cloud].authority).rstrip("/"), self.tenant_id)

    @property
    def token_scope(self):
        """What an app token is asked for: the cloud's Graph, or its Exchange Online for EWS (``/.default``: the
        application permissions an administrator granted). A ``graph_url`` of a test server or a proxy does not
        change the resource the token is for."""
        cloud = CLOUDS[self.cloud]
        return "%s/.default" % (cloud.graph if self.api == "graph" else cloud.exchange)

    @property
    def graph_base(self):
        """The root Graph requests go to: ``graph_url``, else the cloud's Graph with ``/v1.0``."""
        return (self.graph_url or CLOUDS[self.cloud].graph + GRAPH_VERSION_PATH).rstrip("/")

    def add_secret(self, value):
        """A secret the run came by (an access token it obtained): masked from now on, in every form."""
        self.secrets.extend(form for form in secret_forms(value) if form not in self.secrets)

    def _validate(self):
        if self.api not in APIS:
            raise EwsConfigError("api must be one of %s (got %r)" % (", ".join(APIS), self.api))
        if self.auth not in AUTH_METHODS:
            raise EwsConfigError("auth must be one of %s (got %r)" % (", ".join(AUTH_METHODS), self.auth))
        self._validate_app_credentials()
        warnings = []
        if self.api == "graph":
            if self.access_token is None and self.client_id is None:
                raise EwsConfigError("api=graph needs a token: app credentials (tenant_id, client_id, and "
                                     "client_secret or client_certificate) or access_token")
            self.host = _https_host(self.graph_base, "graph_url", "https://graph.microsoft.com/v1.0")
        else:
            warnings += self._validate_url()
            if self.auth == "oauth2":
                if self.access_token is None and self.client_id is None:
                    raise EwsConfigError("auth=oauth2 needs access_token (or EWS_ACCESS_TOKEN), or app credentials "
                                         "(tenant_id, client_id, and client_secret or client_certificate)")
            elif not (self.username and self.password):
                raise EwsConfigError("auth=%s needs username and password (or EWS_USERNAME / EWS_PASSWORD)"
                                     % self.auth)
        if not self.validate_certs:
            # (plain http:// has its own warning)
            hosts = [] if warnings else [self.host]
            if self.uses_token and self.app_credentials:
                hosts.append(_https_host(self.authority_url, "authority", "https://login.microsoftonline.com"))
            for host in hosts:
                warnings.append("validate_certs=false: the TLS certificate of %s is not checked, so anyone on the "
                                "network path can pose as %s and read the requests; use ca_path instead"
                                % (host, host))
        self.warnings = tuple(warnings)
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

    def _validate_app_credentials(self):
        """tenant_id, client_id and one credential, the cloud and the authority; the certificate read and its
        thumbprint computed when not given. Checked whenever client_id is given, whatever the api."""
        if self.cloud not in CLOUDS:
            raise EwsConfigError("cloud must be one of %s (got %r)" % (", ".join(CLOUDS), self.cloud))
        given = [name for name in ("tenant_id", "client_secret", "client_certificate", "client_certificate_thumbprint")
                 if getattr(self, name) is not None]
        if self.client_id is None:
            if given:
                raise EwsConfigError("%s given without client_id: app credentials are tenant_id, client_id, and "
                                     "client_secret or client_certificate" % ", ".join(given))
            return
        for name in ("tenant_id", "client_id"):
            if getattr(self, name) is None or not re.match(r"^[A-Za-z0-9.-]{1,128}\Z", getattr(self, name)):
                raise EwsConfigError("%s must be the app registration's %s (a GUID, or for tenant_id a domain "
                                     "name such as contoso.onmicrosoft.com), got %r"
                                     % (name, "Directory (tenant) ID" if name == "tenant_id"
                                        else "Application (client) ID", getattr(self, name)))
        if (self.client_secret is None) == (self.client_certificate is None):
            raise EwsConfigError("client_id needs exactly one credential: client_secret or client_certificate")
        _https_host(self.authority_url, "authority", "https://login.microsoftonline.com")
        if self.client_certificate is not None:
            self.client_certificate = _read_certificate(self.client_certificate)
            self.secrets.extend(form for block in private_key_blocks(self.client_certificate)
                                for form in pem_secret_forms(block))
            self.client_certificate_thumbprint = _thumbprint(self.client_certificate,
                                                             self.client_certificate_thumbprint)
        elif self.client_certificate_thumbprint is not None:
            raise EwsConfigError("client_certificate_thumbprint goes with client_certificate, not client_secret")

    def _validate_url(self):
        """EWS's url; returns the warnings it carries."""
        if not self.url:
            raise EwsConfigError("option url (or EWS_URL) is required with api=ews")
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
        if scheme != "http":
            return []
        if not self.allow_http:
            raise EwsConfigError("url %s is plain http://: requests and credentials would travel unencrypted. "
                                 "Use https://, or set allow_http=true for a test server" % self.url)
        if self.auth != "ntlm":
            raise EwsConfigError("auth=%s sends the %s in clear over http://; refused even with allow_http. "
                                 "Use https://" % (self.auth, "password" if self.auth == "basic" else "token"))
        return ["url %s is plain http:// (allow_http=true): requests to %s and their answers travel "
                "unencrypted" % (self.url, self.host)]

    def __repr__(self):
        # Never print secrets, even in a traceback.
        return "ConnectionSettings(api=%r, url=%r, username=%r, auth=%r, client_id=%r, impersonate=%r)" % (
            self.api, self.url, self.username, self.auth, self.client_id, self.impersonate)


def _https_host(url, where, example):
    """The host of an https:// ``url`` (a token travels there: plain http:// is never allowed)."""
    validate_secret(url, where)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if host is None or parts.scheme.lower() != "https" or "@" in parts.netloc:
        raise EwsConfigError("%s must be an https:// URL such as %s (got %r); a token or a client credential "
                             "travels there" % (where, example, url))
    return host


def private_key_blocks(pem):
    """The private key blocks of a PEM text (``-----BEGIN ... PRIVATE KEY-----`` to its END line)."""
    return [match.group(0) for match in _PEM_BLOCK.finditer(pem) if "PRIVATE KEY" in match.group(1)]


def pem_secret_forms(block):
    """Every form of a private key block, and of each of its lines: a log may show a key cut into lines."""
    forms = list(secret_forms(block))
    for line in block.splitlines():
        line = line.strip()
        if len(line) >= 16 and not line.startswith("-----"):
            forms.extend(secret_forms(line))
    return forms


def _read_certificate(value):
    """The PEM text of ``client_certificate``: given as is (it starts with -----BEGIN), or read from that path.
    It must hold a private key."""
    if value.lstrip().startswith("-----BEGIN"):
        text = value
    else:
        path = os.path.expanduser(os.path.expandvars(value))
        try:
            if os.path.getsize(path) > MAX_CERTIFICATE_BYTES:
                raise EwsConfigError("client_certificate %s is larger than %d bytes; expected a PEM file with a "
                                     "private key and its certificate" % (path, MAX_CERTIFICATE_BYTES))
            with open(path, "rb") as stream:
                text = stream.read().decode("ascii")
        except (IOError, OSError) as error:
            raise EwsConfigError("client_certificate: cannot read %s: %s" % (path, error.strerror or error))
        except UnicodeDecodeError:
            raise EwsConfigError("client_certificate %s is not a PEM file (text with -----BEGIN lines)" % path)
    if not private_key_blocks(text):
        raise EwsConfigError("client_certificate holds no private key: give the PEM of the app's private key and "
                             "its certificate (-----BEGIN PRIVATE KEY----- and -----BEGIN CERTIFICATE-----); an "
                             "encrypted key is not supported")
    if "ENCRYPTED" in text.split("PRIVATE KEY-----")[0]:
        raise EwsConfigError("client_certificate holds an encrypted private key; give it unencrypted (keep the "
                             "file private, or hand it over as a secret)")
    return text


def certificate_blocks(pem):
    """The DER bytes of each certificate in a PEM text."""
    return [base64.b64decode(re.sub(r"\s+", "", match.group(2)))
            for match in _PEM_BLOCK.finditer(pem) if match.group(1) == "CERTIFICATE"]


def _thumbprint(pem, given):
    """The certificate's SHA-1 thumbprint in hex, as the app registration lists it: ``given`` (colons and spaces
    ignored), else computed from the first certificate in the PEM."""
    if given is not None:
        compact = re.sub(r"[\s:]", "", given)
        if not _THUMBPRINT.match(compact):
            raise EwsConfigError("client_certificate_thumbprint must be the certificate's SHA-1 thumbprint: 40 hex "
                                 "digits (got %r)" % given)
        return compact.upper()
    certificates = certificate_blocks(pem)
    if not certificates:
        raise EwsConfigError("client_certificate holds a private key but no certificate: add the certificate "
                             "(-----BEGIN CERTIFICATE-----) or give client_certificate_thumbprint")
    return hashlib.sha1(certificates[0]).hexdigest().upper()


def _number(value, kind, where):
    """``kind(value)``, finite, or an error naming the option (lookups hand strings)."""
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise EwsConfigError("%s must be a number (got %r)" % (where, value))
    if not math.isfinite(number):
        raise EwsConfigError("%s must be a finite number (got %r)" % (where, value))
    return number
