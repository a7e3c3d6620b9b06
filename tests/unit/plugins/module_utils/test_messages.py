# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyed messages (the message module's core) against the real EWS sandbox over HTTPS and NTLM.

The ground truth is the sandbox's delivery log, read once its Outbox has drained.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import threading

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import messages
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError
from ansible_collections.exchange.ews.plugins.module_utils.ews_messages import EwsMessages
from ansible_collections.exchange.ews.plugins.module_utils.responses import extended_properties, first_item
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import GetItem
from ansible_collections.exchange.ews.tests.unit.utils.message_support import delivered, params
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import client_for, move_as_user

ALICE, BOB, CAROL, TEAM = "alice@sandbox.test", "bob@sandbox.test", "carol@sandbox.test", "team@sandbox.test"
KEY_PROPERTY = {"property_set_id": "2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1", "property_name": "ExchangeEwsDraftKey",
                "property_type": "String"}
LOGO = b"\x89PNG\r\n\x1a\n a logo"


def report(**options):
    """The task of the integration target: HTML, two files and an inline logo, cc, importance high."""
    values = dict(
        key="weekly-19", subject="Weekly report 19", to=[BOB], cc=[CAROL], importance="high", body_type="html",
        body='<p>Numbers attached.</p><img src="cid:logo@example">',
        attachments=[
            {"name": "numbers.csv", "content": "week,sent\n19,42\n"},
            {"name": "summary.txt", "content": "All good."},
            {"name": "logo.png", "content": base64.b64encode(LOGO).decode(), "encoding": "base64",
             "content_id": "logo@example"},
        ])
    values.update(options)
    return params(**values)


def keyed_message(client, spec, **options):
    """The message module's core over EWS."""
    return messages.KeyedMessage(EwsMessages(client, spec.mailbox), spec, **options)


def run(sandbox, values, login="alice", check_mode=False, state=None):
    """One run of the module's work: ``(result, warnings)``; raises what the module would fail with."""
    spec = messages.MessageSpec.from_params(values)
    with client_for(sandbox, login) as client:
        keyed = keyed_message(client, spec, check_mode=check_mode, deadline=60)
        result = keyed.run(state or values["state"] or "sent")
    return result, keyed.warnings


def concurrently(count, work):
    """Run ``work(index)`` in ``count`` threads started together; their results (or exceptions) by index."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def worker(index):
        barrier.wait()
        try:
            outcomes[index] = work(index)
        except Exception as error:  # pylint: disable=broad-exception-caught
            outcomes[index] = error
    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


# -- concurrency ------------------------------------------------------------------------------------

@pytest.mark.parametrize("existing_draft", [False, True], ids=["no draft yet", "a draft exists"])
def test_eight_concurrent_runs_deliver_one_message(sandbox, admin, existing_draft):
    subject = "Concurrent %s" % existing_draft
    if existing_draft:
        admin.seed(ALICE, count=1, subject="prepared", to=[BOB], extended_properties=[
            dict(KEY_PROPERTY, value="concurrent-%s" % existing_draft)])
    outcomes = concurrently(8, lambda index: run(sandbox, report(key="concurrent-%s" % existing_draft,
                                                                 subject=subject))[0])
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert errors == []
    assert len(delivered(admin, subject)) == 1
    assert sorted(outcome["changed"] for outcome in outcomes).count(True) >= 1
    assert [outcome["sent"] for outcome in outcomes] == [True] * 8
    assert sorted(outcome["status"] for outcome in outcomes) == ["already_sent"] * 7 + ["sent"]
    assert len({outcome["internet_message_id"] for outcome in outcomes}) == 1
    # The losers' drafts are gone: nothing with the key is left in Drafts.
    assert drafts_with_key(sandbox, "concurrent-%s" % existing_draft) == []


# -- Send As and on behalf ----------------------------------------------------------------------------

def test_send_as_without_the_right_is_refused_clearly(sandbox, admin):
    with pytest.raises(EwsError) as refused:
        run(sandbox, report(key="send-as-denied", subject="Not from carol", **{"from": ALICE}), login="carol")
    assert refused.value.response_code == "ErrorSendAsDenied"
    assert "Send As" in str(refused.value) and ALICE in str(refused.value)
    assert delivered(admin, "Not from carol") == []


def test_send_as_with_the_right_sends_from_the_shared_mailbox(sandbox, admin):
    result = run(sandbox, report(key="send-as", subject="From the team", **{"from": TEAM}), login="bob")[0]
    assert result["sent"] and result["changed"]
    [entry] = delivered(admin, "From the team")
    assert (entry["from"], entry["sender"]) == (TEAM, TEAM)


def test_on_behalf_a_delegate_sends_from_the_principals_mailbox(sandbox, admin):
    result = run(sandbox, report(key="behalf", subject="On behalf", mailbox=ALICE), login="bob")[0]
    assert result["sent"]
    [entry] = delivered(admin, "On behalf")
    assert (entry["from"], entry["sender"], entry["mailbox"]) == (ALICE, BOB, ALICE)


# -- helpers of the tests below -----------------------------------------------------------------

def drafts_with_key(sandbox, key, login="alice", mailbox=None):
    """Ids of the drafts carrying ``key`` (FindItem in Drafts, as a user would look)."""
    from ansible_collections.exchange.ews.plugins.module_utils import restrictions as r
    from ansible_collections.exchange.ews.plugins.module_utils.services.common import folder_id
    from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem
    path = r.extended_field_uri(messages.KEY_PATH)
    with client_for(sandbox, login) as client:
        found = FindItem(client).find(folder_id("drafts", mailbox), [path], r.is_equal_to(path, key))
    return [item.id for item in found.items]


def operations(admin, since):
    return [entry["operation"] for entry in admin.requests(since) if entry["operation"]]


def last_seq(admin):
    log = admin.requests()
    return log[-1]["seq"] if log else 0


def seed_draft(admin, key, subject="prepared", to=(BOB,), mailbox=ALICE):
    return admin.seed(mailbox, count=1, subject=subject, to=list(to),
                      extended_properties=[dict(KEY_PROPERTY, value=key)])[0]


# -- re-runs ------------------------------------------------------------------------------------

def test_a_rerun_finds_the_submitted_copy_and_changes_nothing(sandbox, admin):
    first = run(sandbox, report(key="rerun", subject="Rerun"))[0]
    since = last_seq(admin)
    again, warnings = run(sandbox, report(key="rerun", subject="Rerun"))
    assert (first["status"], first["changed"]) == ("sent", True)
    assert (again["status"], again["changed"], again["changed_fields"]) == ("already_sent", False, [])
    assert again["internet_message_id"] == first["internet_message_id"] and again["sent_at"] == first["sent_at"]
    assert again["id"] == again["sent_copy_id"] and warnings == []
    assert operations(admin, since) == ["FindItem", "GetItem"]   # the search and the copy's content: no write
    assert len(delivered(admin, "Rerun")) == 1


def test_the_same_key_with_other_content_is_not_sent_again_and_the_difference_is_shown(sandbox, admin):
    run(sandbox, report(key="revised", subject="Original", body="<p>first</p>", attachments=[]))
    spec = messages.MessageSpec.from_params(report(key="revised", subject="Revised", body="<p>second</p>",
                                                   attachments=[]))
    with client_for(sandbox) as client:
        keyed = keyed_message(client, spec, diff=True, deadline=60)
        result = keyed.run("sent")
    assert (result["status"], result["changed"]) == ("already_sent", False)
    [warning] = keyed.warnings
    assert "already sent" in warning and "with different content (subject, body)" in warning
    assert result["diff"]["before"]["subject"] == "Original" and result["diff"]["after"]["subject"] == "Revised"
    assert result["diff"]["after"]["body"] == "<p>second</p>"
    assert "first" in result["diff"]["before"]["body"]          # the stored text, never a digest
    assert [entry["subject"] for entry in delivered(admin, "Original") + delivered(admin, "Revised")] == ["Original"]


def test_a_draft_with_the_key_is_brought_to_the_content_then_sent(sandbox, admin):
    seed_draft(admin, "prepared-earlier", subject="Old subject", to=[CAROL])
    result = run(sandbox, report(key="prepared-earlier", subject="New subject", body="<p>Numbers.</p>",
                                 attachments=[]))[0]
    # (no attachment is asked for, and the draft has none: attachments did not change)
    assert result["status"] == "sent" and result["changed_fields"] == ["subject", "body", "to", "cc", "importance"]
    [entry] = delivered(admin, "New subject")
    assert sorted(entry["recipients"]) == [BOB, CAROL]
    assert drafts_with_key(sandbox, "prepared-earlier") == []


def test_a_draft_a_user_moved_into_sent_items_proves_nothing(sandbox, admin):
    moved = seed_draft(admin, "moved", subject="Moved")
    move_as_user(sandbox, moved["id"], "sentitems")
    result = run(sandbox, report(key="moved", subject="Moved for real"))[0]
    assert result["status"] == "sent"
    assert len(delivered(admin, "Moved for real")) == 1


def test_drafts_left_by_crashed_runs_are_deleted_with_a_warning_after_the_send(sandbox, admin):
    for _index in range(3):
        seed_draft(admin, "leftovers")
    result, warnings = run(sandbox, report(key="leftovers", subject="Leftovers"))
    assert result["status"] == "sent"
    assert any("deleted 2 other draft(s) carrying key 'leftovers'" in warning for warning in warnings)
    assert drafts_with_key(sandbox, "leftovers") == []
    assert len(delivered(admin, "Leftovers")) == 1


def test_a_lost_answer_to_the_draft_creation_still_sends_one_message(sandbox, admin):
    admin.add_fault("drop_after_commit", operation="CreateItem")
    result = run(sandbox, report(key="lost-create", subject="Lost create"))[0]
    assert result["status"] == "sent"
    assert len(delivered(admin, "Lost create")) == 1
    assert drafts_with_key(sandbox, "lost-create") == []


def test_a_lost_answer_to_the_send_is_settled_by_the_protocol(sandbox, admin):
    admin.add_fault("drop_after_commit", operation="SendItem")
    result = run(sandbox, report(key="lost-send", subject="Lost send"))[0]
    assert result["status"] == "sent" and result["internet_message_id"]
    assert len(delivered(admin, "Lost send")) == 1


# -- check mode ---------------------------------------------------------------------------------

def test_check_mode_reads_only_and_says_what_a_run_would_do(sandbox, admin):
    since = last_seq(admin)
    new = run(sandbox, report(key="check", subject="Check"), check_mode=True)[0]
    assert (new["status"], new["changed"], "id" in new) == ("would_send", True, False)
    seed_draft(admin, "check", subject="Draft for check")
    existing = run(sandbox, report(key="check", subject="Check"), check_mode=True)[0]
    assert existing["status"] == "would_send" and existing["changed_fields"][0] == "subject"
    assert set(operations(admin, since)) <= {"FindItem", "GetItem"}
    assert delivered(admin, "Check") == [] and len(drafts_with_key(sandbox, "check")) == 1


# -- state draft and absent ----------------------------------------------------------------------

def test_unchanged_attachments_are_not_uploaded_again_changed_ones_replaced_removed_ones_deleted(sandbox, admin):
    created = run(sandbox, report(key="files", subject="Files"), state="draft")[0]
    since = last_seq(admin)
    unchanged = run(sandbox, report(key="files", subject="Files"), state="draft")[0]
    assert (unchanged["changed"], unchanged["changed_fields"]) == (False, [])
    assert operations(admin, since) == ["FindItem", "GetItem"]

    changed_files = report(key="files", subject="Files")
    changed_files["attachments"] = [dict(changed_files["attachments"][0], content="week,sent\n19,43\n"),
                                    changed_files["attachments"][2]]
    since = last_seq(admin)
    replaced = run(sandbox, changed_files, state="draft")[0]
    assert (replaced["changed"], replaced["changed_fields"]) == (True, ["attachments"])
    assert replaced["id"] == created["id"]
    # Forget the two, delete them, add the new one, record it: one request each.
    assert operations(admin, since) == ["FindItem", "GetItem", "UpdateItem", "DeleteAttachment", "CreateAttachment",
                                        "UpdateItem"]
    with client_for(sandbox) as client:
        current = keyed_message(client, messages.MessageSpec.from_params(changed_files)).read(created["id"])
    assert sorted(name for _id, name in current.attachments) == ["logo.png", "numbers.csv"]
    assert run(sandbox, changed_files, state="draft")[0]["changed"] is False


def test_draft_diff_shows_option_names_and_readable_bounded_body(sandbox, admin):
    run(sandbox, report(key="diff", subject="Diff", body="short", body_type="text", attachments=None), state="draft")
    spec = messages.MessageSpec.from_params(report(key="diff", subject="Diff", body="x" * 5000, body_type="text",
                                                   attachments=None))
    with client_for(sandbox) as client:
        result = keyed_message(client, spec, diff=True).run("draft")
    assert result["changed_fields"] == ["body"]
    assert result["diff"]["before"]["body"] == "short"
    assert result["diff"]["after"]["body"].startswith("x" * 2000) and "3000 more characters" in \
        result["diff"]["after"]["body"]
    assert "body_sha256" not in repr(result) and spec.values["body"] not in repr(result["diff"])


def test_draft_with_two_drafts_of_one_key_names_them(sandbox, admin):
    ids = [seed_draft(admin, "twins")["id"], seed_draft(admin, "twins")["id"]]
    with pytest.raises(messages.AmbiguousKeyError) as ambiguous:
        run(sandbox, report(key="twins"), state="draft")
    assert sorted(ambiguous.value.ids) == sorted(ids) and "2 drafts in Drafts carry key 'twins'" in \
        str(ambiguous.value)


def test_draft_edited_between_read_and_write_is_not_overwritten(sandbox, admin, monkeypatch):
    from ansible_collections.exchange.ews.plugins.module_utils import message_fields
    from ansible_collections.exchange.ews.plugins.module_utils.services.update_item import UpdateItem
    created = run(sandbox, report(key="edited", subject="Before", attachments=None), state="draft")[0]
    real_update = messages.KeyedMessage.update

    def edit_first(self, current, changed):
        with client_for(sandbox) as client:
            UpdateItem(client).update(created["id"], None, [message_fields.text("Subject", "A user's edit")],
                                      conflict_resolution="AlwaysOverwrite")
        return real_update(self, current, changed)
    monkeypatch.setattr(messages.KeyedMessage, "update", edit_first)
    with pytest.raises(messages.Conflict) as conflict:
        run(sandbox, report(key="edited", subject="After", attachments=None), state="draft")
    assert conflict.value.response_code == "ErrorIrresolvableConflict"


def test_absent_deletes_the_draft_and_never_a_sent_copy(sandbox, admin):
    drafted = run(sandbox, report(key="absent", subject="Absent"), state="draft")[0]
    deleted = run(sandbox, report(key="absent"), state="absent")[0]
    assert (deleted["changed"], deleted["status"], deleted["id"]) == (True, "absent", drafted["id"])
    assert run(sandbox, report(key="absent"), state="absent")[0]["changed"] is False
    run(sandbox, report(key="absent-sent", subject="Absent sent"))
    assert run(sandbox, report(key="absent-sent"), state="absent")[0]["changed"] is False
    assert run(sandbox, report(key="absent-sent", subject="Absent sent"))[0]["status"] == "already_sent"


# -- sizes ------------------------------------------------------------------------------------------

def test_attachments_too_big_for_one_request_go_up_in_several_and_arrive(sandbox, admin):
    admin.set_limits(max_request_bytes=1024 * 1024)
    try:
        values = report(key="split", subject="Split", body="<p>Parts.</p>", max_request_size_mb=1, attachments=[
            {"name": "part-%d.bin" % index, "content": base64.b64encode(bytes([index]) * 300000).decode(),
             "encoding": "base64"} for index in range(3)])
        since = last_seq(admin)
        result = run(sandbox, values)[0]
    finally:
        admin.set_limits(max_request_bytes=67108864)
    assert result["status"] == "sent"
    # Three of 400 KB in base64 do not fit in one request of 1 MB with the message: the draft, then 2 + 1.
    assert operations(admin, since).count("CreateAttachment") == 2
    [entry] = delivered(admin, "Split")
    mime = admin.delivery_mime(entry["seq"])
    assert all(("part-%d.bin" % index).encode() in mime for index in range(3))


def test_an_attachment_no_request_can_carry_is_refused_before_any_request(sandbox, admin):
    values = report(key="huge", body="<p>Huge.</p>", max_request_size_mb=1, max_send_size_mb=100, attachments=[
        {"name": "huge.bin", "content": "A" * 900000}])
    with pytest.raises(EwsError) as refused:
        messages.MessageSpec.from_params(values)
    assert "attachments[0] (huge.bin)" in str(refused.value) and "max_request_size_mb 1" in str(refused.value)


# -- deferred delivery ----------------------------------------------------------------------------

def test_deferred_delivery_is_held_in_the_outbox_and_counts_as_sent(sandbox, admin):
    result = run(sandbox, report(key="later", subject="Later", deliver_at="2099-01-01T07:00:00Z"))[0]
    again = run(sandbox, report(key="later", subject="Later", deliver_at="2099-01-01T07:00:00Z"))[0]
    pending = [entry for entry in admin.outbox()["pending"] if entry["subject"] == "Later"]
    admin.reset()   # withdraw it: the other tests wait for an empty Outbox
    assert (result["status"], again["status"]) == ("sent", "already_sent")
    assert len(pending) == 1 and pending[0]["due"].startswith("2099-01-01T07:00:00")


@pytest.mark.parametrize("state, name, expected", [
    (None, "exchange.ews.message", "sent"), (None, "message", "sent"), (None, "exchange.ews.draft", "draft"),
    (None, "draft", "draft"), ("present", "exchange.ews.draft", "draft"), ("present", "exchange.ews.message", "draft"),
    ("absent", "exchange.ews.draft", "absent"), ("draft", "exchange.ews.message", "draft"),
    ("sent", "exchange.ews.message", "sent"),
])
def test_the_state_follows_the_name_the_task_used(state, name, expected):
    assert messages.resolve_state(state, name) == expected


@pytest.mark.parametrize("name", ["exchange.ews.draft", "draft"])
def test_a_task_written_as_draft_never_sends(name):
    with pytest.raises(EwsError, match="never sends"):
        messages.resolve_state("sent", name)


def test_headers_no_longer_listed_are_removed(sandbox, admin):
    values = report(key="headers", subject="Headers", attachments=None, body="<p>h</p>",
                    headers={"X-Campaign": "q3", "X-Ticket": 4711})
    created = run(sandbox, values, state="draft")[0]
    values["headers"] = {"X-Campaign": "q4"}
    updated = run(sandbox, values, state="draft")[0]
    assert updated["changed_fields"] == ["headers"]
    with client_for(sandbox) as client:
        message = GetItem(client).call([created["id"]], extended_paths=[
            messages.header_path("X-Campaign"), messages.header_path("X-Ticket")])[0]
    assert extended_properties(first_item(message)) == {"X-Campaign": "q4"}
    assert run(sandbox, values, state="draft")[0]["changed"] is False


@pytest.mark.parametrize("check_mode", [False, True])
def test_sending_a_key_with_no_draft_and_no_recipients_creates_nothing(sandbox, admin, check_mode):
    since = last_seq(admin)
    with pytest.raises(EwsError) as nothing:
        run(sandbox, params(key="never-prepared"), check_mode=check_mode)
    assert nothing.value.response_code == "EwsNoMessageForKey" and "never-prepared" in str(nothing.value)
    assert operations(admin, since) == ["FindItem"]


def test_sending_a_prepared_draft_by_its_key_alone_keeps_its_content(sandbox, admin):
    run(sandbox, report(key="prepared", subject="Prepared"), state="draft")
    result = run(sandbox, params(key="prepared"))[0]
    assert (result["status"], result["changed_fields"]) == ("sent", [])
    [entry] = delivered(admin, "Prepared")
    assert sorted(entry["recipients"]) == [BOB, CAROL]


def test_a_server_clock_that_never_passes_the_creation_time_ends_the_wait_clearly():
    """Two clocks (the front end's Date, the mailbox's creation time) far apart: the run ends, saying so."""
    import datetime

    created = datetime.datetime(2024, 5, 10, 12, 0, 30, tzinfo=datetime.timezone.utc)

    class Backend:
        """A mailbox whose clock stays 30 s behind the draft's creation time (no server can be asked for that)."""
        server_time = datetime.datetime(2024, 5, 10, 12, 0, 0, tzinfo=datetime.timezone.utc)
        max_request_bytes = max_attachment_bytes = None
        calls = 0

        def created(self, identifier):
            Backend.calls += 1
            return created

    now = [0.0]
    keyed = messages.KeyedMessage(Backend(), messages.MessageSpec.from_params(params(key="skew")), deadline=900,
                                  sleep=lambda seconds: now.__setitem__(0, now[0] + seconds), clock=lambda: now[0])
    with pytest.raises(EwsError) as skew:
        keyed._wait_past("AAMk", created)
    assert skew.value.response_code == "EwsClockSkew" and "disagree on the time" in str(skew.value)
    assert 30 <= now[0] <= 33 and Backend.calls <= 20


def test_a_draft_sent_by_another_run_while_this_one_updates_it_is_reported_already_sent(
        sandbox, admin, monkeypatch):
    seed_draft(admin, "overtaken", subject="Old")
    real_update = messages.KeyedMessage.update
    overtaken = []

    def another_run_first(self, current, changed):
        if not overtaken:
            overtaken.append(None)      # the other run's own update goes straight through
            overtaken[0] = run(sandbox, report(key="overtaken", subject="Overtaken", attachments=None,
                                               body="<p>x</p>"))[0]
        return real_update(self, current, changed)
    monkeypatch.setattr(messages.KeyedMessage, "update", another_run_first)
    result = run(sandbox, report(key="overtaken", subject="Overtaken", attachments=None, body="<p>x</p>"))[0]
    assert (overtaken[0]["status"], result["status"]) == ("sent", "already_sent")
    assert len(delivered(admin, "Overtaken")) == 1


def test_a_search_whose_answers_keep_being_lost_fails_the_task_once(sandbox, admin):
    """Reads are asked again once by the service; after that the loss is the task's failure, not a reason to loop."""
    admin.add_fault("drop_after_commit", operation="FindItem", times=2)
    since = last_seq(admin)
    with pytest.raises(EwsError) as lost:
        run(sandbox, report(key="lost-search", subject="Lost search"))
    admin.clear_faults()
    assert lost.value.operation == "FindItem"
    assert operations(admin, since) == ["FindItem", "FindItem"]
