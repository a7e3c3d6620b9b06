# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access tokens for app credentials (the OAuth2 client credentials flow), from msal, in memory only.

    source = token_source(settings)   # None, the given access_token, or AppTokens for the app credentials
    source()                          # the current access token (a new one only when msal's expires)

One msal application per app registration and process (``_APPLICATIONS``):
its in-memory token cache serves every client of the run, and the lookup's
calls during a playbook. Nothing is written to disk. msal reaches the identity
platform through the collection's own bounded, redirect-free session
(``_IdentityHttp``), so its requests are bounded and their failures classified
like any other, and the tokens it obtains join ``settings.secrets`` at once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import threading

from ansible_collections.exchange.ews.plugins.module_utils.connection import private_key_blocks
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError, EwsTokenError, excerpt
from ansible_collections.exchange.ews.plugins.module_utils.transport import bounded_request, build_session

OPERATION = "Token"
API = "identity platform"
# What the identity platform's commonest refusals mean for the options (AADSTS codes, learn.microsoft.com).
HINTS = {
    7000215: "check client_secret (it may have expired)",
    7000222: "the client secret has expired: create a new one",
    700016: "check client_id and tenant_id (the app is not registered in that tenant, or in another cloud)",
    90002: "check tenant_id (no such tenant in this cloud)",
    700027: "check client_certificate: its certificate is not registered with the app, or the key does not match",
    1002012: "the scope was refused: check cloud",
    7000218: "the request carried no credential",
}

_APPLICATIONS = {}
_LOCK = threading.Lock()


def needs_msal(settings):
    """True when the run gets tokens itself, which takes msal."""
    return settings.uses_token and settings.app_credentials


def msal_import_error():
    """The ImportError of msal, or None once it imports.

    msal is imported only by runs that get tokens themselves (``needs_msal``): it and what it imports
    (http.server, xml.etree...) cost every other run about 10 ms of start-up. The plugin asks this
    before the first token and reports the error through missing_required_lib.
    """
    try:
        import msal  # noqa: F401  pylint: disable=unused-import
    except ImportError as exc:
        return exc
    return None


def token_source(settings):
    """A callable returning the bearer token for ``settings``, or None when requests carry none."""
    if not settings.uses_token:
        return None
    if settings.access_token is not None:
        return lambda: settings.access_token
    return AppTokens(settings)


class AppTokens:
    """The app's token for ``settings.token_scope``, from msal's in-memory cache or the identity platform.

    ``ends_at``: a ``time.monotonic()`` deadline no token request runs past (the client sets its own).
    """

    def __init__(self, settings):
        self.settings = settings
        self.ends_at = None

    def __call__(self):
        settings = self.settings
        try:
            with _LOCK:  # one token request at a time; the others find it in the cache
                application = _application(settings)
                application.http_client.owner = self
                result = application.acquire_token_for_client([settings.token_scope])
        except EwsError:
            raise
        except Exception as error:  # pylint: disable=broad-exception-caught
            # msal's own failures (an authority that answers no configuration, a key it cannot use): no token.
            raise EwsTokenError("could not get a token from %s for client_id %s: %s"
                                % (settings.authority_url, settings.client_id,
                                   excerpt("%s: %s" % (type(error).__name__, error), settings.secrets, 300)),
                                operation=OPERATION, api=API) from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            raise EwsTokenError(_refusal(settings, result), operation=OPERATION, api=API)
        settings.add_secret(token)
        return token


def _refusal(settings, result):
    result = result if isinstance(result, dict) else {}
    codes = [code for code in result.get("error_codes") or () if isinstance(code, int)]
    description = str(result.get("error_description") or result.get("error") or "no token in the answer")
    hint = next((HINTS[code] for code in codes if code in HINTS), None)
    return "the identity platform (%s) refused a token for client_id %s and %s: %s%s" % (
        settings.authority_url, settings.client_id, settings.token_scope,
        excerpt(description.splitlines()[0], settings.secrets, 300), "; " + hint if hint else "")


def _application(settings):
    """The process's msal application for these app credentials (built once: it fetches the tenant's
    configuration)."""
    credential = settings.client_secret or settings.client_certificate
    key = (settings.authority_url, settings.client_id, hashlib.sha256(credential.encode("utf-8")).hexdigest(),
           settings.validate_certs, settings.ca_path)
    application = _APPLICATIONS.get(key)
    if application is None:
        import msal  # the plugin has checked msal_import_error(): see there why not at module level
        if settings.client_secret is not None:
            client_credential = settings.client_secret
        else:
            client_credential = {"private_key": private_key_blocks(settings.client_certificate)[0],
                                 "thumbprint": settings.client_certificate_thumbprint}
        # instance_discovery off: the authority is the cloud's own (or the one given), nothing to look up.
        application = msal.ConfidentialClientApplication(
            settings.client_id, client_credential=client_credential, authority=settings.authority_url,
            http_client=_IdentityHttp(settings), instance_discovery=False, token_cache=msal.TokenCache())
        _APPLICATIONS[key] = application
    return application


class _IdentityHttp:
    """The HTTP client msal uses: the collection's bounded session, no redirects, failures classified.

    ``owner``: the ``AppTokens`` asking now, whose ``ends_at`` and secrets apply.
    """

    def __init__(self, settings):
        self.settings = settings
        self.session = build_session(settings)
        self.owner = None

    def get(self, url, params=None, headers=None, **_ignored):
        return self._request("GET", url, params=params, headers=headers)

    def post(self, url, params=None, data=None, headers=None, **_ignored):
        return self._request("POST", url, params=params, data=data, headers=headers)

    def _request(self, method, url, **kwargs):
        owner_settings = self.owner.settings if self.owner is not None else self.settings
        return bounded_request(self.session, method, url, owner_settings.timeout,
                               self.owner.ends_at if self.owner is not None else None, OPERATION,
                               owner_settings.secrets, api=API, **kwargs)

    def close(self):
        self.session.close()
