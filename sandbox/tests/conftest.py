"""Fixtures: one sandbox server (subprocess, HTTPS, demo users) for the whole session, and EWS request helpers."""

from __future__ import annotations

import socket

import pytest
import requests
from lxml import etree
from requests_ntlm import HttpNtlmAuth

from ews_sandbox.namespaces import M, SOAP, T, qm, qt
from ews_sandbox.testing import Sandbox

ERRORS_NS = "http://schemas.microsoft.com/exchange/services/2006/errors"


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox() as running:
        print(f"\nsandbox started in {running.startup_seconds:.2f} s")
        yield running


@pytest.fixture
def clean_sandbox(sandbox):
    """The session sandbox with no pending faults and empty mailboxes and logs."""
    sandbox.admin.reset()
    yield sandbox
    sandbox.admin.clear_faults()


def session_for(sandbox: Sandbox, user: str | None = "alice", login: str | None = None,
                password: str | None = None) -> requests.Session:
    """A requests session trusting the sandbox CA, authenticating with NTLM as demo ``user``
    (``login`` and ``password`` override the user's own; ``user=None`` gives no authentication).

    trust_env is off: with REQUESTS_CA_BUNDLE set, requests would otherwise
    ignore ``session.verify``.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = sandbox.ca_path
    if user is not None:
        session.auth = HttpNtlmAuth(login or user, password if password is not None else sandbox.users[user].password)
    return session


def envelope(body: str, header: str = '<t:RequestServerVersion Version="Exchange2016"/>',
             messages_ns: str = M) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<s:Envelope xmlns:s="{SOAP}" xmlns:m="{messages_ns}" xmlns:t="{T}">\n'
        f"<s:Header>{header}</s:Header>\n"
        f"<s:Body>{body}</s:Body>\n"
        "</s:Envelope>"
    ).encode()


GET_DRAFTS = ('<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>'
              '<m:FolderIds><t:DistinguishedFolderId Id="drafts"/></m:FolderIds></m:GetFolder>')


def post(session: requests.Session, sandbox: Sandbox, data: bytes, operation: str = "GetFolder",
         stream: bool = False) -> requests.Response:
    return session.post(sandbox.url, data=data, stream=stream, headers={
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f'"{M}/{operation}"',
    })


def call(sandbox: Sandbox, operation: str, body: str, user: str = "alice") -> list[tuple[str, str, etree._Element]]:
    """(ResponseClass, ResponseCode, element) of each response message of ``operation``, sent as ``user``."""
    response = post(session_for(sandbox, user), sandbox, envelope(body), operation)
    assert response.status_code == 200, response.text
    messages = etree.fromstring(response.content).find(".//" + qm("ResponseMessages"))
    return [(m.get("ResponseClass"), m.findtext(qm("ResponseCode")), m) for m in messages]


def find_items(sandbox: Sandbox, folder: str, properties: str = "", restriction: str = "",
               user: str = "alice") -> tuple[str, list[etree._Element]]:
    """FindItem in distinguished ``folder`` (IdOnly plus ``properties``, t:FieldURI elements; ``restriction`` a search
    expression): (ResponseCode, the t:Message elements found)."""
    shape = "<t:AdditionalProperties>%s</t:AdditionalProperties>" % properties if properties else ""
    [(_, code, message)] = call(sandbox, "FindItem", (
        '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>%s</m:ItemShape>%s'
        '<m:ParentFolderIds><t:DistinguishedFolderId Id="%s"/></m:ParentFolderIds></m:FindItem>')
        % (shape, "<m:Restriction>%s</m:Restriction>" % restriction if restriction else "", folder), user)
    return code, list(message.iter(qt("Message")))


def fault_of(response: requests.Response) -> dict:
    """faultcode, faultstring, detail ResponseCode/Message and MessageXml children of a SOAP fault."""
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault is not None, response.text
    message_xml = fault.find(f"detail/{{{T}}}MessageXml")
    return {
        "faultcode": fault.findtext("faultcode"),
        "faultstring": fault.findtext("faultstring"),
        "code": fault.findtext(f"detail/{{{ERRORS_NS}}}ResponseCode"),
        "message": fault.findtext(f"detail/{{{ERRORS_NS}}}Message"),
        "message_xml": {etree.QName(c).localname if c.get("Name") is None else c.get("Name"): c.text
                        for c in (message_xml if message_xml is not None else [])},
        "server_version": root.find(f"{{{SOAP}}}Header/{{{T}}}ServerVersionInfo"),
    }


def non_loopback_address() -> str | None:
    """This machine's IPv4 address on the network, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent; this only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


MARKER_ID = "String {2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1} Name ExchangeEwsSendMarker"
STATE_ID = "String {2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1} Name ExchangeEwsSendState"


def graph_session(sandbox: Sandbox, app: str = "exchange-ews-demo", token: str | None = None) -> requests.Session:
    """A requests session trusting the sandbox CA and sending a bearer token of ``app`` (or ``token``)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = sandbox.ca_path
    session.headers["Authorization"] = "Bearer " + (token if token is not None else sandbox.graph_token(app))
    return session


def graph_error(response: requests.Response) -> tuple[int, str, str]:
    """(status, error code, message) of a Graph error answer."""
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]
