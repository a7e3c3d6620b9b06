# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""App credentials: tokens from the sandbox's identity platform through msal and the collection's own code,
with a client secret and with a certificate; refusals named; tokens kept in memory and masked."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import oauth
from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError, EwsTokenError, redact
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import graph_client_for, graph_params


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture(autouse=True)
def fresh_applications():
    """Every test gets its own msal applications (the process keeps one per app registration)."""
    oauth._APPLICATIONS.clear()
    yield
    oauth._APPLICATIONS.clear()


@pytest.mark.parametrize("certificate", [False, True], ids=["client secret", "certificate"])
def test_a_token_through_msal_reaches_graph(sandbox, certificate):
    settings = ConnectionSettings.from_params(graph_params(sandbox, certificate=certificate))
    token = oauth.token_source(settings)()
    issued = claims(token)
    assert issued["aud"] == "https://graph.microsoft.com"
    assert issued["appid"] == sandbox.apps["exchange-ews-demo"].client_id
    assert issued["appidacr"] == ("2" if certificate else "1")       # how the app proved itself
    assert issued["roles"] == ["Mail.ReadWrite", "Mail.Send"]
    assert redact("echo " + token, settings.secrets) == "echo ********"
    with graph_client_for(sandbox, certificate=certificate) as client:
        answer = client.call("GET", "/users/alice@sandbox.test/mailFolders/drafts/messages", "ListMessages",
                             params={"$top": "1", "$select": "subject"})
    assert answer.status == 200 and "value" in answer.body


def test_one_token_request_per_run(sandbox):
    since = sandbox.admin.requests()[-1]["seq"] if sandbox.admin.requests() else 0
    settings = ConnectionSettings.from_params(graph_params(sandbox))
    source = oauth.token_source(settings)
    tokens = {source() for _call in range(5)}
    assert len(tokens) == 1
    operations = [entry["operation"] for entry in sandbox.admin.requests(since=since)]
    assert operations.count("Token") == 1


def test_the_thumbprint_is_computed_from_the_certificate_and_a_given_one_must_match(sandbox):
    settings = ConnectionSettings.from_params(graph_params(sandbox, certificate=True))
    assert len(settings.client_certificate_thumbprint) == 40
    wrong = ConnectionSettings.from_params(graph_params(sandbox, certificate=True,
                                                        client_certificate_thumbprint="AB" * 20))
    with pytest.raises(EwsTokenError) as refused:
        oauth.token_source(wrong)()
    assert "AADSTS700027" in str(refused.value) and "client_certificate" in str(refused.value)


def test_a_certificate_file_is_read_and_its_key_never_shown(sandbox, tmp_path):
    cert, key = sandbox.demo_certificate
    pem = tmp_path / "app.pem"
    pem.write_text(key.read_text() + cert.read_text())
    settings = ConnectionSettings.from_params(graph_params(sandbox, client_certificate=str(pem),
                                                           client_secret=None))
    assert oauth.token_source(settings)()
    key_line = key.read_text().splitlines()[3]
    assert redact("leaked " + key_line, settings.secrets) == "leaked ********"


@pytest.mark.parametrize("options, fragment", [
    ({"client_secret": "wrong-secret"}, "AADSTS7000215"),
    ({"tenant_id": "00000000-0000-0000-0000-000000000000"}, "tenant"),
    ({"client_id": "00000000-0000-0000-0000-00000000dead"}, "AADSTS700016"),
], ids=["wrong secret", "unknown tenant", "unknown client id"])
def test_refusals_name_the_identity_platforms_code_and_never_the_secret(sandbox, options, fragment):
    settings = ConnectionSettings.from_params(graph_params(sandbox, **options))
    with pytest.raises(EwsTokenError) as refused:
        oauth.token_source(settings)()
    message = str(refused.value)
    assert fragment in message and "wrong-secret" not in message
    assert refused.value.response_code is None and type(refused.value).__name__ == "EwsTokenError"


def test_ews_app_tokens_are_asked_for_exchange_online(sandbox):
    """EWS with app credentials asks for Exchange Online's resource; the sandbox issues Graph tokens only, and
    says so (AADSTS1002012): the scope went out as documented."""
    params = dict(graph_params(sandbox), api="ews", url=sandbox.url, auth="oauth2")
    settings = ConnectionSettings.from_params(params)
    assert settings.token_scope == "https://outlook.office365.com/.default"
    with pytest.raises(EwsTokenError) as refused:
        oauth.token_source(settings)()
    assert "AADSTS1002012" in str(refused.value) and "outlook.office365.com" in str(refused.value)


@pytest.mark.parametrize("cloud, scope, authority", [
    ("global", "https://graph.microsoft.com/.default", "https://login.microsoftonline.com/contoso.onmicrosoft.com"),
    ("usgovernment", "https://graph.microsoft.us/.default", "https://login.microsoftonline.us/contoso.onmicrosoft.com"),
    ("china", "https://microsoftgraph.chinacloudapi.cn/.default",
     "https://login.chinacloudapi.cn/contoso.onmicrosoft.com"),
])
def test_each_cloud_has_its_authority_graph_and_scope(cloud, scope, authority):
    settings = ConnectionSettings.from_params({
        "api": "graph", "cloud": cloud, "tenant_id": "contoso.onmicrosoft.com",
        "client_id": "0e7c2d3a-5a1d-4b0c-8e57-000000000001", "client_secret": "s", "impersonate": "a@contoso.com"})
    assert (settings.token_scope, settings.authority_url) == (scope, authority)
    assert settings.graph_base == scope.replace("/.default", "/v1.0")


@pytest.mark.parametrize("options, fragment", [
    ({"client_secret": None}, "exactly one credential"),
    ({"tenant_id": None}, "tenant_id must be"),
    ({"client_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "client_secret": None},
     "holds no private key"),
    ({"authority": "http://login.example.test"}, "authority must be an https:// URL"),
    ({"graph_url": "http://graph.example.test/v1.0"}, "graph_url must be an https:// URL"),
    ({"client_id": None, "client_secret": None, "tenant_id": None}, "api=graph needs a token"),
    ({"client_id": None}, "tenant_id, client_secret given without client_id"),
    ({"cloud": "mars"}, "cloud must be one of"),
])
def test_unusable_app_credentials_are_refused_before_any_request(options, fragment):
    params = {"api": "graph", "tenant_id": "t", "client_id": "c", "client_secret": "s", "impersonate": "a@b.example"}
    params.update(options)
    with pytest.raises(EwsConfigError) as refused:
        ConnectionSettings.from_params(params)
    assert fragment in str(refused.value)


def test_msal_is_imported_only_by_runs_that_get_tokens_themselves(monkeypatch):
    # Without app credentials nothing imports msal (start-up time); the check before the first token
    # reports an msal that cannot be imported with its ImportError.
    import os
    import pathlib
    import subprocess
    import sys
    code = ("import sys\n"
            "from ansible_collections.exchange.ews.plugins.module_utils import client, ews_module\n"
            "print('msal' in sys.modules)\n")
    # A fresh process, with the tree holding ansible_collections (this one has msal imported already).
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(os.path.abspath(oauth.__file__)).parents[5]))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    assert out.strip() == "False"
    assert oauth.msal_import_error() is None
    monkeypatch.setitem(sys.modules, "msal", None)
    assert isinstance(oauth.msal_import_error(), ImportError)
