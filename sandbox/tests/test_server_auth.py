"""Authentication over real HTTPS: NTLM (with channel bindings), Basic, Bearer, IIS-style 401s, keep-alive."""

from __future__ import annotations

import base64
import hashlib
import http.client
import ssl

import pytest
import requests
import spnego
from spnego.channel_bindings import GssChannelBindings

from conftest import GET_DRAFTS, envelope, post, session_for
from ews_sandbox.testing import Sandbox


def test_ntlm_over_https_verified_against_the_sandbox_ca(sandbox):
    response = post(session_for(sandbox, "alice"), sandbox, envelope(GET_DRAFTS))
    assert response.status_code == 200, response.text
    assert b"GetFolderResponse" in response.content
    entry = sandbox.admin.requests()[-1]
    assert (entry["operation"], entry["user"], entry["mailbox"]) == ("GetFolder", "alice", "alice@sandbox.test")


@pytest.mark.parametrize("login", ["ALICE", "SANDBOX\\alice", "sandbox\\Alice", "sandbox.test\\alice",
                                   "alice@sandbox.test", "Alice@SANDBOX.TEST"])
def test_ntlm_login_spellings(sandbox, login):
    response = post(session_for(sandbox, "alice", login=login), sandbox, envelope(GET_DRAFTS))
    assert response.status_code == 200, response.text


def test_ntlm_login_in_the_netbios_domain_of_the_smtp_domain(tmp_path):
    users = tmp_path / "users.yml"
    users.write_text("users:\n  - {login: svc-mailer, password: Passw0rd-svc, smtp: svc-mailer@example.com}\n")
    with Sandbox(users_file=users) as example_sandbox:
        session = session_for(example_sandbox, "svc-mailer", login="EXAMPLE\\svc-mailer")
        response = post(session, example_sandbox, envelope(GET_DRAFTS))
        assert response.status_code == 200, response.text
        assert example_sandbox.admin.requests()[-1]["mailbox"] == "svc-mailer@example.com"


def test_wrong_password_gets_401_with_iis_challenges(sandbox):
    response = post(session_for(sandbox, "alice", password="wrong"), sandbox, envelope(GET_DRAFTS))
    assert response.status_code == 401
    offered = response.raw.headers.getlist("WWW-Authenticate")
    assert offered[:3] == ["Negotiate", "NTLM", 'Basic realm="127.0.0.1"']
    assert offered[3].startswith("Bearer")


def test_no_credentials_gets_401(sandbox):
    response = post(session_for(sandbox, None), sandbox, envelope(GET_DRAFTS))
    assert response.status_code == 401
    assert "NTLM" in response.raw.headers.getlist("WWW-Authenticate")


def test_keep_alive_one_handshake_for_many_requests(sandbox):
    session = session_for(sandbox, "bob")
    before = sandbox.admin.requests()[-1]["seq"] if sandbox.admin.requests() else 0
    for _ in range(5):
        assert post(session, sandbox, envelope(GET_DRAFTS)).status_code == 200
    statuses = [e["http_status"] for e in sandbox.admin.requests(since=before)]
    # requests-ntlm: the first request is refused, then Negotiate/Challenge, then every request passes directly
    assert statuses == [401, 401, 200, 200, 200, 200, 200]


def test_basic(sandbox):
    session = session_for(sandbox, None)
    session.auth = ("carol", sandbox.users["carol"].password)
    assert post(session, sandbox, envelope(GET_DRAFTS)).status_code == 200
    session.auth = ("carol", "nope")
    assert post(session, sandbox, envelope(GET_DRAFTS)).status_code == 401


def test_bearer(sandbox):
    session = session_for(sandbox, None)
    ok = session.post(sandbox.url, data=envelope(GET_DRAFTS), headers={"Authorization": "Bearer alice-token"})
    assert ok.status_code == 200
    assert sandbox.admin.requests()[-1]["user"] == "alice"
    refused = session.post(sandbox.url, data=envelope(GET_DRAFTS), headers={"Authorization": "Bearer forged"})
    assert refused.status_code == 401
    assert any('error="invalid_token"' in v for v in refused.raw.headers.getlist("WWW-Authenticate"))


def _raw_handshake(sandbox, application_data: bytes | None, protocol: str = "ntlm") -> int:
    """Run an NTLM (raw, or SPNEGO-wrapped with protocol="negotiate") handshake by hand with the given
    channel-binding data; return the final HTTP status."""
    context = ssl.create_default_context(cafile=sandbox.ca_path)
    host, port = sandbox.url.split("/")[2].rsplit(":", 1)
    connection = http.client.HTTPSConnection(host, int(port), context=context)
    bindings = GssChannelBindings(application_data=application_data) if application_data is not None else None
    client = spnego.client("alice", sandbox.users["alice"].password, protocol=protocol, channel_bindings=bindings,
                           options=spnego.NegotiateOptions.use_ntlm)
    scheme = "NTLM" if protocol == "ntlm" else "Negotiate"
    token = client.step()
    try:
        while True:
            connection.request("POST", "/EWS/Exchange.asmx", body=envelope(GET_DRAFTS),
                               headers={"Authorization": f"{scheme} {base64.b64encode(token).decode()}"})
            response = connection.getresponse()
            response.read()
            challenge = response.getheader("WWW-Authenticate", "")
            if response.status != 401 or not challenge.startswith(scheme + " "):
                return response.status
            token = client.step(base64.b64decode(challenge.split(" ", 1)[1]))
    finally:
        connection.close()


def _server_binding_data(sandbox) -> bytes:
    leaf_pem = (sandbox.data_dir / "server.pem").read_text().split("-----END CERTIFICATE-----")[0]
    der = ssl.PEM_cert_to_DER_cert(leaf_pem + "-----END CERTIFICATE-----\n")
    return b"tls-server-end-point:" + hashlib.sha256(der).digest()


@pytest.mark.parametrize("protocol", ["ntlm", "negotiate"])
def test_channel_bindings_are_verified(sandbox, protocol):
    assert _raw_handshake(sandbox, _server_binding_data(sandbox), protocol) == 200
    assert _raw_handshake(sandbox, b"tls-server-end-point:" + b"\x00" * 32, protocol) == 401
    # A client without channel bindings is accepted, as IIS does with Extended Protection "Accept"
    assert _raw_handshake(sandbox, None, protocol) == 200


def test_plain_requests_refuse_an_untrusted_server(sandbox):
    session = requests.Session()
    session.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        session.post(sandbox.url, data=envelope(GET_DRAFTS), verify=True)
