# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every exchange.ews module and lookup, written once.

``DOCUMENTATION`` matches ``module_utils/connection_options.py``'s
``CONNECTION_ARGUMENT_SPEC``. Lookups also use the ``PLUGINS`` form, which adds
the ``env:`` and ``vars:`` sources Ansible's option system resolves for
controller-side plugins (modules read the same environment variables through
the argument spec's fallbacks).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  api:
    description:
      - The service to talk to. V(ews) is Exchange Web Services (Exchange Server on-premises, and Exchange
        Online until it switches EWS off). V(graph) is Microsoft Graph (Exchange Online).
      - The options, results and statuses are the same for both; moving a task from EWS to Graph is this
        one option (with app credentials set, see the collection's C(docs/exchange-online.md)).
      - Microsoft Graph authenticates with a token only (app credentials, or O(access_token)); it ignores
        O(url), O(auth), O(username), O(password), O(server_version) and O(culture). It acts on the mailbox
        O(impersonate) names (or the module's O(ignore:mailbox) option, where it has one).
      - Taken from E(EWS_API) when not set.
    type: str
    choices: [ews, graph]
    default: ews
  url:
    description:
      - The EWS endpoint, for example C(https://mail.example.com/EWS/Exchange.asmx). Required with O(api=ews).
      - Redirects are never followed; a plain C(http://) URL needs O(allow_http).
      - Taken from the E(EWS_URL) environment variable when not set.
    type: str
    aliases: [ews_url]
  username:
    description:
      - User name for O(auth=ntlm) (C(DOMAIN\\user) or C(user@domain)) or O(auth=basic).
      - Taken from E(EWS_USERNAME) when not set.
    type: str
  password:
    description:
      - Password for O(auth=ntlm) or O(auth=basic). Never logged or shown in errors, in any form.
      - Used as given. A value with control characters (such as the line break a YAML block scalar
        ends with) is refused before any request.
      - Taken from E(EWS_PASSWORD) when not set.
    type: str
  auth:
    description:
      - How to authenticate to EWS. V(ntlm) needs the Python library C(requests-ntlm).
      - V(oauth2) sends a bearer token, O(access_token) when given, else one the module gets for the app
        credentials (O(tenant_id), O(client_id), and O(client_secret) or O(client_certificate)) for Exchange
        Online's EWS, which then needs O(impersonate).
      - Microsoft Graph (O(api=graph)) always uses a token and ignores this option.
      - Taken from E(EWS_AUTH) when not set.
    type: str
    choices: [ntlm, basic, oauth2]
    default: ntlm
  access_token:
    description:
      - OAuth2 access token for O(auth=oauth2) or O(api=graph), obtained elsewhere. Never logged or shown
        in errors, in any form. It cannot be renewed; for scheduled jobs prefer app credentials.
      - Used as given. A value with control characters is refused before any request.
      - Taken from E(EWS_ACCESS_TOKEN) when not set.
    type: str
  tenant_id:
    description:
      - App credentials (OAuth2 client credentials flow) for Microsoft Graph and for Exchange Online's EWS,
        the Microsoft Entra tenant of the app registration, its Directory (tenant) ID (a GUID), or a
        verified domain such as V(contoso.onmicrosoft.com).
      - Tokens are requested with the Python library C(msal) once per run and kept in memory only.
      - Taken from E(EWS_TENANT_ID) when not set.
    type: str
  client_id:
    description:
      - The app registration's Application (client) ID. With it, the module gets its own tokens
        (O(tenant_id), and O(client_secret) or O(client_certificate)); an O(access_token) given as well wins.
      - Taken from E(EWS_CLIENT_ID) when not set.
    type: str
  client_secret:
    description:
      - A client secret of the app registration. Never logged or shown in errors, in any form.
      - Taken from E(EWS_CLIENT_SECRET) when not set.
    type: str
  client_certificate:
    description:
      - The app's certificate credential instead of a secret, the path of a PEM file or the PEM text
        itself, holding the unencrypted private key and the certificate registered with the app.
      - The private key is never logged or shown in errors, in any form (also line by line).
      - Taken from E(EWS_CLIENT_CERTIFICATE) when not set.
    type: str
  client_certificate_thumbprint:
    description:
      - The certificate's SHA-1 thumbprint (40 hex digits, as the app registration lists it). Computed
        from the certificate in O(client_certificate) when not set; needed only when that holds the key alone.
      - Taken from E(EWS_CLIENT_CERTIFICATE_THUMBPRINT) when not set.
    type: str
  cloud:
    description:
      - The Microsoft cloud of the tenant, which sets the identity platform, Microsoft Graph and Exchange
        Online the module talks to and asks tokens for, V(global) (C(login.microsoftonline.com),
        C(graph.microsoft.com), C(outlook.office365.com)), V(usgovernment) (C(login.microsoftonline.us),
        C(graph.microsoft.us), C(outlook.office365.us)), V(china) (operated by 21Vianet,
        C(login.chinacloudapi.cn), C(microsoftgraph.chinacloudapi.cn), C(partner.outlook.cn)).
      - Taken from E(EWS_CLOUD) when not set.
    type: str
    choices: [global, usgovernment, china]
    default: global
  authority:
    description:
      - The identity platform's https:// root instead of O(cloud)'s (the tenant is added to it), for
        example a test server such as the collection's sandbox.
      - Taken from E(EWS_AUTHORITY) when not set.
    type: str
  graph_url:
    description:
      - The Microsoft Graph root requests go to instead of O(cloud)'s (C(https://graph.microsoft.com/v1.0)),
        for a test server or a proxy; tokens are still asked for O(cloud)'s Graph. https:// only.
      - Taken from E(EWS_GRAPH_URL) when not set.
    type: str
  validate_certs:
    description:
      - Verify the server's TLS certificate. Only turn this off for throwaway test servers.
      - With V(false) every run warns, naming the host whose certificate is not checked.
        Prefer O(ca_path) for an internal certificate authority.
      - Taken from E(EWS_VALIDATE_CERTS) when not set.
    type: bool
    default: true
  allow_http:
    description:
      - Allow a plain C(http://) O(url), for test servers such as the collection's sandbox.
      - Without it an C(http://) URL is refused. With it every run warns; O(auth=basic) and
        O(auth=oauth2) are still refused over C(http://), because they would send the password or
        token in clear.
      - Taken from E(EWS_ALLOW_HTTP) when not set.
    type: bool
    default: false
  ca_path:
    description:
      - PEM file of the certificate authorities to trust instead of the system's.
      - Taken from E(EWS_CA_PATH) when not set.
    type: path
  timeout:
    description:
      - Seconds one HTTP request may take, from connecting to the last byte of the answer.
        A server that sends its answer slower than that (or never finishes it) fails the request
        with a lost response.
      - Taken from E(EWS_TIMEOUT) when not set.
    type: float
    default: 60
  max_response_mb:
    description:
      - Largest answer, in MiB, the client reads for one request, counted after decompression.
        A larger answer fails the request with a lost response, so a broken or hostile server cannot
        exhaust memory.
      - The default is far above what a request of the collection gets back (a page of 1,000 items is
        about 1 MiB).
      - Taken from E(EWS_MAX_RESPONSE_MB) when not set.
    type: int
    default: 16
  server_version:
    description:
      - The C(RequestServerVersion) header, the schema version requests are written for.
      - The default works with Exchange 2013 SP1 and later, including Exchange Online.
      - Taken from E(EWS_SERVER_VERSION) when not set.
    type: str
    choices: [Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2,
              Exchange2013, Exchange2013_SP1, Exchange2016]
    default: Exchange2013_SP1
  impersonate:
    description:
      - SMTP address of a mailbox to act as. On EWS through Exchange impersonation
        (C(ExchangeImpersonation) header). The account needs the ApplicationImpersonation role (or, with app
        credentials, the app the C(full_access_as_app) permission); otherwise Exchange answers
        C(ErrorImpersonateUserDenied).
      - On Microsoft Graph the mailbox whose messages the module works on (C(/users/<address>)); an app
        token has no mailbox of its own, so Graph needs this (or the module's own O(ignore:mailbox) option).
      - Taken from E(EWS_IMPERSONATE) when not set.
    type: str
  culture:
    description:
      - The C(MailboxCulture) header (for example V(en-US)), the language of folder names and
        server messages.
      - Taken from E(EWS_CULTURE) when not set.
    type: str
  retries:
    description:
      - How many times a request is repeated when Exchange proves it did not process it
        (C(ErrorServerBusy), HTTP 503, connection refused). A request whose response was lost
        is never repeated blindly.
      - Taken from E(EWS_RETRIES) when not set.
    type: int
    default: 5
  retry_timeout:
    description:
      - Upper bound, in seconds, on the time spent waiting between retries of one request.
      - Taken from E(EWS_RETRY_TIMEOUT) when not set.
    type: float
    default: 120
  retry_max_delay:
    description:
      - Longest single wait, in seconds, even when Exchange asks for more (C(BackOffMilliseconds),
        C(Retry-After)).
      - Taken from E(EWS_RETRY_MAX_DELAY) when not set.
    type: float
    default: 30
notes:
  - Module options can be set once for all modules of the collection with
    C(module_defaults) and the action group C(group/exchange.ews.ews).
requirements:
  - zeep >= 4.2 (for O(api=ews))
  - requests-ntlm (for O(auth=ntlm))
  - msal >= 1.20 (for app credentials)
"""

    # Lookup form: where Ansible's option system finds each option besides the keyword.
    PLUGINS = r"""
options:
  api:
    env:
      - name: EWS_API
    vars:
      - name: ews_api
  url:
    env:
      - name: EWS_URL
    vars:
      - name: ews_url
  username:
    env:
      - name: EWS_USERNAME
    vars:
      - name: ews_username
  password:
    env:
      - name: EWS_PASSWORD
    vars:
      - name: ews_password
  auth:
    env:
      - name: EWS_AUTH
    vars:
      - name: ews_auth
  access_token:
    env:
      - name: EWS_ACCESS_TOKEN
    vars:
      - name: ews_access_token
  validate_certs:
    env:
      - name: EWS_VALIDATE_CERTS
    vars:
      - name: ews_validate_certs
  ca_path:
    env:
      - name: EWS_CA_PATH
    vars:
      - name: ews_ca_path
  timeout:
    env:
      - name: EWS_TIMEOUT
    vars:
      - name: ews_timeout
  server_version:
    env:
      - name: EWS_SERVER_VERSION
    vars:
      - name: ews_server_version
  impersonate:
    env:
      - name: EWS_IMPERSONATE
    vars:
      - name: ews_impersonate
  culture:
    env:
      - name: EWS_CULTURE
    vars:
      - name: ews_culture
  retries:
    env:
      - name: EWS_RETRIES
    vars:
      - name: ews_retries
  retry_timeout:
    env:
      - name: EWS_RETRY_TIMEOUT
    vars:
      - name: ews_retry_timeout
  retry_max_delay:
    env:
      - name: EWS_RETRY_MAX_DELAY
    vars:
      - name: ews_retry_max_delay
  allow_http:
    env:
      - name: EWS_ALLOW_HTTP
    vars:
      - name: ews_allow_http
  max_response_mb:
    env:
      - name: EWS_MAX_RESPONSE_MB
    vars:
      - name: ews_max_response_mb
  tenant_id:
    env:
      - name: EWS_TENANT_ID
    vars:
      - name: ews_tenant_id
  client_id:
    env:
      - name: EWS_CLIENT_ID
    vars:
      - name: ews_client_id
  client_secret:
    env:
      - name: EWS_CLIENT_SECRET
    vars:
      - name: ews_client_secret
  client_certificate:
    env:
      - name: EWS_CLIENT_CERTIFICATE
    vars:
      - name: ews_client_certificate
  client_certificate_thumbprint:
    env:
      - name: EWS_CLIENT_CERTIFICATE_THUMBPRINT
    vars:
      - name: ews_client_certificate_thumbprint
  cloud:
    env:
      - name: EWS_CLOUD
    vars:
      - name: ews_cloud
  authority:
    env:
      - name: EWS_AUTHORITY
    vars:
      - name: ews_authority
  graph_url:
    env:
      - name: EWS_GRAPH_URL
    vars:
      - name: ews_graph_url
"""
