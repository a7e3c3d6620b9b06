"""The server embedded in the test process, where an operation can be replaced to misbehave."""

from __future__ import annotations

import logging
import threading

import pytest
import requests

from conftest import GET_DRAFTS, envelope, fault_of
from ews_sandbox import operations
from ews_sandbox.cli import build_app, start_facts
from ews_sandbox.errors import ItemError
from ews_sandbox.http_server import EwsServer


@pytest.fixture
def embedded(tmp_path):
    server = EwsServer(("127.0.0.1", 0), build_app(tmp_path))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    session = requests.Session()
    session.trust_env = False
    facts = start_facts(server)
    session.verify = facts["EWS_CA_PATH"]
    session.auth = ("alice", server.app.directory.by_login("alice").password)
    yield server, session, facts["EWS_URL"]
    server.shutdown()
    server.server_close()


def test_an_operation_crash_is_an_internal_server_error_fault(embedded, monkeypatch, caplog):
    server, session, url = embedded

    def crash(ctx, request):
        raise RuntimeError("boom")

    monkeypatch.setitem(operations.OPERATIONS, "GetFolder", crash)
    with caplog.at_level(logging.ERROR, logger="ews_sandbox.http_server"):
        response = session.post(url, data=envelope(GET_DRAFTS))
    assert response.status_code == 500
    fault = fault_of(response)
    assert (fault["faultcode"], fault["code"]) == ("a:ErrorInternalServerError", "ErrorInternalServerError")
    assert "boom" not in response.text
    assert "GetFolder failed" in caplog.text and "boom" in caplog.text
    assert server.app.requests.since(0)[-1]["http_status"] == 500
    monkeypatch.undo()
    assert session.post(url, data=envelope(GET_DRAFTS)).status_code == 200  # the connection survives


def test_an_escaped_item_error_becomes_a_fault_with_its_code(embedded, monkeypatch):
    _, session, url = embedded

    def refuse(ctx, request):
        raise ItemError("ErrorAccessDenied", "Access is denied. Check credentials and try again.")

    monkeypatch.setitem(operations.OPERATIONS, "GetFolder", refuse)
    assert fault_of(session.post(url, data=envelope(GET_DRAFTS)))["code"] == "ErrorAccessDenied"


def test_request_context_is_complete(embedded, monkeypatch):
    server, session, url = embedded
    seen = {}

    def inspect(ctx, request):
        seen.update(user=ctx.user.login, mailbox=ctx.mailbox, version=ctx.server_version, culture=ctx.culture,
                    store=ctx.store, delivery=ctx.delivery, directory=ctx.directory)
        raise ItemError("ErrorInvalidRequest", "stop here")

    monkeypatch.setitem(operations.OPERATIONS, "GetFolder", inspect)
    header = '<t:RequestServerVersion Version="Exchange2013_SP1"/><t:MailboxCulture>de-DE</t:MailboxCulture>'
    session.post(url, data=envelope(GET_DRAFTS, header=header))
    assert seen == {"user": "alice", "mailbox": "alice@sandbox.test", "version": "Exchange2013_SP1", "culture": "de-DE",
                    "store": server.app.store, "delivery": server.app.delivery, "directory": server.app.directory}
