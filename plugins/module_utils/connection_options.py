# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options of every module, written once.

``CONNECTION_ARGUMENT_SPEC`` is merged into each module's argument spec; its
documentation is ``doc_fragments/connection.py``. Every option falls back to an
``EWS_*`` environment variable (how AWX's credential type hands them over).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.exchange.ews.plugins.module_utils.connection import (
    APIS,
    AUTH_METHODS,
    CLOUDS,
    DEFAULT_MAX_RESPONSE_MB,
    DEFAULT_TIMEOUT,
)
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import (
    DEFAULT_SERVER_VERSION,
    SERVER_VERSIONS,
)

CONNECTION_ARGUMENT_SPEC = dict(
    api=dict(type="str", default="ews", choices=list(APIS), fallback=(env_fallback, ["EWS_API"])),
    url=dict(type="str", aliases=["ews_url"], fallback=(env_fallback, ["EWS_URL"])),
    username=dict(type="str", fallback=(env_fallback, ["EWS_USERNAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["EWS_PASSWORD"])),
    auth=dict(type="str", default="ntlm", choices=list(AUTH_METHODS), fallback=(env_fallback, ["EWS_AUTH"])),
    access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["EWS_ACCESS_TOKEN"])),
    validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["EWS_VALIDATE_CERTS"])),
    ca_path=dict(type="path", fallback=(env_fallback, ["EWS_CA_PATH"])),
    timeout=dict(type="float", default=DEFAULT_TIMEOUT, fallback=(env_fallback, ["EWS_TIMEOUT"])),
    server_version=dict(type="str", default=DEFAULT_SERVER_VERSION, choices=list(SERVER_VERSIONS),
                        fallback=(env_fallback, ["EWS_SERVER_VERSION"])),
    impersonate=dict(type="str", fallback=(env_fallback, ["EWS_IMPERSONATE"])),
    culture=dict(type="str", fallback=(env_fallback, ["EWS_CULTURE"])),
    retries=dict(type="int", default=5, fallback=(env_fallback, ["EWS_RETRIES"])),
    retry_timeout=dict(type="float", default=120, fallback=(env_fallback, ["EWS_RETRY_TIMEOUT"])),
    retry_max_delay=dict(type="float", default=30, fallback=(env_fallback, ["EWS_RETRY_MAX_DELAY"])),
    allow_http=dict(type="bool", default=False, fallback=(env_fallback, ["EWS_ALLOW_HTTP"])),
    max_response_mb=dict(type="int", default=DEFAULT_MAX_RESPONSE_MB, fallback=(env_fallback, ["EWS_MAX_RESPONSE_MB"])),
    tenant_id=dict(type="str", fallback=(env_fallback, ["EWS_TENANT_ID"])),
    client_id=dict(type="str", fallback=(env_fallback, ["EWS_CLIENT_ID"])),
    client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["EWS_CLIENT_SECRET"])),
    client_certificate=dict(type="str", no_log=True, fallback=(env_fallback, ["EWS_CLIENT_CERTIFICATE"])),
    client_certificate_thumbprint=dict(type="str", fallback=(env_fallback, ["EWS_CLIENT_CERTIFICATE_THUMBPRINT"])),
    cloud=dict(type="str", default="global", choices=list(CLOUDS), fallback=(env_fallback, ["EWS_CLOUD"])),
    authority=dict(type="str", fallback=(env_fallback, ["EWS_AUTHORITY"])),
    graph_url=dict(type="str", fallback=(env_fallback, ["EWS_GRAPH_URL"])),
)
