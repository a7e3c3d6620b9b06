"""Sending submits: the message waits in the Outbox until the submitter delivers it and files the copy."""

import threading
import time

import pytest

from ews_sandbox import submission
from ews_sandbox.delivery import Delivery
from ews_sandbox.namespaces import qm, qt
from ews_sandbox.store import Store
from ews_sandbox.submission import Submitter

from ews_test_support import ALICE, BOB, Env, get_items, item_ids, marker_property, marker_uri, messages

FLAGS = '<t:ExtendedFieldURI PropertyTag="0x0E07" PropertyType="Integer"/>'


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


def send(env, ids, save="true", mailbox=ALICE):
    return messages(env.call("SendItem", '<m:SendItem SaveItemToFolder="%s"><m:ItemIds>%s</m:ItemIds></m:SendItem>'
                             % (save, item_ids(*ids)), mailbox))


def folder_items(env, folder, mailbox=ALICE, properties=""):
    """(ItemId, ChangeKey) and the t:Message of every item in a distinguished folder, via FindItem."""
    (_, code, message), = messages(env.call("FindItem", """<m:FindItem Traversal="Shallow"><m:ItemShape>
        <t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:IsDraft"/>
        <t:FieldURI FieldURI="item:DateTimeSent"/><t:FieldURI FieldURI="message:Sender"/>%s%s</t:AdditionalProperties>
        </m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="%s"/></m:ParentFolderIds></m:FindItem>"""
                                    % (FLAGS, properties, folder), mailbox))
    assert code == "NoError"
    found = message.find(qm("RootFolder")).find(qt("Items"))
    return [((m.find(qt("ItemId")).get("Id"), m.find(qt("ItemId")).get("ChangeKey")), m) for m in found]


def flags(message):
    return next(int(p.findtext(qt("Value"))) for p in message.iter(qt("ExtendedProperty"))
                if p.find(qt("ExtendedFieldURI")).get("PropertyTag") == "0x0E07")


def test_a_sent_message_waits_in_the_outbox_then_is_delivered_and_filed(env):
    draft = env.draft(extended=marker_property(value="m1"))
    assert flags(folder_items(env, "drafts")[0][1]) == 0x1 | 0x8         # mfRead | mfUnsent
    assert send(env, [draft])[0][:2] == ("Success", "NoError")
    assert get_items(env, [draft])[0][1] == "ErrorItemNotFound"           # moved: the old id is gone
    [(outbox_id, queued)] = folder_items(env, "outbox", properties=marker_uri())
    assert outbox_id[0] != draft[0]
    assert queued.findtext(qt("IsDraft")) == "false"                      # mfUnsent cleared by the submission
    assert flags(queued) == 0x1 | 0x4                                     # mfRead | mfSubmitted
    assert queued.findtext(qt("DateTimeSent"))
    assert queued.find(qt("ExtendedProperty") + "/" + qt("Value")) is not None
    assert env.delivery.log() == [] and folder_items(env, "inbox", BOB) == []

    assert env.deliver_outbox() == 1
    assert folder_items(env, "outbox") == [] and get_items(env, [outbox_id])[0][1] == "ErrorItemNotFound"
    [(sent_id, saved)] = folder_items(env, "sentitems", properties=marker_uri())
    assert sent_id[0] not in (draft[0], outbox_id[0]) and flags(saved) == 0x1
    assert [v.text for v in saved.iter(qt("Value"))][-1] == "m1"          # extended properties travel
    assert [e["marker"] for e in env.delivery.log()] == ["m1"]
    assert len(folder_items(env, "inbox", BOB)) == 1


def test_without_saving_the_delivered_message_leaves_the_outbox_and_no_copy(env):
    assert send(env, [env.draft()], save="false")[0][1] == "NoError"
    assert len(folder_items(env, "outbox")) == 1
    env.deliver_outbox()
    assert folder_items(env, "outbox") == [] and folder_items(env, "sentitems") == []
    assert len(env.delivery.log()) == 1


def test_a_message_deleted_or_moved_out_of_the_outbox_is_not_sent(env):
    send(env, [env.draft(subject="deleted"), env.draft(subject="moved")])
    outbox = folder_items(env, "outbox")
    assert messages(env.call("DeleteItem", '<m:DeleteItem DeleteType="HardDelete"><m:ItemIds>%s</m:ItemIds>'
                             '</m:DeleteItem>' % item_ids(outbox[0][0])))[0][1] == "NoError"
    assert messages(env.call("MoveItem", '<m:MoveItem><m:ToFolderId><t:DistinguishedFolderId Id="drafts"/>'
                             '</m:ToFolderId><m:ItemIds>%s</m:ItemIds></m:MoveItem>' % item_ids(outbox[1][0])))[0][1] == "NoError"
    assert env.deliver_outbox() == 0 and env.delivery.log() == []
    [(_, back)] = folder_items(env, "drafts")
    assert flags(back) == 0x1                                            # no longer submitted, not a draft again


def test_a_submitted_message_cannot_be_sent_again(env):
    send(env, [env.draft()])
    [(queued, _)] = folder_items(env, "outbox")
    (klass, code, _), = send(env, [queued])
    assert (klass, code) == ("Error", "ErrorInvalidOperation")
    env.deliver_outbox()
    assert len(env.delivery.log()) == 1


def test_the_delay_is_kept_per_message_and_survives_reopening(env, tmp_path):
    env.submitter.delay_ms = 60_000
    send(env, [env.draft(subject="later")])
    env.submitter.delay_ms = 0
    send(env, [env.draft(subject="now")])
    assert env.deliver_outbox() == 1
    assert [e["subject"] for e in env.delivery.log()] == ["now"]
    store = Store(tmp_path / "store.sqlite3")                             # a restart
    reopened = Submitter(store, Delivery(store, env.directory))
    [pending] = reopened.pending()
    assert pending["subject"] == "later" and 55_000 < pending["due_in_ms"] <= 60_000
    store.postpone_submission(store.due_submissions(time.time() + 61, 1)[0][0], time.time())
    assert reopened.deliver_due() == 1 and reopened.pending() == []


def test_an_unexpected_delivery_failure_keeps_the_message_for_a_retry(env, monkeypatch):
    send(env, [env.draft(subject="retried")])

    def broken(*args):
        raise RuntimeError("relay exploded")

    monkeypatch.setattr(env.delivery, "deliver", broken)
    assert env.deliver_outbox() == 0
    [pending] = env.submitter.pending()
    assert pending["subject"] == "retried" and pending["due_in_ms"] > 0
    assert len(folder_items(env, "outbox")) == 1
    monkeypatch.undo()
    env.store.postpone_submission(env.store.due_submissions(time.time() + 5, 1)[0][0], time.time())
    assert env.deliver_outbox() == 1


def _deliver_in_thread(env) -> tuple[threading.Thread, list]:
    delivered = []
    thread = threading.Thread(target=lambda: delivered.append(env.deliver_outbox()), daemon=True)
    thread.start()
    return thread, delivered


def test_the_submitter_waits_while_a_request_is_worked_on(env):
    send(env, [env.draft(subject="a"), env.draft(subject="b")])
    with env.submitter.paused():
        thread, delivered = _deliver_in_thread(env)
        thread.join(0.1)
        assert env.delivery.log() == [] and thread.is_alive()
    thread.join(10)
    assert delivered == [2] and len(env.delivery.log()) == 2


def test_the_submitter_delivers_anyway_when_requests_never_stop(env, monkeypatch):
    monkeypatch.setattr(submission, "GIVE_WAY_SECONDS", 0.05)
    send(env, [env.draft(subject="a"), env.draft(subject="b")])
    with env.submitter.paused():
        thread, delivered = _deliver_in_thread(env)
        thread.join(10)
        assert delivered == [2]


def test_a_request_coming_during_deliveries_waits_for_one_message_not_the_batch(env, monkeypatch):
    send(env, [env.draft(subject=subject) for subject in "abc"])
    deliver, seen = env.delivery.deliver, []
    request_started = threading.Event()

    def request():
        with env.submitter.paused():
            request_started.set()
            with env.store.request_transaction() as conn:
                seen.append(conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0])

    def deliver_while_a_request_comes(*args):
        if not request_started.is_set():
            threading.Thread(target=request, daemon=True).start()
            assert request_started.wait(10)
        return deliver(*args)

    monkeypatch.setattr(env.delivery, "deliver", deliver_while_a_request_comes)
    assert env.deliver_outbox() == 3
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [1]      # the submitter committed its first message and let the request in


def test_message_flags_in_restrictions_and_as_read_only(env):
    env.draft(subject="draft")
    send(env, [env.draft(subject="queued")])
    equal = ('<t:IsEqualTo>%s<t:FieldURIOrConstant><t:Constant Value="%d"/></t:FieldURIOrConstant></t:IsEqualTo>')
    for folder, value, expected in (("outbox", 5, 1), ("outbox", 9, 0), ("drafts", 9, 1)):
        (_, code, message), = messages(env.call("FindItem", """<m:FindItem Traversal="Shallow"><m:ItemShape>
            <t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:Restriction>%s</m:Restriction><m:ParentFolderIds>
            <t:DistinguishedFolderId Id="%s"/></m:ParentFolderIds></m:FindItem>""" % (equal % (FLAGS, value), folder)))
        assert message.find(qm("RootFolder")).get("TotalItemsInView") == str(expected)
    (_, code, _), = messages(env.call("CreateItem", """<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message>
        <t:ExtendedProperty>%s<t:Value>0</t:Value></t:ExtendedProperty></t:Message></m:Items></m:CreateItem>""" % FLAGS))
    assert code == "ErrorInvalidPropertySet"
