"""MoveItem: items to one folder (distinguished or FolderId, in any mailbox the caller may write), new ItemIds."""

import pytest

from ews_sandbox.ids import decode_item_id, encode_folder_id
from ews_sandbox.namespaces import qm, qt

from ews_test_support import ALICE, BOB, CAROL, Env, get_items, item_ids, marker_property, marker_uri, messages


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


def move(env, ids, folder='<t:DistinguishedFolderId Id="inbox"/>', return_new_ids="", mailbox=ALICE):
    flag = "<m:ReturnNewItemIds>%s</m:ReturnNewItemIds>" % return_new_ids if return_new_ids else ""
    return messages(env.call("MoveItem", "<m:MoveItem><m:ToFolderId>%s</m:ToFolderId><m:ItemIds>%s</m:ItemIds>%s"
                             "</m:MoveItem>" % (folder, item_ids(*ids), flag), mailbox))


def new_id(message):
    item_id = message.find(qm("Items")).find("*/" + qt("ItemId"))
    return item_id.get("Id"), item_id.get("ChangeKey")


def folder_of(env, item_id):
    item = env.store.get_item(decode_item_id(item_id).uuid)
    return env.store.folder(item.folder_uuid).distinguished


def test_move_returns_new_ids_and_extended_properties_travel(env):
    draft = env.draft(extended=marker_property(value="moved"))
    (klass, code, message), = move(env, [draft])
    assert (klass, code) == ("Success", "NoError")
    assert message.find(qm("Items"))[0].tag == qt("Message")
    moved = new_id(message)
    assert moved[0] != draft[0] and moved[1] != draft[1]
    assert get_items(env, [draft])[0][1] == "ErrorItemNotFound"
    (_, code, got), = get_items(env, [moved], marker_uri())
    assert code == "NoError" and got.findtext(".//" + qt("Value")) == "moved"
    assert got.findtext(".//" + qt("IsDraft")) == "true"        # a draft moved is still a draft
    assert folder_of(env, moved[0]) == "inbox"


def test_return_new_item_ids_false_answers_without_ids(env):
    draft = env.draft()
    (klass, code, message), = move(env, [draft], return_new_ids="false")
    assert code == "NoError" and len(message.find(qm("Items"))) == 0


def test_a_folder_id_target_and_per_item_errors_in_order(env):
    sent_items = env.store.distinguished_folder(ALICE, "sentitems")
    folder = '<t:FolderId Id="%s"/>' % encode_folder_id(ALICE, sent_items)
    first, second = env.draft(), env.draft()
    results = move(env, [first, ("%BadItemId%", "x"), second, first], folder=folder)
    assert [code for _, code, _ in results] == ["NoError", "ErrorInvalidIdMalformed", "NoError", "ErrorItemNotFound"]
    assert results[1][2].find(qm("Items")) is not None
    assert env.store.folder_counts(sent_items)[0] == 2


def test_access_rights_on_the_item_and_the_target(env):
    draft = env.draft()
    alice_inbox = ('<t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox>'
                   '</t:DistinguishedFolderId>' % ALICE)
    assert move(env, [draft], mailbox=CAROL)[0][1] == "ErrorAccessDenied"              # no right on alice's item
    assert [code for _, code, _ in move(env, [draft], folder=alice_inbox, mailbox=CAROL)] == ["ErrorAccessDenied"]
    (_, code, message), = move(env, [draft], folder=alice_inbox, mailbox=BOB)          # a delegate with create
    assert code == "NoError" and folder_of(env, new_id(message)[0]) == "inbox"
    bob_draft = env.draft(mailbox=BOB)
    (_, code, _), = move(env, [bob_draft], folder=alice_inbox, mailbox=BOB)
    assert code == "NoError"
    carol_inbox = alice_inbox.replace(ALICE, CAROL)
    assert move(env, [env.draft(mailbox=BOB)], folder=carol_inbox, mailbox=BOB)[0][1] == "ErrorAccessDenied"


def test_a_move_to_another_mailbox_returns_no_id(env):
    """Exchange returns no new ItemId for a cross-mailbox move (MoveItem operation reference)."""
    bob_draft = env.draft(mailbox=BOB, subject="to alice")
    alice_drafts = ('<t:DistinguishedFolderId Id="drafts"><t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox>'
                    '</t:DistinguishedFolderId>' % ALICE)
    (_, code, message), = move(env, [bob_draft], folder=alice_drafts, mailbox=BOB)
    assert code == "NoError" and len(message.find(qm("Items"))) == 0
    _, moved = env.store.find_items([env.store.distinguished_folder(ALICE, "drafts")])
    assert [item.fields["subject"] for item in moved] == ["to alice"]


def test_an_unknown_target_folder_fails_every_item(env):
    gone = '<t:FolderId Id="%s"/>' % encode_folder_id(ALICE, "0" * 32)
    assert [code for _, code, _ in move(env, [env.draft(), env.draft()], folder=gone)] == ["ErrorFolderNotFound"] * 2
