"""CreateItem, GetItem, UpdateItem, DeleteItem, GetFolder."""

import threading
import time

import pytest

from ews_sandbox import soap
from ews_sandbox.ids import decode_item_id
from ews_sandbox.namespaces import qm, qt

from ews_test_support import (ALICE, BOB, CAROL, Env, get_items, item_ids, marker_property, marker_uri,
                              messages)


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


def update(env, item_id, change_key, updates, conflict="NeverOverwrite", mailbox=ALICE):
    return messages(env.call("UpdateItem", """
        <m:UpdateItem ConflictResolution="%s" MessageDisposition="SaveOnly"><m:ItemChanges>
          <t:ItemChange><t:ItemId Id="%s" ChangeKey="%s"/><t:Updates>%s</t:Updates></t:ItemChange>
        </m:ItemChanges></m:UpdateItem>""" % (conflict, item_id, change_key, updates), mailbox))


def stored(env, item_id):
    return env.store.get_item(decode_item_id(item_id).uuid)


def set_marker(value, name="ExchangeEwsSendState"):
    return "<t:SetItemField>%s<t:Message>%s</t:Message></t:SetItemField>" % (marker_uri(name), marker_property(name, value))


def test_create_save_only_returns_id_and_get_item_shapes(env):
    item_id, change_key = env.draft(subject="Report", extended=marker_property(value="v1"))
    assert item_id.startswith("AAMk") and change_key.startswith("CQAAAB")
    (klass, code, message), = messages(env.call("GetItem", """
        <m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>
          <t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="item:IsDraft"/>
          <t:FieldURI FieldURI="message:ToRecipients"/><t:FieldURI FieldURI="item:DateTimeCreated"/>
          <t:FieldURI FieldURI="item:LastModifiedTime"/><t:FieldURI FieldURI="item:Categories"/>%s
          %s</t:AdditionalProperties></m:ItemShape>
        <m:ItemIds>%s</m:ItemIds></m:GetItem>""" % (marker_uri(), marker_uri("Absent"), item_ids((item_id, change_key)))))
    assert (klass, code) == ("Success", "NoError")
    item = message.find(qm("Items")).find(qt("Message"))
    assert item.findtext(qt("Subject")) == "Report"
    assert item.findtext(qt("IsDraft")) == "true"
    assert item.find(qt("ToRecipients")).findtext(qt("Mailbox") + "/" + qt("EmailAddress")) == BOB
    assert item.findtext(qt("DateTimeCreated")).endswith("Z")
    extended, = item.findall(qt("ExtendedProperty"))    # absent properties are left out, like Exchange
    assert extended.find(qt("ExtendedFieldURI")).get("PropertyName") == "ExchangeEwsSendMarker"
    assert extended.findtext(qt("Value")) == "v1"


@pytest.mark.parametrize("shape", ["Default", "AllProperties"])
def test_base_shapes(env, shape):
    draft = env.draft()
    (_, code, message), = messages(env.call("GetItem", """<m:GetItem><m:ItemShape><t:BaseShape>%s</t:BaseShape></m:ItemShape>
        <m:ItemIds>%s</m:ItemIds></m:GetItem>""" % (shape, item_ids(draft))))
    assert code == "NoError"
    item = message.find(qm("Items")).find(qt("Message"))
    assert item.findtext(qt("Subject")) == "Hello"
    assert (item.find(qt("Body")) is not None) == (shape == "AllProperties")


def test_get_item_errors_in_order(env):
    draft = env.draft()
    env.store.delete_item(stored(env, draft[0]))
    other = env.draft()
    results = get_items(env, [("%BadItemId%", "x"), draft, other])
    assert [code for _, code, _ in results] == ["ErrorInvalidIdMalformed", "ErrorItemNotFound", "NoError"]
    assert results[0][2].find(qm("Items")) is not None


def test_get_item_needs_read_right_on_other_mailboxes(env):
    draft = env.draft()
    assert get_items(env, [draft], mailbox=CAROL)[0][1] == "ErrorAccessDenied"
    assert get_items(env, [draft], mailbox=BOB)[0][1] == "NoError"


def test_create_in_another_mailbox_drafts(env):
    folder = ('<m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"><t:Mailbox><t:EmailAddress>%s</t:EmailAddress>'
              '</t:Mailbox></t:DistinguishedFolderId></m:SavedItemFolderId>' % ALICE)
    draft = env.draft(mailbox=BOB, folder=folder)
    item = stored(env, draft[0])
    assert item.mailbox == ALICE and item.folder_uuid == env.store.distinguished_folder(ALICE, "drafts")
    with pytest.raises(AssertionError):
        env.draft(mailbox=CAROL, folder=folder)


def test_create_send_only_and_send_and_save_copy(env):
    body = """<m:CreateItem MessageDisposition="%s">%s<m:Items><t:Message><t:Subject>%s</t:Subject>
        <t:ToRecipients><t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message></m:Items>
        </m:CreateItem>"""
    (_, code, message), = messages(env.call("CreateItem", body % ("SendOnly", "", "direct", BOB)))
    assert code == "NoError" and len(message.find(qm("Items"))) == 0
    (_, code, _), = messages(env.call("CreateItem", body % ("SendAndSaveCopy", "", "copied", BOB)))
    assert code == "NoError"
    assert env.store.folder_counts(env.store.distinguished_folder(ALICE, "outbox"))[0] == 2
    assert env.deliver_outbox() == 2
    assert [e["subject"] for e in env.delivery.log()] == ["direct", "copied"]
    sent = env.store.folder_counts(env.store.distinguished_folder(ALICE, "sentitems"))
    drafts = env.store.folder_counts(env.store.distinguished_folder(ALICE, "drafts"))
    assert (sent[0], drafts[0]) == (1, 0)
    (klass, code, _), = messages(env.call("CreateItem", """<m:CreateItem><m:Items><t:Message><t:Subject>x</t:Subject>
        </t:Message></m:Items></m:CreateItem>"""))
    assert code == "ErrorMessageDispositionRequired"


def test_update_is_a_compare_and_set_with_never_overwrite(env):
    item_id, first_key = env.draft()
    (_, code, message), = update(env, item_id, first_key, set_marker("pending:run1:1"))
    assert code == "NoError"
    new_id = message.find(".//" + qt("ItemId"))
    assert new_id.get("Id") == item_id and new_id.get("ChangeKey") != first_key
    assert message.find(qm("ConflictResults")).findtext(qt("Count")) == "0"
    (klass, code, message), = update(env, item_id, first_key, set_marker("pending:run2:1"))
    assert (klass, code) == ("Error", "ErrorIrresolvableConflict")
    assert message.findtext(qm("MessageText")).startswith("The send or update operation could not be performed")
    (_, code, _), = update(env, item_id, first_key, set_marker("pending:run2:1"), conflict="AlwaysOverwrite")
    assert code == "NoError"
    (_, _, got), = get_items(env, [(item_id, "")], marker_uri("ExchangeEwsSendState"))
    assert got.findtext(".//" + qt("Value")) == "pending:run2:1"


def test_update_fields_append_and_delete(env):
    item_id, key = env.draft(extended=marker_property(value="m"))
    updates = """
      <t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:Message><t:Subject>New</t:Subject></t:Message></t:SetItemField>
      <t:AppendToItemField><t:FieldURI FieldURI="message:ToRecipients"/><t:Message><t:ToRecipients>
        <t:Mailbox><t:EmailAddress>carol@sandbox.test</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message></t:AppendToItemField>
      <t:SetItemField><t:FieldURI FieldURI="item:Categories"/><t:Message><t:Categories><t:String>a</t:String>
        </t:Categories></t:Message></t:SetItemField>
      <t:DeleteItemField>%s</t:DeleteItemField>""" % marker_uri()
    assert update(env, item_id, key, updates)[0][1] == "NoError"
    item = stored(env, item_id)
    assert item.fields["subject"] == "New"
    assert [r["email"] for r in item.fields["to_recipients"]] == [BOB, CAROL]
    assert item.fields["categories"] == ["a"]
    assert item.extended == {}
    bad = '<t:SetItemField><t:FieldURI FieldURI="item:DateTimeCreated"/><t:Message/></t:SetItemField>'
    assert update(env, item_id, item.change_key, bad)[0][1] == "ErrorInvalidPropertySet"


def test_update_without_change_key_under_never_overwrite(env):
    item_id, _ = env.draft()
    assert update(env, item_id, "", set_marker("x"))[0][1] == "ErrorChangeKeyRequiredForWriteOperations"


def test_delete_types(env):
    hard, soft, moved = env.draft(), env.draft(), env.draft()
    for draft, delete_type in ((hard, "HardDelete"), (soft, "SoftDelete"), (moved, "MoveToDeletedItems")):
        (_, code, _), = messages(env.call("DeleteItem", '<m:DeleteItem DeleteType="%s"><m:ItemIds>%s</m:ItemIds></m:DeleteItem>'
                                          % (delete_type, item_ids(draft))))
        assert code == "NoError"
        assert get_items(env, [draft])[0][1] == "ErrorItemNotFound"
    assert env.store.folder_counts(env.store.distinguished_folder(ALICE, "deleteditems"))[0] == 1


def test_bulk_operations_on_a_thousand_ids_are_fast(env):
    ids = env.store.seed(ALICE, "drafts", 1000, to=[BOB])
    started = time.perf_counter()
    results = get_items(env, ids, marker_uri())
    assert len(results) == 1000 and {code for _, code, _ in results} == {"NoError"}
    changes = "".join('<t:ItemChange><t:ItemId Id="%s" ChangeKey="%s"/><t:Updates>%s</t:Updates></t:ItemChange>'
                      % (i, k, set_marker("pending:r:1")) for i, k in ids)
    results = messages(env.call("UpdateItem", '<m:UpdateItem ConflictResolution="NeverOverwrite"><m:ItemChanges>%s'
                                '</m:ItemChanges></m:UpdateItem>' % changes))
    assert {code for _, code, _ in results} == {"NoError"}
    new_keys = [(m.find(".//" + qt("ItemId")).get("Id"), m.find(".//" + qt("ItemId")).get("ChangeKey")) for _, _, m in results]
    results = messages(env.call("SendItem", '<m:SendItem SaveItemToFolder="true"><m:ItemIds>%s</m:ItemIds></m:SendItem>'
                                % item_ids(*new_keys)))
    assert {code for _, code, _ in results} == {"NoError"}
    results = messages(env.call("DeleteItem", '<m:DeleteItem DeleteType="HardDelete"><m:ItemIds>%s</m:ItemIds></m:DeleteItem>'
                                % item_ids(*ids)))
    assert {code for _, code, _ in results} == {"ErrorItemNotFound"}
    assert time.perf_counter() - started < 4 * 1000 * 0.005   # well under 5 ms per item and operation


def _stamp(env, pairs, value):
    """UpdateItem of ``pairs`` (id, ChangeKey) setting the state marker to ``value``: the ResponseCodes, in order."""
    changes = "".join('<t:ItemChange><t:ItemId Id="%s" ChangeKey="%s"/><t:Updates>%s</t:Updates></t:ItemChange>'
                      % (i, k, set_marker(value)) for i, k in pairs)
    return [code for _, code, _ in messages(env.call("UpdateItem", '<m:UpdateItem ConflictResolution="NeverOverwrite">'
                                                     '<m:ItemChanges>%s</m:ItemChanges></m:UpdateItem>' % changes))]


def test_concurrent_updates_carrying_one_change_key_let_exactly_one_through(env):
    drafts = [env.draft(subject="race %d" % n) for n in range(20)]
    codes = {}

    def worker(n):
        codes[n] = _stamp(env, drafts, "worker %d" % n)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for position, (item_id, _) in enumerate(drafts):
        per_worker = [codes[n][position] for n in range(4)]
        assert sorted(per_worker) == ["ErrorIrresolvableConflict"] * 3 + ["NoError"]
        winner = per_worker.index("NoError")
        assert [v for _, v in stored(env, item_id).extended.values()] == ["worker %d" % winner]


def test_an_item_named_twice_in_one_update_is_read_again_and_a_gone_one_stays_gone(env):
    draft, gone = env.draft(subject="twice"), env.draft(subject="gone")
    env.call("DeleteItem", '<m:DeleteItem DeleteType="HardDelete"><m:ItemIds>%s</m:ItemIds></m:DeleteItem>'
             % item_ids(gone))
    assert _stamp(env, [draft, gone, draft, gone], "x") == ["NoError", "ErrorItemNotFound", "ErrorIrresolvableConflict",
                                                          "ErrorItemNotFound"]


def test_item_messages_do_not_repeat_the_namespace_declarations(env):
    drafts = [env.draft(subject="ns %d" % n) for n in range(3)]
    for response in (env.call("GetItem", "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
                                         "<m:ItemIds>%s</m:ItemIds></m:GetItem>" % item_ids(*drafts)),
                     env.call("SendItem", '<m:SendItem SaveItemToFolder="false"><m:ItemIds>%s</m:ItemIds></m:SendItem>'
                                          % item_ids(*drafts))):
        data = soap.response_envelope(response, "Exchange2016")
        assert data.count(b"ResponseClass=\"Success\"") == 3
        assert (data.count(b"xmlns:m="), data.count(b"xmlns:t=")) == (1, 1)


def test_get_folder_with_counts_and_other_mailboxes(env):
    env.draft()
    env.draft()
    body = """<m:GetFolder><m:FolderShape><t:BaseShape>%s</t:BaseShape></m:FolderShape><m:FolderIds>
        <t:DistinguishedFolderId Id="drafts">%s</t:DistinguishedFolderId></m:FolderIds></m:GetFolder>"""
    alice = "<t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox>" % ALICE
    (_, code, message), = messages(env.call("GetFolder", body % ("Default", alice), mailbox=BOB))
    folder = message.find(qm("Folders")).find(qt("Folder"))
    assert code == "NoError"
    assert (folder.findtext(qt("DisplayName")), folder.findtext(qt("TotalCount"))) == ("Drafts", "2")
    (_, code, message), = messages(env.call("GetFolder", body % ("AllProperties", alice), mailbox=CAROL))
    assert code == "ErrorAccessDenied"
    (_, code, _), = messages(env.call("GetFolder", body % ("IdOnly", "<t:Mailbox><t:EmailAddress>nobody@x.test</t:EmailAddress></t:Mailbox>")))
    assert code == "ErrorNonExistentMailbox"
    folder_id = folder.find(qt("FolderId")).get("Id")
    (_, code, message), = messages(env.call("GetFolder", """<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape>
        </m:FolderShape><m:FolderIds><t:FolderId Id="%s"/></m:FolderIds></m:GetFolder>""" % folder_id))
    assert code == "NoError" and message.findtext(".//" + qt("FolderClass")) == "IPF.Note"


def test_update_with_send_and_save_copy_sends_the_updated_draft(env):
    item_id, key = env.draft(subject="before")
    (_, code, message), = messages(env.call("UpdateItem", """
        <m:UpdateItem ConflictResolution="NeverOverwrite" MessageDisposition="SendAndSaveCopy"><m:ItemChanges>
          <t:ItemChange><t:ItemId Id="%s" ChangeKey="%s"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/>
            <t:Message><t:Subject>after</t:Subject></t:Message></t:SetItemField></t:Updates></t:ItemChange>
        </m:ItemChanges></m:UpdateItem>""" % (item_id, key)))
    assert code == "NoError" and len(message.find(qm("Items"))) == 0
    env.deliver_outbox()
    assert [e["subject"] for e in env.delivery.log()] == ["after"]
    assert get_items(env, [(item_id, "")])[0][1] == "ErrorItemNotFound"
    assert env.store.folder_counts(env.store.distinguished_folder(ALICE, "sentitems"))[0] == 1


def test_read_only_properties_cannot_be_set_on_create(env):
    (klass, code, _), = messages(env.call("CreateItem", """<m:CreateItem MessageDisposition="SaveOnly"><m:Items>
        <t:Message><t:Subject>x</t:Subject><t:IsDraft>false</t:IsDraft></t:Message></m:Items></m:CreateItem>"""))
    assert (klass, code) == ("Error", "ErrorInvalidPropertySet")


def test_update_and_send_of_many_items_undoes_only_the_failing_items_writes(env):
    no_recipients, fine = env.draft(subject="a", to=()), env.draft(subject="b")
    changes = "".join("""<t:ItemChange><t:ItemId Id="%s" ChangeKey="%s"/><t:Updates><t:SetItemField>
        <t:FieldURI FieldURI="item:Subject"/><t:Message><t:Subject>sent %s</t:Subject></t:Message></t:SetItemField>
        </t:Updates></t:ItemChange>""" % (item_id, key, n) for n, (item_id, key) in enumerate([no_recipients, fine, fine]))
    results = messages(env.call("UpdateItem", """<m:UpdateItem ConflictResolution="NeverOverwrite"
        MessageDisposition="SendAndSaveCopy"><m:ItemChanges>%s</m:ItemChanges></m:UpdateItem>""" % changes))
    assert [code for _, code, _ in results] == ["ErrorInvalidRecipients", "NoError", "ErrorItemNotFound"]
    left = stored(env, no_recipients[0])
    assert (left.fields["subject"], left.change_key) == ("a", no_recipients[1])
    env.deliver_outbox()
    assert [e["subject"] for e in env.delivery.log()] == ["sent 1"]


def test_an_injected_item_error_stops_the_batch_in_every_operation(env):
    drafts = [env.draft(subject="s%d" % n) for n in range(3)]
    env.item_failure = (2, "ErrorInsufficientResources")
    stopped = ["NoError", "ErrorInsufficientResources", "ErrorBatchProcessingStopped"]
    results = get_items(env, drafts)
    assert [(klass, code) for klass, code, _ in results] == list(zip(["Success", "Error", "Warning"], stopped))
    assert results[2][2].find(qm("Items")) is not None           # an ItemInfo message keeps its (empty) Items
    changes = "".join('<t:ItemChange><t:ItemId Id="%s" ChangeKey="%s"/><t:Updates>%s</t:Updates></t:ItemChange>'
                      % (i, k, set_marker("x")) for i, k in drafts)
    results = messages(env.call("UpdateItem", '<m:UpdateItem ConflictResolution="NeverOverwrite"><m:ItemChanges>%s'
                                '</m:ItemChanges></m:UpdateItem>' % changes))
    assert [code for _, code, _ in results] == stopped
    assert [stored(env, i).change_key == k for i, k in drafts] == [False, True, True]   # only the first was written
    created = messages(env.call("CreateItem", '<m:CreateItem MessageDisposition="SaveOnly"><m:Items>%s</m:Items>'
                                '</m:CreateItem>' % ("<t:Message><t:Subject>new</t:Subject></t:Message>" * 3)))
    assert [code for _, code, _ in created] == stopped
    assert env.store.folder_counts(env.store.distinguished_folder(ALICE, "drafts"))[0] == 4
    deleted = messages(env.call("DeleteItem", '<m:DeleteItem DeleteType="HardDelete"><m:ItemIds>%s</m:ItemIds>'
                                '</m:DeleteItem>' % item_ids(*drafts)))
    assert [code for _, code, _ in deleted] == stopped
    assert env.store.folder_counts(env.store.distinguished_folder(ALICE, "drafts"))[0] == 3


def test_create_and_send_refused_for_another_reason_leaves_nothing(env):
    (klass, code, _), = messages(env.call("CreateItem", """<m:CreateItem MessageDisposition="SendOnly"><m:Items>
        <t:Message><t:ItemClass>IPM.Appointment</t:ItemClass><t:Subject>not a message</t:Subject><t:ToRecipients>
        <t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message></m:Items>
        </m:CreateItem>""" % BOB))
    assert (klass, code) == ("Error", "ErrorInvalidItemForOperationSendItem")
    assert env.store.folder_counts(env.store.distinguished_folder(ALICE, "drafts"))[0] == 0
