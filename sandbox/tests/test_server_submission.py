"""Asynchronous submission over HTTPS: the answer comes first, delivery later; the admin API shows and waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from lxml import etree

from conftest import envelope, post, session_for
from ews_sandbox.namespaces import M, T
from ews_sandbox.testing import PACKAGE_ROOT, Sandbox, SandboxError

ALICE = "alice@sandbox.test"
FIND_OUTBOX = ('<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>'
               '<t:FieldURI FieldURI="item:IsDraft"/></t:AdditionalProperties></m:ItemShape>'
               '<m:ParentFolderIds><t:DistinguishedFolderId Id="outbox"/></m:ParentFolderIds></m:FindItem>')


def send(sandbox, draft: dict) -> str:
    response = post(session_for(sandbox), sandbox, envelope(
        f'<m:SendItem SaveItemToFolder="true"><m:ItemIds><t:ItemId Id="{draft["id"]}" ChangeKey="{draft["change_key"]}"/>'
        '</m:ItemIds></m:SendItem>'), "SendItem")
    return etree.fromstring(response.content).findtext(f".//{{{M}}}ResponseCode")


@pytest.fixture
def delayed(clean_sandbox):
    """The session sandbox with a 1.5 s submission delay (back to 0 afterwards)."""
    clean_sandbox.admin.set_submission_delay(1500)
    yield clean_sandbox
    clean_sandbox.admin.set_submission_delay(0)
    clean_sandbox.admin.reset()


def test_the_answer_comes_before_delivery_and_the_admin_api_waits_for_it(delayed):
    [draft] = delayed.admin.seed(ALICE, to=["bob@sandbox.test"], subject="queued")
    assert send(delayed, draft) == "NoError"
    assert delayed.admin.deliveries() == []
    state = delayed.admin.outbox()
    assert state["delay_ms"] == 1500
    [pending] = state["pending"]
    assert (pending["subject"], pending["mailbox"], pending["sender"]) == ("queued", ALICE, ALICE)
    assert 0 < pending["due_in_ms"] <= 1500 and pending["saved_folder_id"]
    found = etree.fromstring(post(session_for(delayed), delayed, envelope(FIND_OUTBOX), "FindItem").content)
    [message] = found.iter(f"{{{T}}}Message")
    assert message.find(f"{{{T}}}ItemId").get("Id") == pending["item_id"]
    assert message.findtext(f"{{{T}}}IsDraft") == "false"

    delayed.admin.wait_for_outbox(timeout=10)
    assert [d["subject"] for d in delayed.admin.deliveries()] == ["queued"]
    assert delayed.admin.outbox()["pending"] == []


def test_waiting_too_short_is_an_error(delayed):
    delayed.admin.set_submission_delay(60_000)
    [draft] = delayed.admin.seed(ALICE, to=["bob@sandbox.test"])
    assert send(delayed, draft) == "NoError"
    with pytest.raises(SandboxError, match="409.*1 submitted message"):
        delayed.admin.wait_for_outbox(timeout=0.1)


def test_pending_submissions_survive_a_restart_and_are_delivered_once(tmp_path):
    with Sandbox(data_dir=tmp_path, submission_delay_ms=1500) as first:
        [draft] = first.admin.seed(ALICE, to=["bob@sandbox.test"], subject="across a restart")
        assert send(first, draft) == "NoError"
        assert len(first.admin.outbox()["pending"]) == 1 and first.admin.deliveries() == []
    with Sandbox(data_dir=tmp_path) as second:
        second.admin.wait_for_outbox(timeout=10)
        assert [d["subject"] for d in second.admin.deliveries()] == ["across a restart"]


def test_the_outbox_command(delayed):
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), EWS_CA_PATH=delayed.ca_path)
    command = [sys.executable, "-m", "ews_sandbox", "outbox", "--admin-url", delayed.admin_url]
    result = subprocess.run(command + ["--delay-ms", "250"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"delay_ms": 250, "pending": []}
    [draft] = delayed.admin.seed(ALICE, to=["bob@sandbox.test"])
    assert send(delayed, draft) == "NoError"
    result = subprocess.run(command + ["--wait", "10"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pending"] == [] and len(delayed.admin.deliveries()) == 1
