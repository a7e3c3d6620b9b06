# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exactly-once protocol over Microsoft Graph (GraphChannel) against the sandbox: real HTTPS, tokens
from its identity platform through msal, JSON batching, its faults and both readings of If-Match.

docs/exactly-once.md, "Graph", says what these show: never twice and never lost hold on Graph; a status
depends on what the backend's writes prove, and where they prove less the status says "may have been sent".
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import errors, properties
from ansible_collections.exchange.ews.plugins.module_utils.ews_channel import EwsChannel
from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import ExactlyOnceSender, ItemRef
from ansible_collections.exchange.ews.plugins.module_utils.graph_channel import GraphChannel
from ansible_collections.exchange.ews.plugins.module_utils.retry import RetryPolicy
from ansible_collections.exchange.ews.plugins.module_utils.validation import rest_form
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import client_for, edit_as_user, graph_client_for

ALICE = "alice@sandbox.test"
BOTH_READINGS = pytest.mark.parametrize("if_match", ["ignored", "honoured"])


def seed(admin, count, subject="graph {n}"):
    """Drafts in alice's Drafts, as ``{id, change_key}`` with Graph's ids."""
    return [{"id": rest_form(d["id"]), "change_key": d["change_key"]}
            for d in admin.seed(ALICE, count=count, subject=subject, to=["carol@sandbox.test"])]


def graph_client(sandbox, **options):
    return graph_client_for(sandbox, retry_policy=RetryPolicy(retries=5, timeout=20, max_delay=2), **options)


def send(sandbox, entries, channel_options=None, **options):
    """One run of the protocol over Graph; (results, sender, client)."""
    options.setdefault("poll_interval", 0.1)
    options.setdefault("deadline", 60)
    with graph_client(sandbox) as client:
        sender = ExactlyOnceSender(GraphChannel(client, **(channel_options or {})), **options)
        results = sender.send([ItemRef.from_raw(entry, index) for index, entry in enumerate(entries)])
    return results, sender, client


def statuses(results):
    return [result["status"] for result in results]


def delivered(admin):
    admin.wait_for_outbox(30)
    return admin.deliveries()


@BOTH_READINGS
def test_drafts_are_sent_once_and_a_rerun_finds_them_sent(sandbox, admin, if_match):
    admin.set_graph_settings(if_match=if_match)
    drafts = seed(admin, 3)
    since = admin.requests()[-1]["seq"] if admin.requests() else 0
    results, _sender, client = send(sandbox, [d["id"] for d in drafts])
    assert statuses(results) == ["sent"] * 3
    assert client.if_match_honoured is (if_match == "honoured")   # learned from the probe, which writes nothing
    operations = [entry["operation"] for entry in admin.requests(since=since) if entry["operation"] != "Token"]
    # read (+ the probe), stamp, the ChangeKeys just before the send, send: each one $batch for the batch
    assert operations == ["Batch"] * 4
    assert len(delivered(admin)) == 3
    again, _sender, _client = send(sandbox, [d["id"] for d in drafts])
    assert statuses(again) == ["already_sent"] * 3
    assert len(delivered(admin)) == 3


@BOTH_READINGS
def test_lookup_entries_skip_the_read_only_where_the_stamp_is_a_compare_and_set(sandbox, admin, if_match):
    admin.set_graph_settings(if_match=if_match)
    drafts = seed(admin, 2)
    entries = [dict(d, is_draft=True, send_state=None) for d in drafts]
    with graph_client(sandbox) as client:
        sender = ExactlyOnceSender(GraphChannel(client), poll_interval=0.1, deadline=60)
        sender.send([ItemRef.from_raw(entry, 0) for entry in entries[:1]])      # learns the reading
        since = admin.requests()[-1]["seq"]
        results = sender.send([ItemRef.from_raw(entries[1], 0)])
    assert statuses(results) == ["sent"]
    batches = [e for e in admin.requests(since=since) if e["operation"] == "Batch"]
    # read, stamp, the ChangeKeys before the send, send; the read skipped where the stamp is a compare-and-set
    assert len(batches) == (4 if if_match == "ignored" else 3)


@BOTH_READINGS
def test_a_lost_answer_to_the_send(sandbox, admin, if_match):
    """The send went out, its answer did not come back. With compare-and-set stamps the copy under this run's
    stamp proves this run's send; without, Graph's send (which checks no ChangeKey) leaves it unprovable."""
    admin.set_graph_settings(if_match=if_match)
    drafts = seed(admin, 2)
    admin.add_graph_fault("drop_after_commit", operation="SendMessage")
    results, sender, _client = send(sandbox, [d["id"] for d in drafts])
    assert len(delivered(admin)) == 2
    if if_match == "honoured":
        assert statuses(results) == ["sent", "sent"]
    else:
        assert statuses(results) == ["failed", "failed"]
        assert all(r["response_code"] == "EwsResponseLost" and "may have gone out" in r["message_text"]
                   for r in results)
        assert sender.may_have_sent
    again, _sender, _client = send(sandbox, [d["id"] for d in drafts])
    assert statuses(again) == ["already_sent"] * 2 and len(delivered(admin)) == 2


def test_a_conflict_on_the_stamp_sends_it_back_to_the_read(sandbox, admin):
    admin.set_graph_settings(if_match="honoured")
    drafts = seed(admin, 1)
    admin.add_graph_fault("graph_error", operation="UpdateMessage", status=412, code="ErrorIrresolvableConflict")
    results, _sender, _client = send(sandbox, [d["id"] for d in drafts])
    assert statuses(results) == ["sent"] and len(delivered(admin)) == 1


@BOTH_READINGS
def test_a_pinned_draft_edited_before_the_run_is_not_sent(sandbox, admin, if_match):
    admin.set_graph_settings(if_match=if_match)
    drafts = seed(admin, 1)
    edit_as_user(sandbox, drafts[0]["id"].replace("-", "+").replace("_", "/"))
    results, _sender, _client = send(sandbox, drafts)
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "ErrorStaleObject"
    assert delivered(admin) == []


class EditingChannel(GraphChannel):
    """A user's edit lands between this run's stamp and its send (a timing the sandbox cannot be asked for)."""

    def __init__(self, client, sandbox, **options):
        super(EditingChannel, self).__init__(client, **options)
        self.sandbox = sandbox
        self.edited = False

    def send(self, refs):
        if not self.edited:
            self.edited = True
            for identifier, _change_key in refs:
                edit_as_user(self.sandbox, identifier.replace("-", "+").replace("_", "/"))
        return super(EditingChannel, self).send(refs)


def test_an_edit_after_the_stamp_is_caught_by_the_read_before_the_send(sandbox, admin):
    drafts = seed(admin, 1)
    with graph_client(sandbox) as client:
        sender = ExactlyOnceSender(EditingChannel(client, sandbox), poll_interval=0.1, deadline=60)
        results = sender.send([ItemRef.from_raw(drafts[0], 0)])
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "ErrorStaleObject"
    assert delivered(admin) == []


def test_throttled_requests_of_a_batch_go_again_in_batches_the_mailbox_takes(sandbox, admin):
    drafts = seed(admin, 25)
    results, sender, client = send(sandbox, [d["id"] for d in drafts])
    assert statuses(results) == ["sent"] * 25 and len(delivered(admin)) == 25
    assert client.batch_width == 4                 # 20 at once met the four-requests limit
    assert sender.waited_for_throttling > 0        # Retry-After was honoured


def test_without_a_copy_a_rerun_reports_missing(sandbox, admin):
    drafts = seed(admin, 1)
    results, _sender, _client = send(sandbox, [d["id"] for d in drafts], channel_options={"save_copy": False})
    assert statuses(results) == ["sent"]
    assert delivered(admin)[0]["marker"] == properties.marker_for(drafts[0]["id"])
    assert admin.outbox()["pending"] == []
    again, _sender, _client = send(sandbox, [d["id"] for d in drafts], channel_options={"save_copy": False})
    assert statuses(again) == ["missing"]


def test_concurrent_runs_send_each_draft_once(sandbox, admin):
    admin.set_graph_settings(if_match="honoured", batch_concurrency="queue")
    drafts = seed(admin, 6)
    outcomes = []

    def run():
        outcomes.append(send(sandbox, [d["id"] for d in drafts], pending_timeout=120)[0])

    threads = [threading.Thread(target=run) for _run in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(delivered(admin)) == 6
    for index in range(6):
        assert sorted(outcome[index]["status"] for outcome in outcomes) == ["already_sent", "sent"]


def test_runs_of_both_backends_know_each_others_claims(sandbox, admin):
    """The marker is the same whether a run names the draft by its EWS or its Graph id: a Graph run waits on an
    EWS run's live claim, and reports already_sent once that run sent it."""
    draft = admin.seed(ALICE, count=1, subject="both", to=["carol@sandbox.test"])[0]
    with client_for(sandbox) as ews:
        stamp = properties.state_value(properties.PENDING, "ewsrun0000000000", 2000000000)
        EwsChannel(ews).write_state([(draft["id"], draft["change_key"], properties.marker_for(draft["id"]), stamp)])
    results, _sender, _client = send(sandbox, [rest_form(draft["id"])], deadline=2, pending_timeout=120)
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "EwsClaimedByAnotherRun"
    assert delivered(admin) == []


def test_graph_needs_a_mailbox_and_files_copies_in_sent_items(sandbox, admin):
    with graph_client(sandbox, mailbox=None) as client:
        with pytest.raises(errors.EwsConfigError, match="needs the mailbox"):
            GraphChannel(client)
        assert GraphChannel(client, mailbox=ALICE).mailbox == ALICE
        with pytest.raises(errors.EwsConfigError, match="Sent Items, and only there"):
            GraphChannel(client, saved_item_folder="inbox", mailbox=ALICE)


def test_a_mailbox_the_app_may_not_reach_stops_the_run_naming_the_permission(sandbox, admin):
    drafts = seed(admin, 1)
    with graph_client_for(sandbox, app="exchange-ews-scoped", mailbox="bob") as client:
        sender = ExactlyOnceSender(GraphChannel(client), deadline=20)
        results = sender.send([ItemRef(drafts[0]["id"])])
    assert statuses(results) == ["failed"]
    assert results[0]["response_code"] == "ErrorAccessDenied"
