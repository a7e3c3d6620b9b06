"""Fault injection through the admin endpoint and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests
from lxml import etree

from conftest import GET_DRAFTS, envelope, fault_of, post, session_for
from ews_sandbox.namespaces import M, T
from ews_sandbox.testing import PACKAGE_ROOT, SandboxError

CREATE_DRAFT = ('<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"/>'
                '</m:SavedItemFolderId><m:Items><t:Message><t:Subject>dropped answer</t:Subject></t:Message></m:Items>'
                '</m:CreateItem>')
FIND_DRAFTS = ('<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
               '<m:ParentFolderIds><t:DistinguishedFolderId Id="drafts"/></m:ParentFolderIds></m:FindItem>')


def drafts_count(session, sandbox) -> int:
    response = post(session, sandbox, envelope(FIND_DRAFTS), "FindItem")
    assert response.status_code == 200, response.text
    return int(etree.fromstring(response.content).find(f".//{{{M}}}RootFolder").get("TotalItemsInView"))


def test_server_busy_has_back_off_milliseconds(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.admin.add_fault("server_busy", operation="GetFolder", back_off_ms=1234)
    session = session_for(sandbox)
    response = post(session, sandbox, envelope(GET_DRAFTS))
    assert response.status_code == 500
    fault = fault_of(response)
    assert fault["faultcode"] == "a:ErrorServerBusy"
    assert fault["code"] == "ErrorServerBusy"
    assert fault["message_xml"] == {"BackOffMilliseconds": "1234"}
    assert post(session, sandbox, envelope(GET_DRAFTS)).status_code == 200  # times=1: consumed


def test_operation_filter_and_times(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.admin.add_fault("soap_fault", operation="FindItem", times=2, code="ErrorMailboxStoreUnavailable")
    session = session_for(sandbox)
    assert post(session, sandbox, envelope(GET_DRAFTS)).status_code == 200  # other operation: untouched
    for _ in range(2):
        response = post(session, sandbox, envelope(FIND_DRAFTS), "FindItem")
        assert fault_of(response)["code"] == "ErrorMailboxStoreUnavailable"
    assert post(session, sandbox, envelope(FIND_DRAFTS), "FindItem").status_code == 200
    assert sandbox.admin.faults() == []


def test_http_503_with_retry_after(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.admin.add_fault("http_503", retry_after=7)
    response = post(session_for(sandbox), sandbox, envelope(GET_DRAFTS))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.headers["Content-Type"].startswith("text/html")
    assert sandbox.admin.requests()[-1]["http_status"] == 503


def test_html_error_page(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.admin.add_fault("html_error")
    response = post(session_for(sandbox), sandbox, envelope(GET_DRAFTS))
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")
    assert "500 - Internal server error." in response.text


def test_delay(clean_sandbox):
    sandbox = clean_sandbox
    session = session_for(sandbox)
    post(session, sandbox, envelope(GET_DRAFTS))  # authenticate first, so only the delayed request is timed
    sandbox.admin.add_fault("delay", delay_ms=300)
    started = time.perf_counter()
    assert post(session, sandbox, envelope(GET_DRAFTS)).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_drop_after_commit_runs_the_operation_then_closes(clean_sandbox):
    sandbox = clean_sandbox
    session = session_for(sandbox)
    assert drafts_count(session, sandbox) == 0
    sandbox.admin.add_fault("drop_after_commit", operation="CreateItem")
    with pytest.raises(requests.exceptions.ConnectionError):
        post(session, sandbox, envelope(CREATE_DRAFT), "CreateItem")
    assert sandbox.admin.requests()[-1]["http_status"] == 0
    assert drafts_count(session_for(sandbox), sandbox) == 1


def test_bad_fault_is_refused(sandbox):
    with pytest.raises(SandboxError, match="kind"):
        sandbox.admin.add_fault("meteor_strike")
    with pytest.raises(SandboxError, match="delay_ms"):
        sandbox.admin.add_fault("delay", delay_ms=-1)


def test_fault_cli(clean_sandbox):
    sandbox = clean_sandbox
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), EWS_CA_PATH=sandbox.ca_path)
    added = subprocess.run([sys.executable, "-m", "ews_sandbox", "fault", "add", "--kind", "server_busy",
                            "--operation", "SendItem", "--times", "3", "--admin-url", sandbox.admin_url],
                           env=env, capture_output=True, text=True, timeout=30)
    assert added.returncode == 0, added.stderr
    assert sandbox.admin.faults()[0]["times"] == 3
    cleared = subprocess.run([sys.executable, "-m", "ews_sandbox", "fault", "clear", "--admin-url", sandbox.admin_url],
                             env=env, capture_output=True, text=True, timeout=30)
    assert cleared.returncode == 0, cleared.stderr
    assert sandbox.admin.faults() == []
    shown = subprocess.run([sys.executable, "-m", "ews_sandbox", "log", "--admin-url", sandbox.admin_url],
                           env=env, capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr


@pytest.mark.parametrize("kind, status, marker", [("http_502_after_commit", 502, "502"),
                                                  ("http_504_after_commit", 504, "504")])
def test_gateway_errors_after_commit(clean_sandbox, kind, status, marker):
    sandbox = clean_sandbox
    session = session_for(sandbox)
    assert drafts_count(session, sandbox) == 0
    sandbox.admin.add_fault(kind, operation="CreateItem", delay_ms=200)
    started = time.perf_counter()
    response = post(session, sandbox, envelope(CREATE_DRAFT), "CreateItem")
    assert time.perf_counter() - started >= 0.2          # the gateway gave up waiting, then answered
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert marker in response.text and "Envelope" not in response.text
    assert sandbox.admin.requests()[-1]["http_status"] == status
    assert drafts_count(session, sandbox) == 1           # ...but the operation ran and committed


def test_a_200_cut_short_after_commit(clean_sandbox):
    sandbox = clean_sandbox
    session = session_for(sandbox)
    assert drafts_count(session, sandbox) == 0
    sandbox.admin.add_fault("truncated_after_commit", operation="CreateItem", body_bytes=120)
    response = post(session, sandbox, envelope(CREATE_DRAFT), "CreateItem", stream=True)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) > 120
    with pytest.raises(requests.exceptions.ChunkedEncodingError):   # requests' name for an IncompleteRead
        response.content
    assert sandbox.admin.requests()[-1]["http_status"] == 200
    assert drafts_count(session_for(sandbox), sandbox) == 1


def test_a_cut_body_is_half_the_answer_by_default(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.admin.add_fault("truncated_after_commit", operation="GetFolder")
    session = session_for(sandbox)
    response = post(session, sandbox, envelope(GET_DRAFTS), stream=True)
    expected = int(response.headers["Content-Length"])
    received = b""
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for piece in response.iter_content(1):
            received += piece
    assert len(received) == expected // 2


def test_new_fault_kinds_from_the_cli(clean_sandbox):
    sandbox = clean_sandbox
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), EWS_CA_PATH=sandbox.ca_path)
    added = subprocess.run([sys.executable, "-m", "ews_sandbox", "fault", "add", "--kind", "truncated_after_commit",
                            "--body-bytes", "10", "--admin-url", sandbox.admin_url],
                           env=env, capture_output=True, text=True, timeout=30)
    assert added.returncode == 0, added.stderr
    assert sandbox.admin.faults()[0]["body_bytes"] == 10


def _messages(response) -> list[tuple[str, str]]:
    root = etree.fromstring(response.content)
    return [(m.get("ResponseClass"), m.findtext(f"{{{M}}}ResponseCode"))
            for m in root.find(f".//{{{M}}}ResponseMessages")]


def test_an_item_error_stops_the_rest_of_the_batch(clean_sandbox):
    sandbox = clean_sandbox
    drafts = sandbox.admin.seed("alice@sandbox.test", count=4, to=["bob@sandbox.test"], subject="batch {n}")
    sandbox.admin.add_fault("item_error", operation="SendItem", code="ErrorQuotaExceeded", position=2)
    ids = "".join(f'<t:ItemId Id="{d["id"]}" ChangeKey="{d["change_key"]}"/>' for d in drafts)
    session = session_for(sandbox)
    response = post(session, sandbox, envelope(f'<m:SendItem SaveItemToFolder="true"><m:ItemIds>{ids}</m:ItemIds>'
                                               '</m:SendItem>'), "SendItem")
    assert _messages(response) == [("Success", "NoError"), ("Error", "ErrorQuotaExceeded"),
                                   ("Warning", "ErrorBatchProcessingStopped"), ("Warning", "ErrorBatchProcessingStopped")]
    sandbox.admin.wait_for_outbox()
    assert [d["subject"] for d in sandbox.admin.deliveries()] == ["batch 1"]
    # The failed item and the ones after it were not processed: still drafts, with the same ChangeKeys.
    response = post(session, sandbox, envelope(f'<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
                                               f'<m:ItemIds>{ids}</m:ItemIds></m:GetItem>'), "GetItem")
    assert [code for _, code in _messages(response)] == ["ErrorItemNotFound", "NoError", "NoError", "NoError"]
    keys = [e.get("ChangeKey") for e in etree.fromstring(response.content).iter(f"{{{T}}}ItemId")]
    assert keys == [d["change_key"] for d in drafts[1:]]


def test_item_error_from_the_cli(clean_sandbox):
    sandbox = clean_sandbox
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), EWS_CA_PATH=sandbox.ca_path)
    added = subprocess.run([sys.executable, "-m", "ews_sandbox", "fault", "add", "--kind", "item_error", "--operation",
                            "GetItem", "--code", "ErrorMailboxStoreUnavailable", "--position", "3",
                            "--admin-url", sandbox.admin_url], env=env, capture_output=True, text=True, timeout=30)
    assert added.returncode == 0, added.stderr
    [fault] = sandbox.admin.faults()
    assert (fault["kind"], fault["code"], fault["position"]) == ("item_error", "ErrorMailboxStoreUnavailable", 3)
