# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyed messages over Microsoft Graph (GraphMessages) against the sandbox: the same logic as over EWS, the same
results; the ground truth is the delivery log and the MIME the sandbox kept."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import email
import threading

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import messages
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError, EwsError
from ansible_collections.exchange.ews.plugins.module_utils.graph_messages import GraphMessages
from ansible_collections.exchange.ews.tests.unit.utils.message_support import delivered, params
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import graph_client_for

ALICE, BOB, CAROL, TEAM = "alice@sandbox.test", "bob@sandbox.test", "carol@sandbox.test", "team@sandbox.test"
LOGO = b"\x89PNG\r\n\x1a\n a logo"


def report(**options):
    values = dict(
        key="weekly-19", subject="Weekly report 19", to=[BOB], cc=[CAROL], importance="high", body_type="html",
        body='<p>Numbers attached.</p><img src="cid:logo@example">',
        attachments=[
            {"name": "numbers.csv", "content": "week,sent\n19,42\n"},
            {"name": "logo.png", "content": base64.b64encode(LOGO).decode(), "encoding": "base64",
             "content_id": "logo@example"},
        ])
    values.update(options)
    return params(**values)


def run(sandbox, values, mailbox="alice", check_mode=False, state=None, diff=False):
    spec = messages.MessageSpec.from_params(values)
    with graph_client_for(sandbox, mailbox=mailbox) as client:
        keyed = messages.KeyedMessage(GraphMessages(client, spec.mailbox), spec, check_mode=check_mode, diff=diff,
                                      deadline=60)
        result = keyed.run(state or values["state"] or "sent")
    return result, keyed.warnings


def mime(admin, entry):
    return email.message_from_bytes(admin.delivery_mime(entry["seq"]))


def test_one_task_sends_once_and_a_rerun_finds_the_copy(sandbox, admin):
    first = run(sandbox, report())[0]
    assert (first["status"], first["changed"]) == ("sent", True)
    assert first["changed_fields"] == ["subject", "body", "to", "cc", "importance", "attachments"]
    again = run(sandbox, report())[0]
    assert (again["status"], again["changed"], again["changed_fields"]) == ("already_sent", False, [])
    assert again["internet_message_id"] == first["internet_message_id"]
    [entry] = delivered(admin, "Weekly report 19")
    message = mime(admin, entry)
    parts = {part.get_filename(): part for part in message.walk() if part.get_filename()}
    assert sorted(parts) == ["logo.png", "numbers.csv"]
    assert parts["logo.png"]["Content-ID"] == "<logo@example>"
    assert parts["numbers.csv"].get_payload(decode=True) == b"week,sent\n19,42\n"
    checked = run(sandbox, report(), check_mode=True)[0]
    assert checked["status"] == "already_sent"


@pytest.mark.parametrize("if_match", ["ignored", "honoured"])
def test_eight_concurrent_runs_deliver_one_message(sandbox, admin, if_match):
    """The election needs no compare-and-set: it orders drafts by creation time on the server's clock."""
    admin.set_graph_settings(if_match=if_match, batch_concurrency="queue")
    barrier = threading.Barrier(8)
    outcomes = [None] * 8

    def worker(index):
        barrier.wait()
        try:
            outcomes[index] = run(sandbox, report(key="concurrent-%s" % if_match, subject="Concurrent"))[0]
        except Exception as error:   # pylint: disable=broad-exception-caught
            outcomes[index] = error

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert sorted(o["status"] for o in outcomes) == ["already_sent"] * 7 + ["sent"]
    assert len(delivered(admin, "Concurrent")) == 1


def test_every_other_option_reaches_the_message(sandbox, admin):
    result = run(sandbox, params(key="options", subject="Options", body="Plain.", to=[BOB], bcc=["hidden@example.org"],
                                 reply_to=["desk@example.org"], sensitivity="confidential", categories=["Reports"],
                                 read_receipt=True, delivery_receipt=True, headers={"X-Campaign": "weekly-19"}))[0]
    assert result["status"] == "sent"
    [entry] = delivered(admin, "Options")
    assert sorted(entry["recipients"]) == [BOB, "hidden@example.org"]
    message = mime(admin, entry)
    assert (message["Reply-To"], message["Sensitivity"], message["X-Campaign"]) == (
        "desk@example.org", "Company-Confidential", "weekly-19")
    assert message["Disposition-Notification-To"] == ALICE and message["Return-Receipt-To"] == ALICE
    assert message["Bcc"] is None


def test_a_draft_is_kept_brought_to_content_and_deleted(sandbox, admin):
    values = report(key="draft", subject="Draft", body="<p>Later.</p>",
                    attachments=[{"name": "notes.txt", "content": "first"}])
    drafted = run(sandbox, values, state="draft")[0]
    unchanged = run(sandbox, values, state="draft")[0]
    assert (drafted["changed"], unchanged["changed"]) == (True, False)
    values["attachments"] = [{"name": "notes.txt", "content": "second"}]
    values["headers"] = {"X-Campaign": "q3"}
    redrafted = run(sandbox, values, state="draft", diff=True)[0]
    assert redrafted["changed_fields"] == ["headers", "attachments"] and redrafted["id"] == drafted["id"]
    assert redrafted["diff"]["after"]["attachments"] == ["notes.txt (text/plain, 6 bytes, new content)"]
    values["headers"] = {}
    assert run(sandbox, values, state="draft")[0]["changed_fields"] == ["headers"]
    assert run(sandbox, values, state="draft")[0]["changed"] is False
    deleted = run(sandbox, values, state="absent")[0]
    assert (deleted["status"], deleted["changed"]) == ("absent", True)
    assert run(sandbox, values, state="absent")[0]["changed"] is False
    assert delivered(admin, "Draft") == []


def test_deferred_delivery_is_held_and_counts_as_sent(sandbox, admin):
    values = params(key="later", subject="Later", body="Tomorrow.", to=[BOB], deliver_at="2999-01-01T00:00:00Z")
    assert run(sandbox, values)[0]["status"] == "sent"
    assert run(sandbox, values)[0]["status"] == "already_sent"
    assert [p["subject"] for p in admin.outbox()["pending"]] == ["Later"]


def test_a_deferred_time_dropped_from_a_draft_sends_at_once(sandbox, admin):
    values = params(key="undeferred", subject="Undeferred", body="Now.", to=[BOB], deliver_at="2999-01-01T00:00:00Z")
    run(sandbox, values, state="draft")
    values["deliver_at"] = ""
    assert run(sandbox, values)[0]["status"] == "sent"
    assert len(delivered(admin, "Undeferred")) == 1


def test_send_as_needs_the_right(sandbox, admin):
    with pytest.raises(EwsError) as denied:
        run(sandbox, params(key="as-alice", subject="As alice", body="x", to=[BOB], **{"from": ALICE}),
            mailbox="carol")
    assert denied.value.response_code == "ErrorSendAsDenied" and "Send As" in str(denied.value)
    assert str(denied.value).startswith("Graph SendMessage failed")
    result = run(sandbox, params(key="as-team", subject="As team", body="x", to=[BOB], **{"from": TEAM}),
                 mailbox="bob")[0]
    assert result["status"] == "sent"
    [entry] = delivered(admin, "As team")
    assert (entry["from"], entry["sender"]) == (TEAM, TEAM)


def test_attachments_over_one_request_go_up_one_by_one(sandbox, admin):
    files = [{"name": "part-%d.bin" % index, "content": base64.b64encode(b"%d" % index * 1500000).decode(),
              "encoding": "base64"} for index in range(3)]
    result = run(sandbox, params(key="big", subject="Big", body="x", to=[BOB], attachments=files,
                                 max_send_size_mb=20))[0]
    assert result["status"] == "sent"
    parts = [part for part in mime(admin, delivered(admin, "Big")[0]).walk() if part.get_filename()]
    assert [len(part.get_payload(decode=True)) for part in parts] == [1500000] * 3


def test_an_attachment_graph_cannot_take_in_one_request_is_refused_before_any_request(sandbox, admin):
    since = admin.requests()[-1]["seq"] if admin.requests() else 0
    files = [{"name": "huge.bin", "content": base64.b64encode(b"x" * (3 * 1024 * 1024)).decode(),
              "encoding": "base64"}]
    with pytest.raises(EwsConfigError) as refused:
        run(sandbox, params(key="huge", subject="Huge", body="x", to=[BOB], attachments=files))
    assert "upload session" in str(refused.value) and "attachments[0]" in str(refused.value)
    assert [e for e in admin.requests(since=since) if e["operation"] not in (None, "Token")] == []
