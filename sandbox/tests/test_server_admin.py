"""The /_sandbox admin endpoints and the SMTP relay to a smarthost."""

from __future__ import annotations

import socket
import ssl
import urllib.error
import urllib.request

import pytest
from aiosmtpd.controller import Controller
from lxml import etree

from conftest import envelope, non_loopback_address, post, session_for
from ews_sandbox import smtp_relay
from ews_sandbox.namespaces import M
from ews_sandbox.testing import Sandbox, SandboxError

FIND_DRAFTS = ('<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
               '<m:ParentFolderIds><t:DistinguishedFolderId Id="drafts"/></m:ParentFolderIds></m:FindItem>')


def send_item(item: dict) -> bytes:
    return envelope(f'<m:SendItem SaveItemToFolder="false"><m:ItemIds><t:ItemId Id="{item["id"]}" '
                    f'ChangeKey="{item["change_key"]}"/></m:ItemIds></m:SendItem>')


def response_class(response) -> str:
    return etree.fromstring(response.content).find(f".//{{{M}}}ResponseMessages/*").get("ResponseClass")


def test_seed_send_deliveries_and_reset(clean_sandbox):
    sandbox = clean_sandbox
    drafts = sandbox.admin.seed("alice@sandbox.test", count=3, subject="Seeded {n}", to=["bob@sandbox.test"])
    assert len(drafts) == 3 and all(d["id"] and d["change_key"] for d in drafts)
    session = session_for(sandbox)
    found = post(session, sandbox, envelope(FIND_DRAFTS), "FindItem")
    assert etree.fromstring(found.content).find(f".//{{{M}}}RootFolder").get("TotalItemsInView") == "3"

    response = post(session, sandbox, send_item(drafts[0]), "SendItem")
    assert response_class(response) == "Success", response.text
    sandbox.admin.wait_for_outbox()
    [delivery] = sandbox.admin.deliveries(since=0)
    assert delivery["route"] == "local" and delivery["recipients"] == ["bob@sandbox.test"]
    assert delivery["subject"] == "Seeded 1"
    assert sandbox.admin.deliveries(since=delivery["seq"]) == []

    log = sandbox.admin.requests(since=0)
    assert [e["operation"] for e in log if e["http_status"] == 200] == ["FindItem", "SendItem"]
    assert sandbox.admin.requests(since=log[-1]["seq"]) == []

    sandbox.admin.reset()
    assert sandbox.admin.deliveries() == [] and sandbox.admin.requests() == []
    found = post(session, sandbox, envelope(FIND_DRAFTS), "FindItem")
    assert etree.fromstring(found.content).find(f".//{{{M}}}RootFolder").get("TotalItemsInView") == "0"


def test_seed_checks_its_input(sandbox):
    with pytest.raises(SandboxError, match="mailbox"):
        sandbox.admin.seed("nobody@sandbox.test")
    with pytest.raises(SandboxError, match="count"):
        sandbox.admin.seed("alice@sandbox.test", count=0)
    with pytest.raises(SandboxError, match="colour"):
        sandbox.admin.seed("alice@sandbox.test", colour="red")


def test_quirks_toggle(sandbox):
    assert sandbox.admin.set_quirks(False) == {"delegate_quirks": False}
    assert sandbox.admin.set_quirks(True) == {"delegate_quirks": True}


def test_unknown_endpoint_and_method(sandbox):
    with pytest.raises(SandboxError, match="HTTP 404"):
        sandbox.admin._call("GET", "nothing")
    with pytest.raises(SandboxError, match="HTTP 405"):
        sandbox.admin._call("GET", "reset")


def test_admin_answers_on_loopback_only(tmp_path):
    address = non_loopback_address()
    if address is None:
        pytest.skip("no non-loopback interface")
    with Sandbox(data_dir=tmp_path, host="0.0.0.0", allow_remote=True, http=True) as sandbox:
        port = sandbox.url.split("/")[2].rsplit(":", 1)[1]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://{address}:{port}/_sandbox/health", timeout=10)
        assert refused.value.code == 403
        assert sandbox.admin.health() == {"ok": True}


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smarthost():
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())  # aiosmtpd 1.4 cannot use port 0
    controller.start()
    yield inbox, (controller.hostname, controller.port)
    controller.stop()


def test_relay(smarthost):
    inbox, address = smarthost
    smtp_relay.relay(address, "alice@sandbox.test", ["x@example.org"], b"Subject: hi\r\n\r\nbody\r\n")
    assert inbox.messages == [("alice@sandbox.test", ["x@example.org"], b"Subject: hi\r\n\r\nbody\r\n")]


def test_relay_to_a_dead_smarthost_raises():
    with pytest.raises(OSError):
        smtp_relay.relay(("127.0.0.1", _free_port()), "alice@sandbox.test", ["x@example.org"], b"\r\n")


def test_send_to_an_outside_recipient_goes_through_the_smarthost(smarthost, tmp_path):
    inbox, (host, port) = smarthost
    with Sandbox(data_dir=tmp_path, smarthost=f"{host}:{port}") as sandbox:
        [draft] = sandbox.admin.seed("alice@sandbox.test", subject="Outside", to=["someone@example.org"])
        response = post(session_for(sandbox), sandbox, send_item(draft), "SendItem")
        assert response_class(response) == "Success", response.text
        sandbox.admin.wait_for_outbox()
        [delivery] = sandbox.admin.deliveries()
        assert (delivery["route"], delivery["undelivered"]) == ("smtp", [])
    [(mail_from, rcpt, content)] = inbox.messages
    assert rcpt == ["someone@example.org"] and b"Subject: Outside" in content


def _admin_request(sandbox, method: str, path: str, headers: dict, body: bytes | None = None) -> int:
    request = urllib.request.Request(f"{sandbox.admin_url}/{path}", data=body, method=method, headers=headers)
    context = ssl.create_default_context(cafile=sandbox.ca_path)
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _drafts_left(sandbox) -> int:
    found = post(session_for(sandbox), sandbox, envelope(FIND_DRAFTS), "FindItem")
    return int(etree.fromstring(found.content).find(f".//{{{M}}}RootFolder").get("TotalItemsInView"))


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_post_a_browser_could_send_cross_origin_is_refused(clean_sandbox, content_type):
    # A page on any web site may POST these types to http(s)://127.0.0.1 without asking first (no CORS preflight).
    clean_sandbox.admin.seed("alice@sandbox.test")
    headers = {"Content-Type": content_type} if content_type else {}
    assert _admin_request(clean_sandbox, "POST", "reset", headers, b"{}" if content_type else None) == 415
    assert _drafts_left(clean_sandbox) == 1


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Host": "evil.example"},                 # DNS rebinding: a foreign name that resolves to 127.0.0.1
])
def test_requests_from_web_pages_are_refused(clean_sandbox, headers):
    clean_sandbox.admin.seed("alice@sandbox.test")
    headers = {"Content-Type": "application/json", **headers}
    assert _admin_request(clean_sandbox, "POST", "reset", headers, b"{}") == 403
    assert _admin_request(clean_sandbox, "GET", "deliveries", headers) == 403
    assert _drafts_left(clean_sandbox) == 1


def test_the_sandbox_own_origin_and_json_are_accepted(clean_sandbox):
    own = clean_sandbox.admin_url.rsplit("/_sandbox", 1)[0]
    headers = {"Content-Type": "application/json; charset=utf-8", "Origin": own}
    assert _admin_request(clean_sandbox, "POST", "reset", headers, b"{}") == 200
    assert _admin_request(clean_sandbox, "DELETE", "faults", {}) == 200     # browsers preflight any DELETE
