"""The identity platform's client-credentials flow, through msal, and Graph's verification of the tokens."""

from __future__ import annotations

import time

import msal
import pytest
import requests
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import graph_error, graph_session
from ews_sandbox.graph import jws
from ews_sandbox.graph.identity import SIGNING_KEY

SCOPE = ["https://graph.microsoft.com/.default"]


def http_client(sandbox) -> requests.Session:
    session = requests.Session()
    session.trust_env = False      # else REQUESTS_CA_BUNDLE would override verify
    session.verify = sandbox.ca_path
    return session


def msal_app(sandbox, credential, app: str = "exchange-ews-demo", **options) -> msal.ConfidentialClientApplication:
    # msal looks authority aliases up at login.microsoftonline.com on some paths even when given another instance
    # discovery URL: only instance_discovery=False keeps it off the network.
    options.setdefault("instance_discovery", False)
    return msal.ConfidentialClientApplication(sandbox.apps[app].client_id, authority=sandbox.authority(app),
                                              client_credential=credential, http_client=http_client(sandbox), **options)


def lists_messages(sandbox, token: str) -> bool:
    return graph_session(sandbox, token=token).get(f"{sandbox.graph_url}/users/alice@sandbox.test/messages").ok


def test_msal_gets_a_token_with_a_client_secret(sandbox):
    result = msal_app(sandbox, sandbox.apps["exchange-ews-demo"].secrets[0],
                      instance_discovery=sandbox.instance_discovery_url).acquire_token_for_client(SCOPE)
    assert result["token_type"] == "Bearer" and result["expires_in"] > 3000, result
    assert lists_messages(sandbox, result["access_token"])
    claims = jws.parse(result["access_token"])[1]
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["roles"] == ["Mail.ReadWrite", "Mail.Send"] and claims["appidacr"] == "1"


@pytest.mark.parametrize("form", ["public_certificate", "thumbprint"])
def test_msal_gets_a_token_with_a_certificate(sandbox, form):
    certificate_path, key_path = sandbox.demo_certificate
    certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
    credential = {"private_key": key_path.read_text()}
    if form == "public_certificate":        # msal signs PS256 with x5t#S256
        credential["public_certificate"] = certificate_path.read_text()
    else:                                   # RS256 with the SHA-1 x5t
        credential["thumbprint"] = certificate.fingerprint(hashes.SHA1()).hex()
    result = msal_app(sandbox, credential).acquire_token_for_client(SCOPE)
    assert "access_token" in result, result
    assert jws.parse(result["access_token"])[1]["appidacr"] == "2"
    assert lists_messages(sandbox, result["access_token"])


def test_a_certificate_the_app_does_not_have_is_refused(sandbox):
    stranger = trustme.CA(key_type=trustme.KeyType.RSA).issue_cert("stranger.example", key_type=trustme.KeyType.RSA)
    credential = {"private_key": stranger.private_key_pem.bytes().decode(),
                  "public_certificate": stranger.cert_chain_pems[0].bytes().decode()}
    result = msal_app(sandbox, credential).acquire_token_for_client(SCOPE)
    assert (result["error"], result["error_codes"]) == ("invalid_client", [700027])


@pytest.mark.parametrize("app, credential, scope, error, code", [
    ("exchange-ews-demo", "wrong-secret", SCOPE, "invalid_client", 7000215),
    ("exchange-ews-demo", "demo-app-secret", ["Mail.Send"], "invalid_scope", 1002012),
])
def test_token_endpoint_refusals(sandbox, app, credential, scope, error, code):
    result = msal_app(sandbox, credential, app).acquire_token_for_client(scope)
    assert (result.get("error"), result.get("error_codes")) == (error, [code]), result


def test_an_unknown_tenant_fails_discovery(sandbox):
    with pytest.raises(ValueError, match="double check your tenant"):
        msal.ConfidentialClientApplication(sandbox.apps["exchange-ews-demo"].client_id,
                                           authority=f"{sandbox.authority_host}/00000000-0000-0000-0000-000000000000",
                                           client_credential="x", http_client=http_client(sandbox),
                                           instance_discovery=False)


def test_instance_discovery_knows_only_the_sandbox(sandbox):
    answer = http_client(sandbox).get(sandbox.instance_discovery_url, params={
        "authorization_endpoint": "https://login.example/tenant/oauth2/v2.0/authorize", "api-version": "1.0"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_instance"


def test_graph_refuses_missing_foreign_and_expired_tokens(clean_sandbox):
    sandbox = clean_sandbox
    url = f"{sandbox.graph_url}/users/alice@sandbox.test/messages"
    session = http_client(sandbox)
    answer = session.get(url)
    assert graph_error(answer) == (401, "InvalidAuthenticationToken", "Access token is empty.")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer ")
    key = serialization.load_pem_private_key((sandbox.data_dir / SIGNING_KEY).read_bytes(), password=None)
    claims = jws.parse(sandbox.graph_token())[1]
    foreign = jws.sign({"alg": "RS256", "typ": "JWT"}, dict(claims, aud="https://outlook.office.com"), key)
    assert graph_error(graph_session(sandbox, token=foreign).get(url))[2] == \
        "Access token validation failure. Invalid audience."
    forged = jws.sign({"alg": "RS256", "typ": "JWT"}, claims, rsa.generate_private_key(public_exponent=65537,
                                                                                        key_size=2048))
    assert graph_error(graph_session(sandbox, token=forged).get(url))[:2] == (401, "InvalidAuthenticationToken")
    sandbox.admin.set_graph_settings(token_lifetime_s=1)
    short_lived = graph_session(sandbox)
    time.sleep(1.1)
    assert graph_error(short_lived.get(url))[2] == "Lifetime validation failed, the token is expired."


def assertion(sandbox, **claims) -> str:
    certificate_path, key_path = sandbox.demo_certificate
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
    client_id, now = sandbox.apps["exchange-ews-demo"].client_id, time.time()
    header = {"alg": "PS256", "typ": "JWT", "x5t#S256": jws.b64url(certificate.fingerprint(hashes.SHA256()))}
    return jws.sign(header, {"aud": sandbox.token_url(), "iss": client_id, "sub": client_id, "jti": "1",
                             "nbf": now, "exp": now + 600, **claims}, key)


@pytest.mark.parametrize("form, status, code", [
    ({"client_id": "x"}, 400, 900144),
    ({"grant_type": "client_credentials", "client_id": "0e7c2d3a-5a1d-4b0c-8e57-0000000000ff",
      "client_secret": "s", "scope": SCOPE[0]}, 400, 700016),
    ({"grant_type": "client_credentials", "scope": SCOPE[0]}, 401, 7000218),
    ({"grant_type": "client_credentials", "scope": SCOPE[0], "client_assertion": "not.a.jwt"}, 401, 50027),
    ({"grant_type": "client_credentials", "scope": SCOPE[0], "client_assertion": {"aud": "https://elsewhere/token"}},
     401, 700023),
    ({"grant_type": "client_credentials", "scope": SCOPE[0], "client_assertion": {"exp": 1000}}, 401, 700024),
    ({"grant_type": "client_credentials", "scope": SCOPE[0], "client_assertion": {"iss": "someone"}}, 401, 700021),
])
def test_token_endpoint_errors(sandbox, form, status, code):
    form = dict(form)
    form.setdefault("client_id", sandbox.apps["exchange-ews-demo"].client_id)
    if "client_assertion" in form:
        form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        if isinstance(form["client_assertion"], dict):
            form["client_assertion"] = assertion(sandbox, **form["client_assertion"])
    answer = http_client(sandbox).post(sandbox.token_url(), data=form)
    assert (answer.status_code, answer.json()["error_codes"]) == (status, [code]), answer.text
    assert answer.json()["error_description"].startswith(f"AADSTS{code}: ")


def test_a_well_formed_assertion_gets_a_token(sandbox):
    answer = http_client(sandbox).post(sandbox.token_url(), data={
        "grant_type": "client_credentials", "scope": SCOPE[0], "client_id": sandbox.apps["exchange-ews-demo"].client_id,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion(sandbox)})
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
