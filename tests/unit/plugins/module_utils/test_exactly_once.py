# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exactly-once protocol against the real EWS sandbox (faults injected through its admin API).

Tests named ``test_case<N>_...`` reproduce the numbered cases of issue 9; the
rules of docs/exactly-once.md are named in the docstrings of the tests that check them.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
from functools import partial
from types import SimpleNamespace

import pytest
from ews_sandbox.cli import build_app, start_facts
from ews_sandbox.http_server import EwsServer
from ews_sandbox.testing import AdminClient

from ansible_collections.exchange.ews.plugins.module_utils import errors, message_fields, properties
from ansible_collections.exchange.ews.plugins.module_utils.ews_channel import EwsChannel
from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import ExactlyOnceSender, ItemRef
from ansible_collections.exchange.ews.plugins.module_utils.responses import extended_properties, first_item, item_id
from ansible_collections.exchange.ews.plugins.module_utils.retry import RetryPolicy
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import GetItem
from ansible_collections.exchange.ews.plugins.module_utils.services.send_item import SendItem
from ansible_collections.exchange.ews.plugins.module_utils.services.update_item import UpdateItem
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import client_for, edit_as_user, move_as_user

ALICE = "alice@sandbox.test"
BOB = "bob@sandbox.test"


@pytest.fixture
def admin(sandbox):
    sandbox.admin.reset()
    sandbox.admin.clear_faults()
    sandbox.admin.set_quirks(True)
    sandbox.admin.set_submission_delay(0)
    return sandbox.admin


def short_waits_client(sandbox, login="alice", **options):
    # Short waits: the sandbox asks for them, the policy honours them.
    return client_for(sandbox, login, retry_policy=RetryPolicy(retries=3, timeout=10, max_delay=0.2), **options)


CHANNEL_OPTIONS = ("save_copy", "saved_item_folder", "mailbox")


def sender_for(client, client_factory=None, saved_item_folder_mailbox=None, **options):
    """The protocol over an EWS channel of ``client``; options of the channel and of the sender mixed."""
    channel_options = dict((name, options.pop(name)) for name in CHANNEL_OPTIONS if name in options)
    channel_options.setdefault("mailbox", saved_item_folder_mailbox)
    options.setdefault("poll_interval", 0.1)
    options.setdefault("deadline", 60)
    if client_factory is not None:
        options["channel_factory"] = lambda: EwsChannel(client_factory(), **channel_options)
    return ExactlyOnceSender(EwsChannel(client, **channel_options), **options)


def send(sandbox, ids, login="alice", client_options=None, **options):
    """Run the protocol once."""
    with short_waits_client(sandbox, login, **(client_options or {})) as client:
        sender = sender_for(client, **options)
        results = sender.send([ItemRef.from_raw(entry, index) for index, entry in enumerate(ids)])
    return results, sender.warnings


def statuses(results):
    return [r["status"] for r in results]


def seed(admin, count=1, mailbox=ALICE, subject="exactly once", **fields):
    fields.setdefault("to", ["carol@sandbox.test"])
    return admin.seed(mailbox, count=count, subject=subject, **fields)


def deliveries(admin, since=0):
    """The delivery log once every submitted message has left the Outbox (the ground truth)."""
    admin.wait_for_outbox()
    return admin.deliveries(since)


def operations(admin, since):
    return [r["operation"] for r in admin.requests(since) if r["operation"]]


def last_seq(admin):
    log = admin.requests()
    return log[-1]["seq"] if log else 0


def read(sandbox, item, login="alice"):
    """(ChangeKey, {property: value}) of an item as it is now."""
    with short_waits_client(sandbox, login) as client:
        message = GetItem(client).call([item["id"]], extended_paths=(properties.MARKER_PATH, properties.STATE_PATH))[0]
    assert message.ok, message
    element = first_item(message)
    return item_id(element)[1], extended_properties(element)


def claim_by_another_run(sandbox, item, since):
    value = properties.state_value(properties.PENDING, "otherrun", since)
    with short_waits_client(sandbox) as client:
        stamped = UpdateItem(client).set_extended_properties(
            [(item["id"], item["change_key"], [(properties.MARKER_PATH, properties.marker_for(item["id"])),
                                               (properties.STATE_PATH, value)])])
    assert stamped[0].ok
    return item_id(first_item(stamped[0]))[1]


def before_first(monkeypatch, service, method, action):
    """Run ``action`` once, right before the first call of ``service.method`` (an edit at an exact step)."""
    real = getattr(service, method)
    done = []

    def call(self, *args, **kwargs):
        if not done:
            done.append(True)
            action()
        return real(self, *args, **kwargs)
    monkeypatch.setattr(service, method, call)


# -- the happy path ---------------------------------------------------------------------------


def test_one_and_many_then_rerun_is_already_sent(sandbox, admin):
    drafts = seed(admin, 5)
    results, warnings = send(sandbox, [d["id"] for d in drafts[:1]])
    assert statuses(results) == ["sent"] and not warnings
    assert results[0]["subject"] == "exactly once" and results[0]["to"] == ["carol@sandbox.test"]
    results = send(sandbox, drafts)[0]  # dicts with change keys, as the lookup returns them
    assert statuses(results) == ["already_sent"] + ["sent"] * 4
    assert len(deliveries(admin)) == 5
    results = send(sandbox, drafts)[0]
    assert statuses(results) == ["already_sent"] * 5
    assert len(deliveries(admin)) == 5


def test_round_trips_per_batch_do_not_grow_with_batch_size(sandbox, admin):
    counts = []
    for size in (3, 30):
        drafts = seed(admin, size)
        since = last_seq(admin)
        results = send(sandbox, drafts)[0]
        assert statuses(results) == ["sent"] * size
        counts.append(operations(admin, since))
    # Plain ids: read, stamp, send; then, once per connection, the Drafts folder's id, which shows the drafts
    # are the connecting user's own, where no delegate quirk is possible (so nothing is verified).
    assert counts[0] == counts[1] == ["GetItem", "UpdateItem", "SendItem", "GetFolder"]


def test_plain_ids_of_many_batches_read_the_drafts_folder_once(sandbox, admin):
    drafts = seed(admin, 25)
    since = last_seq(admin)
    assert statuses(send(sandbox, [d["id"] for d in drafts], batch_size=10)[0]) == ["sent"] * 25
    assert operations(admin, since) == ["GetItem", "UpdateItem", "SendItem", "GetFolder"] + [
        "GetItem", "UpdateItem", "SendItem"] * 2


def as_lookup_returns(drafts):
    """Entries as the draft_ids lookup returns them: read as drafts in the connecting user's mailbox."""
    return [dict(d, is_draft=True, send_state=None, mailbox=None, subject="exactly once", to=["carol@sandbox.test"])
            for d in drafts]


def test_lookup_entries_cost_two_round_trips_per_batch(sandbox, admin):
    """The stamp's compare-and-set on the lookup's ChangeKey stands in for the read; no quirk is possible
    in the user's own mailbox, so nothing is verified."""
    drafts = seed(admin, 25)
    since = last_seq(admin)
    results = send(sandbox, as_lookup_returns(drafts), batch_size=10, concurrency=1)[0]
    assert statuses(results) == ["sent"] * 25
    assert operations(admin, since) == ["UpdateItem", "SendItem"] * 3
    since = last_seq(admin)
    results = send(sandbox, as_lookup_returns(drafts), batch_size=10, concurrency=1)[0]
    assert statuses(results) == ["already_sent"] * 25
    assert operations(admin, since) == ["UpdateItem", "FindItem"] * 3   # gone: straight to the copies
    assert len(deliveries(admin)) == 25


def test_lookup_entry_with_a_stale_key_takes_the_full_path_and_is_not_sent(sandbox, admin):
    draft = seed(admin, 1)[0]
    edit_as_user(sandbox, draft["id"])
    results = send(sandbox, as_lookup_returns([draft]))[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "ErrorStaleObject"
    assert deliveries(admin) == []


def test_lookup_entry_claimed_by_another_run_is_waited_for(sandbox, admin):
    draft = seed(admin, 1)[0]
    claim_by_another_run(sandbox, draft, time.time())
    results = send(sandbox, as_lookup_returns([draft]), pending_timeout=600, deadline=2)[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "EwsClaimedByAnotherRun"
    assert deliveries(admin) == []


def test_lookup_entries_of_a_delegate_are_verified(sandbox, admin):
    drafts = seed(admin, 2)
    entries = [dict(e, mailbox=ALICE) for e in as_lookup_returns(drafts)]
    since = last_seq(admin)
    results, warnings = send(sandbox, entries, login="bob")
    assert statuses(results) == ["sent", "sent"]
    assert operations(admin, since) == ["UpdateItem", "SendItem", "GetItem"]
    assert len(warnings) == 1 and "set mailbox to" in warnings[0]


def test_concurrent_batches_send_each_draft_once(sandbox, admin):
    drafts = seed(admin, 60)
    with short_waits_client(sandbox) as client:
        sender = sender_for(client, batch_size=5, concurrency=4, client_factory=lambda: short_waits_client(sandbox))
        results = sender.send([ItemRef.from_raw(entry, index) for index, entry in enumerate(as_lookup_returns(drafts))])
    assert statuses(results) == ["sent"] * 60
    assert sorted(d["marker"] for d in deliveries(admin)) == sorted(properties.marker_for(d["id"]) for d in drafts)
    # One NTLM handshake per connection: four connections sent the batches.
    assert len([r for r in admin.requests() if r["http_status"] == 401]) >= 4


def test_throttling_lowers_the_concurrency_but_never_below_one():
    from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import _AdaptiveSlots
    slots = _AdaptiveSlots(3)
    for _throttled in range(5):
        slots.shrink()
    entered = []

    def enter():
        with slots:
            entered.append(True)
            time.sleep(0.2)

    threads = [threading.Thread(target=enter) for _index in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    assert len(entered) == 1          # one at a time after throttling
    for thread in threads:
        thread.join()
    assert len(entered) == 2


# Base64 (so it passes the client's own check) but no id Exchange ever issued.
MALFORMED_ID = "AAAAbm90LWFuLWl0ZW0="


def test_malformed_and_unknown_ids(sandbox, admin):
    drafts = seed(admin, 1)
    results = send(sandbox, [MALFORMED_ID, drafts[0]["id"]])[0]
    assert results[0]["status"] == "failed"
    assert results[0]["response_code"] == "ErrorInvalidIdMalformed"
    assert results[1]["status"] == "sent"


def test_stale_change_key_is_not_sent(sandbox, admin):
    draft = seed(admin, 1)[0]
    results = send(sandbox, [{"id": draft["id"], "change_key": "CQAAABYAAAAAAAAAAAAAAAAAAAA="}])[0]
    assert results[0]["status"] == "failed" and results[0]["response_code"] == "ErrorStaleObject"
    assert deliveries(admin) == []


def test_check_mode_reads_only(sandbox, admin):
    drafts = seed(admin, 2)
    send(sandbox, drafts[:1])
    since = last_seq(admin)
    results = send(sandbox, drafts + [MALFORMED_ID], check_mode=True)[0]
    assert statuses(results) == ["already_sent", "would_send", "failed"]
    assert set(operations(admin, since)) <= {"GetItem", "FindItem"}
    assert len(deliveries(admin)) == 1


# -- case 1: only Success counts ------------------------------------------------------------------


@pytest.mark.parametrize("position", [1, 2])
def test_case1_warning_after_an_item_error_is_not_sent_and_goes_back_to_the_read(sandbox, admin, position):
    """Rule 2: a per-item Warning (ErrorBatchProcessingStopped) means "not processed"."""
    drafts = seed(admin, 4)
    admin.add_fault("item_error", operation="SendItem", code="ErrorQuotaExceeded", position=position)
    results = send(sandbox, drafts)[0]
    expected = ["sent"] * 4
    expected[position - 1] = "failed"
    assert statuses(results) == expected
    assert results[position - 1]["response_code"] == "ErrorQuotaExceeded"
    assert sorted(d["marker"] for d in deliveries(admin)) == sorted(
        properties.marker_for(d["id"]) for i, d in enumerate(drafts) if i != position - 1)
    # The refused draft's claim was freed, and a later run sends it.
    assert read(sandbox, drafts[position - 1])[1][properties.STATE].startswith("released:")
    assert statuses(send(sandbox, [d["id"] for d in drafts])[0]).count("sent") == 1


def test_case1_warning_on_the_stamp_is_not_a_stamp(sandbox, admin):
    drafts = seed(admin, 3)
    admin.add_fault("item_error", operation="UpdateItem", code="ErrorInternalServerError", position=1)
    results = send(sandbox, [d["id"] for d in drafts])[0]
    assert statuses(results) == ["failed", "sent", "sent"]
    assert len(deliveries(admin)) == 2


# -- case 2: concurrent runs, any pending_timeout -------------------------------------------------


def run_concurrently(sandbox, runs, ids, **options):
    outcomes = [None] * runs

    def run(index):
        outcomes[index] = send(sandbox, ids, **options)[0]

    threads = [threading.Thread(target=run, args=(index,)) for index in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("runs, count, pending_timeout, delay_ms, pinned", [
    (2, 20, 120, 0, True),
    (4, 50, 0, 300, True),      # pending_timeout below the SendItem latency, keys from the lookup
    (4, 50, 0, 300, False),
    (8, 60, 0, 0, False),
])
def test_case2_concurrent_runs_send_each_draft_once_and_none_fails(
        sandbox, admin, runs, count, pending_timeout, delay_ms, pinned):
    """Rule 7: pending_timeout only decides how long to wait; a run that did not send reports already_sent."""
    drafts = seed(admin, count)
    if delay_ms:
        admin.add_fault("delay", operation="SendItem", times=0, delay_ms=delay_ms)
    ids = drafts if pinned else [d["id"] for d in drafts]
    outcomes = run_concurrently(sandbox, runs, ids, pending_timeout=pending_timeout, batch_size=10)
    admin.clear_faults()
    markers = [d["marker"] for d in deliveries(admin)]
    assert sorted(markers) == sorted(properties.marker_for(d["id"]) for d in drafts)
    for index in range(count):
        assert sorted(outcome[index]["status"] for outcome in outcomes) == ["already_sent"] * (runs - 1) + ["sent"]


def test_case2_a_run_whose_claim_was_taken_over_never_frees_it(sandbox, admin, monkeypatch):
    """Rule 3: the losing run's release is a compare-and-set on its own stamp, which the takeover made stale."""
    draft = seed(admin, 1)[0]

    def steal():
        key, _props = read(sandbox, draft)
        claim_by_another_run(sandbox, {"id": draft["id"], "change_key": key}, time.time())

    before_first(monkeypatch, SendItem, "call", steal)
    results = send(sandbox, [draft["id"]], deadline=3, poll_interval=0.2)[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "EwsClaimedByAnotherRun"
    state = read(sandbox, draft)[1][properties.STATE]
    assert state.startswith("pending:otherrun:")
    assert deliveries(admin) == []


# -- case 3, 4: what is not a draft ---------------------------------------------------------------


@pytest.mark.parametrize("state_kind", [properties.PENDING, properties.RELEASED])
def test_case3_stamped_draft_moved_into_sent_items_is_not_already_sent(sandbox, admin, state_kind):
    """Rule 8: a copy found by marker proves a send only if it was submitted."""
    draft = seed(admin, 1)[0]
    with short_waits_client(sandbox) as client:
        UpdateItem(client).set_extended_properties([(draft["id"], draft["change_key"], [
            (properties.MARKER_PATH, properties.marker_for(draft["id"])),
            (properties.STATE_PATH, properties.state_value(state_kind, "deadrun", 0))])])
    move_as_user(sandbox, draft["id"], "sentitems")
    results = send(sandbox, [draft["id"]], pending_timeout=0)[0]
    assert statuses(results) == ["missing"]
    assert "still a draft" in results[0]["message_text"]
    assert deliveries(admin) == []


def test_case4_received_message_is_refused_and_left_untouched(sandbox, admin):
    """Rule 1: nothing is modified unless it is a draft or carries its marker."""
    received = seed(admin, 1, folder="inbox")[0]
    before = read(sandbox, received)
    results = send(sandbox, [received])[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "EwsNotADraft"
    assert "not a draft" in results[0]["message_text"]
    assert read(sandbox, received) == before
    assert deliveries(admin) == []


# -- case 5: a pinned change_key ------------------------------------------------------------------


def test_case5_edit_between_read_and_stamp_is_not_sent(sandbox, admin, monkeypatch):
    """Rule 4, first form: the stamp's conflict sends it back to a read that compares the key again."""
    draft = seed(admin, 1)[0]
    before_first(monkeypatch, UpdateItem, "set_extended_properties", partial(edit_as_user, sandbox, draft["id"]))
    results = send(sandbox, [draft])[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "ErrorStaleObject"
    assert deliveries(admin) == []


def test_case5_edit_between_stamp_and_send_is_not_sent_and_the_claim_is_released(sandbox, admin, monkeypatch):
    """Rule 4, second form: this run's own stamp does not excuse someone else's edit."""
    draft = seed(admin, 1)[0]
    before_first(monkeypatch, SendItem, "call", partial(edit_as_user, sandbox, draft["id"]))
    results = send(sandbox, [draft])[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "ErrorStaleObject"
    assert read(sandbox, draft)[1][properties.STATE].startswith("released:")
    assert deliveries(admin) == []


def test_case5_edit_without_change_key_is_sent(sandbox, admin, monkeypatch):
    draft = seed(admin, 1)[0]
    before_first(monkeypatch, SendItem, "call", partial(edit_as_user, sandbox, draft["id"]))
    results = send(sandbox, [draft["id"]])[0]
    assert statuses(results) == ["sent"]
    assert [d["subject"] for d in deliveries(admin)] == ["edited by a user"]


def test_case5_rerun_with_old_key_after_a_refused_send_is_not_sent(sandbox, admin):
    """Rule 4, third form: a released draft is compared with the pinned key too."""
    draft = seed(admin, 1, to=[])[0]
    results = send(sandbox, [draft])[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "ErrorInvalidRecipients"
    assert read(sandbox, draft)[1][properties.STATE].startswith("released:")
    with short_waits_client(sandbox) as client:
        UpdateItem(client).update(draft["id"], None, [message_fields.mailboxes("ToRecipients", ["carol@sandbox.test"])],
                                  conflict_resolution="AlwaysOverwrite")
    results = send(sandbox, [draft])[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "ErrorStaleObject"
    assert deliveries(admin) == []


# -- case 6: every run ends -----------------------------------------------------------------------


def test_case6_stamp_answers_always_lost_end_after_the_reread_limit(sandbox, admin):
    """Rule 6: every lost-response re-read is counted."""
    drafts = seed(admin, 2)
    admin.add_fault("drop_after_commit", operation="UpdateItem", times=0)
    since = last_seq(admin)
    results = send(sandbox, [d["id"] for d in drafts], reread_limit=3)[0]
    admin.clear_faults()
    assert statuses(results) == ["failed", "failed"]
    assert {r["response_code"] for r in results} == {"EwsResponseLost"}
    assert operations(admin, since).count("UpdateItem") == 4   # the first stamp and 3 re-reads
    assert deliveries(admin) == []


def test_case6_stamp_slower_than_timeout_ends(sandbox, admin):
    draft = seed(admin, 1)[0]
    admin.add_fault("delay", operation="UpdateItem", times=0, delay_ms=1500)
    started = time.monotonic()
    results = send(sandbox, [draft["id"]], client_options={"timeout": 0.5}, reread_limit=2)[0]
    admin.clear_faults()
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "EwsResponseLost"
    assert time.monotonic() - started < 30
    assert deliveries(admin) == []


@pytest.mark.parametrize("ahead", [60, 32503680000 - 1796000000], ids=["host-60s-ahead", "year-3000"])
def test_case6_claim_dated_in_the_future_expires_after_pending_timeout(sandbox, admin, ahead):
    """Rule 5: a claim is aged on the server's clock, not by the date another job host wrote into it."""
    draft = seed(admin, 1)[0]
    claim_by_another_run(sandbox, draft, time.time() + ahead)
    results = send(sandbox, [draft["id"]], pending_timeout=2, deadline=20)[0]
    assert statuses(results) == ["sent"]
    assert len(deliveries(admin)) == 1


def test_case6_deadline_ends_a_run_waiting_on_a_live_claim(sandbox, admin):
    draft = seed(admin, 1)[0]
    claim_by_another_run(sandbox, draft, time.time())
    started = time.monotonic()
    results = send(sandbox, [draft["id"]], pending_timeout=600, deadline=2)[0]
    assert time.monotonic() - started < 10
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "EwsClaimedByAnotherRun"
    assert "deadline" in results[0]["message_text"]


@pytest.mark.parametrize("operation", ["GetItem", "SendItem"])
def test_case6_a_request_slower_than_the_deadline_ends_at_the_deadline(sandbox, admin, operation):
    """Rule 6: a request's timeout is cut to what is left of the deadline (found by the chaos suite)."""
    draft = seed(admin, 1)[0]
    admin.add_fault("delay", operation=operation, times=0, delay_ms=5000)
    started = time.monotonic()
    results = send(sandbox, [draft["id"]], deadline=1)[0]
    assert time.monotonic() - started < 1.5
    admin.clear_faults()
    assert statuses(results) == ["failed"] and "deadline" in results[0]["message_text"]
    if operation == "SendItem":
        assert "may have" in results[0]["message_text"]   # the delayed send commits after the run gave up on it


# -- case 7: ambiguous HTTP answers are lost responses ---------------------------------------------


@pytest.mark.parametrize("kind", ["http_502_after_commit", "http_504_after_commit", "truncated_after_commit"])
def test_case7_ambiguous_answer_after_the_send_committed_is_resolved_as_sent(sandbox, admin, kind):
    """Only a SOAP fault, an HTTP 503 or ErrorServerBusy prove that nothing was processed."""
    drafts = seed(admin, 3)
    admin.add_fault(kind, operation="SendItem")
    results = send(sandbox, [d["id"] for d in drafts])[0]
    assert statuses(results) == ["sent"] * 3
    assert len(deliveries(admin)) == 3


@pytest.mark.parametrize("kind", ["http_502_after_commit", "truncated_after_commit"])
def test_case7_ambiguous_answer_after_the_stamp_committed_is_resolved(sandbox, admin, kind):
    drafts = seed(admin, 2)
    admin.add_fault(kind, operation="UpdateItem")
    results = send(sandbox, [d["id"] for d in drafts])[0]
    assert statuses(results) == ["sent"] * 2
    assert len(deliveries(admin)) == 2


# -- case 8: smaller inaccuracies ------------------------------------------------------------------


def test_case8_save_copy_false_and_a_lost_answer_may_have_been_sent(sandbox, admin, monkeypatch):
    draft = seed(admin, 1)[0]
    admin.add_fault("drop_after_commit", operation="SendItem")
    # Every read waits until the Outbox is empty: the message has gone, and with save_copy false
    # nothing of it is left to find (while it is still in the Outbox it proves the send: case 9).
    real_read = GetItem.call

    def read_after_submission(self, *args, **kwargs):
        admin.wait_for_outbox()
        return real_read(self, *args, **kwargs)
    monkeypatch.setattr(GetItem, "call", read_after_submission)
    with short_waits_client(sandbox) as client:
        sender = sender_for(client, save_copy=False)
        results = sender.send([ItemRef.from_raw(draft, 0)])
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "EwsResponseLost"
    assert "may have" in results[0]["message_text"] and sender.may_have_sent
    assert len(deliveries(admin)) == 1
    assert statuses(send(sandbox, [draft], save_copy=False)[0]) == ["missing"]


def test_case9_save_copy_false_and_a_lost_answer_while_in_the_outbox_is_sent(sandbox, admin):
    draft = seed(admin, 1)[0]
    admin.set_submission_delay(3000)
    admin.add_fault("drop_after_commit", operation="SendItem")
    results = send(sandbox, [draft], save_copy=False)[0]
    assert statuses(results) == ["sent"]
    assert len(deliveries(admin)) == 1


def test_case8_delegate_quirk_with_a_lost_answer_still_warns(sandbox, admin):
    draft = seed(admin, 1)[0]
    admin.add_fault("drop_after_commit", operation="SendItem")
    results, warnings = send(sandbox, [draft], login="bob")
    assert statuses(results) == ["sent"]
    assert len(warnings) == 1 and "set mailbox to" in warnings[0]
    assert len(deliveries(admin)) == 1


def test_an_id_that_is_not_base64_is_refused_before_any_request(sandbox, admin):
    since = last_seq(admin)
    with pytest.raises(errors.EwsConfigError, match=r"item_ids\[1\]"):
        send(sandbox, [seed(admin, 1)[0]["id"], "%BadItemId%"])
    assert operations(admin, since) == []


def test_case8_same_id_with_two_change_keys_is_refused_before_any_request(sandbox, admin):
    draft = seed(admin, 1)[0]
    since = last_seq(admin)
    with pytest.raises(errors.EwsConfigError, match=r"item_ids\[0\] and item_ids\[1\]"):
        send(sandbox, [draft, {"id": draft["id"], "change_key": "CQAAABYAAAAOTHER"}])
    assert operations(admin, since) == []


def test_case8_back_off_longer_than_retry_max_delay_is_honoured(sandbox, admin):
    drafts = seed(admin, 1)
    admin.add_fault("server_busy", operation="SendItem", back_off_ms=1500)
    with client_for(sandbox, "alice", retry_policy=RetryPolicy(retries=3, timeout=10, max_delay=0.2)) as client:
        results = sender_for(client).send([ItemRef.from_raw(drafts[0], 0)])
        assert [delay for _op, _reason, delay in client.retry_policy.attempts_log] == [1.5]
    assert statuses(results) == ["sent"]


def test_case8_long_waits_are_reported(sandbox, admin):
    """Rule 10."""
    draft = seed(admin, 1)[0]
    claim_by_another_run(sandbox, draft, time.time())
    results, warnings = send(sandbox, [draft["id"]], pending_timeout=2, wait_warning_after=0.5)
    assert statuses(results) == ["sent"]
    assert any("waited" in w and "claimed by other runs" in w for w in warnings), warnings


# -- case 9: Exchange submits asynchronously ---------------------------------------------------------


def test_case9_message_still_in_the_outbox_counts_as_sent(sandbox, admin):
    """Rule 9: recovery looks in the saved folder and the Outbox, in one FindItem."""
    drafts = seed(admin, 2)
    admin.set_submission_delay(3000)
    assert statuses(send(sandbox, drafts)[0]) == ["sent", "sent"]
    assert len(admin.outbox()["pending"]) == 2          # nothing in Sent Items yet
    since = last_seq(admin)
    results = send(sandbox, drafts)[0]
    assert statuses(results) == ["already_sent", "already_sent"]
    assert operations(admin, since) == ["GetItem", "FindItem"]
    assert len(deliveries(admin)) == 2


def test_case9_lost_answer_while_the_message_is_in_the_outbox_is_sent(sandbox, admin):
    drafts = seed(admin, 2)
    admin.set_submission_delay(3000)
    admin.add_fault("drop_after_commit", operation="SendItem")
    results = send(sandbox, [d["id"] for d in drafts])[0]
    assert statuses(results) == ["sent", "sent"]
    assert len(deliveries(admin)) == 2


@pytest.fixture
def embedded(tmp_path):
    """A sandbox served from this process, whose store a test can reach into; no submitter thread runs, so a sent
    message stays in the Outbox until the test calls ``app.submitter.deliver_due()``."""
    server = EwsServer(("127.0.0.1", 0), build_app(tmp_path))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    facts = start_facts(server)
    yield SimpleNamespace(app=server.app, url=facts["EWS_URL"], ca_path=facts["EWS_CA_PATH"],
                          users={"alice": server.app.directory.by_login("alice")},
                          admin=AdminClient(facts["EWS_ADMIN_URL"], facts["EWS_CA_PATH"]))
    server.shutdown()
    server.server_close()


def test_case9_message_filed_while_the_search_runs_is_found(embedded, monkeypatch):
    """Rule 9: the Outbox is searched before the saved folder, so a message the submitter moves from one to the
    other between the two folders' searches is found (found by the chaos suite, trial seed 837108038)."""
    draft = seed(embedded.admin, 1)[0]
    assert statuses(send(embedded, [draft["id"]])[0]) == ["sent"]
    assert len(embedded.admin.outbox()["pending"]) == 1
    search_folder = embedded.app.store.find_items

    def search_then_file(*args, **kwargs):
        found = search_folder(*args, **kwargs)
        embedded.app.submitter.deliver_due()
        return found

    monkeypatch.setattr(embedded.app.store, "find_items", search_then_file)
    assert statuses(send(embedded, [draft["id"]])[0]) == ["already_sent"]
    assert len(embedded.admin.deliveries()) == 1


# -- delegates, impersonation, faults --------------------------------------------------------------


def test_save_copy_false_then_rerun_is_missing(sandbox, admin):
    draft = seed(admin, 1)[0]
    results = send(sandbox, [draft], save_copy=False)[0]
    assert statuses(results) == ["sent"]
    results = send(sandbox, [draft], save_copy=False)[0]
    assert statuses(results) == ["missing"]
    assert len(deliveries(admin)) == 1


def test_delegate_with_workaround_saves_in_principal_mailbox(sandbox, admin):
    drafts = seed(admin, 2)
    results, warnings = send(sandbox, drafts, login="bob", saved_item_folder_mailbox=ALICE)
    assert statuses(results) == ["sent", "sent"] and not warnings
    results = send(sandbox, drafts, login="bob", saved_item_folder_mailbox=ALICE)[0]
    assert statuses(results) == ["already_sent", "already_sent"]
    assert len(deliveries(admin)) == 2


def test_delegate_quirk_principal_drafts_is_never_resent(sandbox, admin):
    drafts = seed(admin, 2)
    results, warnings = send(sandbox, drafts, login="bob")
    assert statuses(results) == ["sent", "sent"]
    assert len(warnings) == 1 and "set mailbox to" in warnings[0]
    results, warnings = send(sandbox, drafts, login="bob")
    assert statuses(results) == ["already_sent", "already_sent"] and not warnings
    assert len(deliveries(admin)) == 2


def test_delegate_quirk_own_drafts_to_principal_sent_items(sandbox, admin):
    drafts = seed(admin, 1, mailbox=BOB)
    results, warnings = send(sandbox, drafts, login="bob", saved_item_folder_mailbox=ALICE)
    assert statuses(results) == ["sent"]
    assert len(warnings) == 1
    results = send(sandbox, drafts, login="bob", saved_item_folder_mailbox=ALICE)[0]
    assert statuses(results) == ["already_sent"]
    assert len(deliveries(admin)) == 1


def test_impersonation_allowed_and_denied_stops_the_run_once(sandbox, admin):
    drafts = seed(admin, 2)
    results = send(sandbox, drafts[:1], login="svc", client_options={"impersonate": ALICE})[0]
    assert statuses(results) == ["sent"]
    with short_waits_client(sandbox, "carol", impersonate=ALICE) as client:
        sender = sender_for(client, batch_size=1)
        results = sender.send([ItemRef.from_raw(d, 0) for d in drafts])
    assert statuses(results) == ["failed", "failed"]
    assert sender.request_error.response_code == "ErrorImpersonateUserDenied"
    assert len(deliveries(admin)) == 1


@pytest.mark.parametrize("operation", ["SendItem", "UpdateItem"])
def test_dropped_connection_after_commit_is_resolved_not_resent(sandbox, admin, operation):
    drafts = seed(admin, 3)
    admin.add_fault("drop_after_commit", operation=operation)
    results = send(sandbox, [d["id"] for d in drafts])[0]
    assert statuses(results) == ["sent"] * 3
    assert len(deliveries(admin)) == 3


@pytest.mark.parametrize("kind", ["server_busy", "http_503"])
def test_busy_server_is_retried_and_sends_once(sandbox, admin, kind):
    drafts = seed(admin, 2)
    admin.add_fault(kind, operation="SendItem", times=2, back_off_ms=50, retry_after=0)
    results = send(sandbox, drafts)[0]
    assert statuses(results) == ["sent", "sent"]
    assert len(deliveries(admin)) == 2


def test_html_error_page_after_send_is_a_lost_answer_not_a_refusal(sandbox, admin):
    """Only a SOAP fault, a 503 or ErrorServerBusy prove that nothing was processed."""
    drafts = seed(admin, 2)
    admin.add_fault("html_error", operation="SendItem")
    results = send(sandbox, drafts)[0]
    assert statuses(results) == ["sent", "sent"]
    assert len(deliveries(admin)) == 2


def test_bad_credentials_fail_clearly_without_the_password(sandbox, admin):
    drafts = seed(admin, 1)
    wrong = "Wr0ng-Secret-Value"
    with short_waits_client(sandbox, password=wrong) as client:
        with pytest.raises(errors.EwsAuthError) as info:
            client.call("GetItem", ItemShape={"BaseShape": "IdOnly"}, ItemIds={"ItemId": [{"Id": drafts[0]["id"]}]})
    assert wrong not in str(info.value) and "401" in str(info.value)


def test_claim_of_a_dead_run_is_taken_over_after_pending_timeout(sandbox, admin):
    draft = seed(admin, 1)[0]
    claim_by_another_run(sandbox, draft, 0)
    started = time.monotonic()
    results = send(sandbox, [draft["id"]], pending_timeout=2)[0]
    assert statuses(results) == ["sent"] and time.monotonic() - started >= 1.0
    assert len(deliveries(admin)) == 1


@pytest.mark.parametrize("kind", ["http_502_after_commit", "drop_after_commit"])
def test_taken_over_claim_then_a_lost_send_answer_is_sent_not_already_sent(sandbox, admin, kind):
    """Found by make chaos (seed 1297042598): SendItem checks the ChangeKey of this run's stamp, so a copy
    under that stamp is this run's send even where the stamp took over another run's expired claim."""
    draft = seed(admin, 1)[0]
    claim_by_another_run(sandbox, draft, 0)
    admin.add_fault(kind, operation="SendItem")
    results = send(sandbox, [draft["id"]], pending_timeout=0)[0]
    assert statuses(results) == ["sent"], results
    assert len(deliveries(admin)) == 1


def test_claim_with_the_callers_fresh_key_is_taken_over(sandbox, admin):
    """A re-run that looked the draft up after a crash pins the claimed version: it may take it over."""
    draft = seed(admin, 1)[0]
    key = claim_by_another_run(sandbox, draft, 0)
    results = send(sandbox, [{"id": draft["id"], "change_key": key}], pending_timeout=1)[0]
    assert statuses(results) == ["sent"] and len(deliveries(admin)) == 1


def test_draft_another_client_sent_and_left_behind_is_refused_not_resent(sandbox, admin):
    draft = seed(admin, 1)[0]
    with short_waits_client(sandbox, "bob") as client:  # raw SendItem, delegate quirk 1: the draft stays
        assert SendItem(client).call([(draft["id"], draft["change_key"])])[0].ok
    results = send(sandbox, [draft["id"]])[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "EwsNotADraft"
    assert len(deliveries(admin)) == 1


def test_refused_request_releases_the_claim_for_the_next_run(sandbox, admin):
    draft = seed(admin, 1)[0]
    admin.add_fault("soap_fault", operation="SendItem", code="ErrorInternalServerError")
    results = send(sandbox, [draft], pending_timeout=600)[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "ErrorInternalServerError"
    assert read(sandbox, draft)[1][properties.STATE].startswith("released:")
    started = time.monotonic()
    results = send(sandbox, [draft["id"]], pending_timeout=600)[0]
    assert statuses(results) == ["sent"] and time.monotonic() - started < 5
    assert len(deliveries(admin)) == 1


@pytest.mark.parametrize("options", [
    {"auth": "basic"},
    {"auth": "oauth2", "access_token": "alice-token", "username": None, "password": None},
])
def test_basic_and_oauth2_authentication(sandbox, admin, options):
    drafts = seed(admin, 1)
    results = send(sandbox, drafts, client_options=options)[0]
    assert statuses(results) == ["sent"]


def test_wrong_token_stops_the_run_once_without_showing_it(sandbox, admin):
    drafts = seed(admin, 3)
    token = "not-a-valid-token-0123456789"
    with short_waits_client(sandbox, auth="oauth2", access_token=token) as client:
        sender = sender_for(client, batch_size=1)
        results = sender.send([ItemRef.from_raw(d, 0) for d in drafts])
    assert statuses(results) == ["failed"] * 3 and sender.request_error.response_code is None
    assert isinstance(sender.request_error, errors.EwsAuthError)
    assert token not in str(results)
    assert len([r for r in sandbox.admin.requests() if r["http_status"] == 401]) <= 2
