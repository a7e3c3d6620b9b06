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
  url:
    description:
      - The EWS endpoint, for example C(https://mail.example.com/EWS/Exchange.asmx).
      - Redirects are never followed; a plain C(http://) URL needs O(allow_http).
      - Taken from the E(EWS_URL) environment variable when not set.
    type: str
    required: true
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
      - How to authenticate. V(ntlm) needs the Python library C(requests-ntlm).
      - V(oauth2) sends O(access_token) as a bearer token; getting the token is up to you.
      - Taken from E(EWS_AUTH) when not set.
    type: str
    choices: [ntlm, basic, oauth2]
    default: ntlm
  access_token:
    description:
      - OAuth2 access token for O(auth=oauth2). Never logged or shown in errors, in any form.
      - Used as given. A value with control characters is refused before any request.
      - Taken from E(EWS_ACCESS_TOKEN) when not set.
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
      - SMTP address of a mailbox to act as, through Exchange impersonation
        (C(ExchangeImpersonation) header). The account needs the ApplicationImpersonation role;
        otherwise Exchange answers C(ErrorImpersonateUserDenied).
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
  - zeep >= 4.2
  - requests-ntlm (for O(auth=ntlm))
"""

    # Lookup form: where Ansible's option system finds each option besides the keyword.
    PLUGINS = r"""
options:
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
"""
