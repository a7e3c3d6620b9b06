# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exactly-once protocol against the real EWS sandbox (faults injected through its admin API)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import errors, properties
from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import ExactlyOnceSender, ItemRef
from ansible_collections.exchange.ews.plugins.module_utils.retry import RetryPolicy
from ansible_collections.exchange.ews.plugins.module_utils.services.send_item import SendItem
from ansible_collections.exchange.ews.plugins.module_utils.services.update_item import UpdateItem
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import client_for

ALICE = "alice@sandbox.test"
BOB = "bob@sandbox.test"


@pytest.fixture
def admin(sandbox):
    sandbox.admin.reset()
    sandbox.admin.clear_faults()
    sandbox.admin.set_quirks(True)
    return sandbox.admin


def short_waits_client(sandbox, login="alice", **options):
    # Short waits: the sandbox asks for them, the policy honours them.
    return client_for(sandbox, login, retry_policy=RetryPolicy(retries=3, timeout=10, max_delay=0.2), **options)


def send(sandbox, ids, login="alice", client_options=None, **options):
    options.setdefault("poll_interval", 0.1)
    with short_waits_client(sandbox, login, **(client_options or {})) as client:
        sender = ExactlyOnceSender(client, **options)
        results = sender.send([ItemRef.from_raw(entry, index) for index, entry in enumerate(ids)])
    return results, sender.warnings


def statuses(results):
    return [r["status"] for r in results]


def seed(admin, count=1, mailbox=ALICE, subject="exactly once"):
    return admin.seed(mailbox, count=count, subject=subject, to=["carol@sandbox.test"])


def deliveries(admin, since=0):
    return admin.deliveries(since)


def operations(admin, since):
    return [r["operation"] for r in admin.requests(since) if r["operation"]]


def last_seq(admin):
    log = admin.requests()
    return log[-1]["seq"] if log else 0


def test_one_and_many_then_rerun_is_already_sent(sandbox, admin):
    drafts = seed(admin, 5)
    results, warnings = send(sandbox, [d["id"] for d in drafts[:1]])
    assert statuses(results) == ["sent"] and not warnings
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
    assert counts[0] == counts[1] == ["GetItem", "UpdateItem", "SendItem", "GetItem"]


def test_malformed_and_unknown_ids(sandbox, admin):
    drafts = seed(admin, 1)
    results = send(sandbox, ["%BadItemId%", drafts[0]["id"]])[0]
    assert results[0]["status"] == "failed"
    assert results[0]["response_code"] == "ErrorInvalidIdMalformed"
    assert results[1]["status"] == "sent"


def test_stale_change_key_is_not_sent(sandbox, admin):
    draft = seed(admin, 1)[0]
    results = send(sandbox, [{"id": draft["id"], "change_key": "CQAAABYAAAAAAAAAAAAAAAAAAAA="}])[0]
    assert results[0]["status"] == "failed" and results[0]["response_code"] == "ErrorStaleObject"
    assert deliveries(admin) == []


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


def test_delegate_quirk_principal_drafts_is_stamped_and_never_resent(sandbox, admin):
    drafts = seed(admin, 2)
    results, warnings = send(sandbox, drafts, login="bob")
    assert statuses(results) == ["sent", "sent"]
    assert len(warnings) == 1 and "saved_item_folder_mailbox" in warnings[0]
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


def test_impersonation_allowed_and_denied(sandbox, admin):
    drafts = seed(admin, 2)
    results = send(sandbox, drafts[:1], login="svc", client_options={"impersonate": ALICE})[0]
    assert statuses(results) == ["sent"]
    results = send(sandbox, drafts[1:], login="carol", client_options={"impersonate": ALICE})[0]
    assert statuses(results) == ["failed"]
    assert results[0]["response_code"] == "ErrorImpersonateUserDenied"
    assert len(deliveries(admin)) == 1


@pytest.mark.parametrize("operation", ["SendItem", "UpdateItem"])
def test_dropped_connection_after_commit_is_resolved_not_resent(sandbox, admin, operation):
    drafts = seed(admin, 3)
    admin.add_fault("drop_after_commit", operation=operation)
    results = send(sandbox, drafts)[0]
    assert statuses(results) == ["sent"] * 3
    assert len(deliveries(admin)) == 3


@pytest.mark.parametrize("kind", ["server_busy", "http_503"])
def test_busy_server_is_retried_and_sends_once(sandbox, admin, kind):
    drafts = seed(admin, 2)
    admin.add_fault(kind, operation="SendItem", times=2, back_off_ms=50, retry_after=0)
    results = send(sandbox, drafts)[0]
    assert statuses(results) == ["sent", "sent"]
    assert len(deliveries(admin)) == 2


def test_two_concurrent_runs_deliver_each_message_once(sandbox, admin):
    drafts = seed(admin, 20)
    outcomes = []

    def run():
        outcomes.append(send(sandbox, drafts)[0])

    threads = [threading.Thread(target=run), threading.Thread(target=run)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(deliveries(admin)) == 20
    for first, second in zip(*outcomes):
        assert sorted([first["status"], second["status"]]) == ["already_sent", "sent"]


def test_check_mode_reads_only(sandbox, admin):
    drafts = seed(admin, 2)
    send(sandbox, drafts[:1])
    since = last_seq(admin)
    results = send(sandbox, drafts + ["%BadItemId%"], check_mode=True)[0]
    assert statuses(results) == ["already_sent", "would_send", "failed"]
    assert set(operations(admin, since)) <= {"GetItem", "FindItem"}
    assert len(deliveries(admin)) == 1


def test_bad_credentials_fail_clearly_without_the_password(sandbox, admin):
    drafts = seed(admin, 1)
    wrong = "Wr0ng-Secret-Value"
    with short_waits_client(sandbox, password=wrong) as client:
        with pytest.raises(errors.EwsAuthError) as info:
            client.call("GetItem", ItemShape={"BaseShape": "IdOnly"}, ItemIds={"ItemId": [{"Id": drafts[0]["id"]}]})
    assert wrong not in str(info.value) and "401" in str(info.value)


def test_claim_of_a_dead_run_is_taken_over_after_pending_timeout(sandbox, admin):
    draft = seed(admin, 1)[0]
    claim = properties.state_value(properties.PENDING, "deadrun", 0)
    with short_waits_client(sandbox) as client:
        stamped = UpdateItem(client).set_extended_properties(
            [(draft["id"], draft["change_key"], [(properties.STATE_PATH, claim)])])
    assert stamped[0].ok
    results = send(sandbox, [draft["id"]], pending_timeout=60)[0]
    assert statuses(results) == ["sent"] and len(deliveries(admin)) == 1


def test_fresh_claim_of_another_run_is_waited_for_then_taken_over(sandbox, admin):
    draft = seed(admin, 1)[0]
    with short_waits_client(sandbox) as client:
        UpdateItem(client).set_extended_properties(
            [(draft["id"], draft["change_key"],
              [(properties.STATE_PATH, properties.state_value(properties.PENDING, "otherrun", time.time()))])])
    started = time.time()
    # The stamp holds whole seconds: a 2 s timeout leaves between 1 and 2 s to wait.
    results = send(sandbox, [draft["id"]], pending_timeout=2)[0]
    assert statuses(results) == ["sent"] and time.time() - started >= 0.9
    assert len(deliveries(admin)) == 1


def test_sent_draft_left_behind_without_stamp_is_already_sent(sandbox, admin):
    draft = seed(admin, 1)[0]
    with short_waits_client(sandbox, "bob") as client:  # raw SendItem, delegate quirk 1: the draft stays
        assert SendItem(client).call([(draft["id"], None)])[0].ok
    results = send(sandbox, [draft])[0]
    assert statuses(results) == ["already_sent"]
    assert len(deliveries(admin)) == 1


def test_refused_send_releases_the_claim_for_the_next_run(sandbox, admin):
    draft = seed(admin, 1)[0]
    admin.add_fault("soap_fault", operation="SendItem", code="ErrorInternalServerError")
    results = send(sandbox, [draft], pending_timeout=600)[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "ErrorInternalServerError"
    started = time.time()
    results = send(sandbox, [draft], pending_timeout=600)[0]
    assert statuses(results) == ["sent"] and time.time() - started < 5
    assert len(deliveries(admin)) == 1


@pytest.mark.parametrize("options", [
    {"auth": "basic"},
    {"auth": "oauth2", "access_token": "alice-token", "username": None, "password": None},
])
def test_basic_and_oauth2_authentication(sandbox, admin, options):
    drafts = seed(admin, 1)
    results = send(sandbox, drafts, client_options=options)[0]
    assert statuses(results) == ["sent"]


def test_wrong_token_fails_without_showing_it(sandbox, admin):
    drafts = seed(admin, 1)
    token = "not-a-valid-token-0123456789"
    results = send(sandbox, drafts, client_options={"auth": "oauth2", "access_token": token})[0]
    assert statuses(results) == ["failed"] and results[0]["response_code"] == "EwsAuthError"
    assert token not in str(results)
