import threading

import pytest

from ews_sandbox.namespaces import qm, qt

from ews_test_support import (ALICE, BOB, CAROL, TEAM, Env, get_items, item_ids, marker_property, marker_uri, messages)


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


def send(env, ids, save="true", folder="", mailbox=ALICE):
    """SendItem, then the submitter's run: what the request answered, the messages delivered and filed."""
    results = messages(env.call("SendItem", '<m:SendItem SaveItemToFolder="%s"><m:ItemIds>%s</m:ItemIds>%s</m:SendItem>'
                                % (save, item_ids(*ids), folder), mailbox))
    env.deliver_outbox()
    return results


def find_in(env, folder, mailbox_of_folder=None, caller=ALICE, properties=""):
    mailbox = "<t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox>" % mailbox_of_folder if mailbox_of_folder else ""
    (klass, code, message), = messages(env.call("FindItem", """
        <m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>
          <t:AdditionalProperties><t:FieldURI FieldURI="item:IsDraft"/>%s</t:AdditionalProperties></m:ItemShape>
          <m:ParentFolderIds><t:DistinguishedFolderId Id="%s">%s</t:DistinguishedFolderId></m:ParentFolderIds>
        </m:FindItem>""" % (properties, folder, mailbox), caller))
    assert code == "NoError"
    return message.find(qm("RootFolder")).find(qt("Items")).findall(qt("Message"))


def test_send_saves_to_sent_items_with_a_new_id_and_keeps_extended_properties(env):
    draft = env.draft(extended=marker_property(value="abc"))
    assert send(env, [draft])[0][:2] == ("Success", "NoError")
    (klass, code, message), = get_items(env, [draft])
    assert (klass, code) == ("Error", "ErrorItemNotFound")
    assert message.findtext(qm("MessageText")) == "The specified object was not found in the store."
    saved, = find_in(env, "sentitems", properties=marker_uri())
    assert saved.find(qt("ItemId")).get("Id") != draft[0]
    assert saved.findtext(qt("IsDraft")) == "false"
    assert saved.find(qt("ExtendedProperty")).findtext(qt("Value")) == "abc"
    assert find_in(env, "drafts") == []
    log = env.delivery.log()
    assert [(e["marker"], e["route"], e["recipients"]) for e in log] == [("abc", "local", [BOB])]
    assert len(find_in(env, "inbox", caller=BOB)) == 1


def test_send_without_saving_deletes_the_draft(env):
    draft = env.draft()
    assert send(env, [draft], save="false")[0][1] == "NoError"
    assert get_items(env, [draft])[0][1] == "ErrorItemNotFound"
    assert find_in(env, "sentitems") == []
    assert len(env.delivery.log()) == 1


def test_save_false_with_a_folder_is_invalid(env):
    draft = env.draft()
    (klass, code, _), = send(env, [draft], save="false",
                             folder='<m:SavedItemFolderId><t:DistinguishedFolderId Id="sentitems"/></m:SavedItemFolderId>')
    assert (klass, code) == ("Error", "ErrorInvalidSendItemSaveSettings")
    assert env.delivery.log() == []


def test_bad_id_answers_exactly_like_the_seed(env):
    (klass, code, message), = send(env, [("%BadItemId%", "CQAAABYAAA")])
    assert klass == "Error"
    assert [(etree_name(c), c.text) for c in message] == [
        ("MessageText", "Id is malformed."), ("ResponseCode", "ErrorInvalidIdMalformed"), ("DescriptiveLinkKey", "0")]


def etree_name(element):
    return element.tag.split("}")[1]


def test_many_ids_answer_in_order(env):
    first, second = env.draft(subject="one"), env.draft(subject="two")
    results = send(env, [first, ("%BadItemId%", "x"), second, first])
    assert [code for _, code, _ in results] == ["NoError", "ErrorInvalidIdMalformed", "NoError", "ErrorItemNotFound"]
    assert [e["subject"] for e in env.delivery.log()] == ["one", "two"]


@pytest.mark.parametrize("change_key", ["CQAAABYAAAAstale", ""])
def test_stale_change_key_is_refused_and_nothing_is_sent(env, change_key):
    item_id, _ = env.draft()
    (klass, code, _), = send(env, [(item_id, change_key)])
    assert (klass, code) == ("Error", "ErrorStaleObject")
    assert env.delivery.log() == []
    assert get_items(env, [(item_id, "x")])[0][1] == "NoError"


def test_non_message_and_no_recipients(env):
    appointment, = env.store.seed(ALICE, "drafts", 1, to=[BOB], item_class="IPM.Appointment")
    no_recipients = env.draft(to=())
    results = send(env, [appointment, no_recipients])
    assert [code for _, code, _ in results] == ["ErrorInvalidItemForOperationSendItem", "ErrorInvalidRecipients"]
    assert results[1][2].findtext(qm("MessageText")).startswith("At least one recipient")


def test_send_rights_for_other_mailboxes(env):
    draft = env.draft()
    assert send(env, [draft], mailbox=CAROL)[0][1] == "ErrorAccessDenied"
    sent_items = '<m:SavedItemFolderId><t:DistinguishedFolderId Id="sentitems"><t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:SavedItemFolderId>' % ALICE
    assert send(env, [draft], folder=sent_items, mailbox=BOB)[0][1] == "NoError"
    assert len(find_in(env, "sentitems")) == 1   # the documented workaround: copy in the principal's Sent Items


@pytest.mark.parametrize("folder", ["", '<m:SavedItemFolderId><t:DistinguishedFolderId Id="sentitems"/></m:SavedItemFolderId>'])
def test_quirk_1_delegate_sends_principal_draft(env, folder):
    draft = env.draft(extended=marker_property(value="q1"))
    assert send(env, [draft], folder=folder, mailbox=BOB)[0][1] == "NoError"
    (_, code, message), = get_items(env, [draft])
    assert code == "NoError"                                      # still in alice's Drafts...
    assert message.findtext(".//" + qt("IsDraft")) == "false"     # ...but no longer a draft
    assert message.find(".//" + qt("ItemId")).get("ChangeKey") != draft[1]
    assert find_in(env, "sentitems") == [] and find_in(env, "sentitems", caller=BOB) == []
    assert [e["marker"] for e in env.delivery.log()] == ["q1"]


def test_quirk_2_delegate_sends_own_draft_to_principal_sent_items(env):
    draft = env.draft(mailbox=BOB, to=(CAROL,))
    principal_sent = '<m:SavedItemFolderId><t:DistinguishedFolderId Id="sentitems"><t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:SavedItemFolderId>' % ALICE
    assert send(env, [draft], folder=principal_sent, mailbox=BOB)[0][1] == "NoError"
    assert get_items(env, [draft], mailbox=BOB)[0][2].findtext(".//" + qt("IsDraft")) == "false"
    assert find_in(env, "sentitems") == [] and find_in(env, "sentitems", caller=BOB) == []
    assert len(env.delivery.log()) == 1


def test_quirks_can_be_switched_off(env):
    env.store.delegate_quirks = False
    draft = env.draft()
    assert send(env, [draft], mailbox=BOB)[0][1] == "NoError"
    assert get_items(env, [draft])[0][1] == "ErrorItemNotFound"
    assert len(find_in(env, "sentitems", caller=BOB)) == 1


def test_concurrent_sends_of_one_draft_send_it_once(env):
    drafts = [env.draft(subject="race %d" % n) for n in range(20)]
    results = []

    def worker():
        results.extend(code for _, code, _ in send(env, drafts))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("NoError") == 20
    assert len(env.delivery.log()) == 20


def test_a_draft_left_behind_and_sent_again_is_logged_twice(env):
    draft = env.draft(extended=marker_property(value="twice"))
    send(env, [draft], mailbox=BOB)     # quirk 1 leaves it behind, with a new ChangeKey
    (_, _, left), = get_items(env, [draft])
    assert send(env, [(draft[0], left.find(".//" + qt("ItemId")).get("ChangeKey"))])[0][1] == "NoError"
    assert [e["marker"] for e in env.delivery.log()] == ["twice", "twice"]


def from_element(address):
    return "<t:From><t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox></t:From>" % address


def draft_from(env, mailbox, address, to=(CAROL,)):
    """A draft in ``mailbox``'s Drafts whose From is ``address`` (CreateItem SaveOnly accepts any From)."""
    recipients = "".join("<t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox>" % a for a in to)
    (_, code, message), = messages(env.call("CreateItem", """<m:CreateItem MessageDisposition="SaveOnly"><m:Items>
        <t:Message><t:Subject>from %s</t:Subject><t:ToRecipients>%s</t:ToRecipients>%s</t:Message></m:Items>
        </m:CreateItem>""" % (address, recipients, from_element(address)), mailbox))
    assert code == "NoError"
    item_id = message.find(".//" + qt("ItemId"))
    return item_id.get("Id"), item_id.get("ChangeKey")


def inbox_copy(env, mailbox=CAROL):
    _, (copy,) = env.store.find_items([env.store.distinguished_folder(mailbox, "inbox")])
    return copy.fields["from_mailbox"]["email"], (copy.fields["sender_mailbox"] or {}).get("email")


def test_a_from_the_sender_may_not_use_is_send_as_denied(env):
    draft = draft_from(env, CAROL, ALICE)
    (klass, code, _), = send(env, [draft], mailbox=CAROL)
    assert (klass, code) == ("Error", "ErrorSendAsDenied")
    assert env.delivery.log() == []
    assert get_items(env, [draft], mailbox=CAROL)[0][1] == "NoError"       # the draft is untouched
    outside = draft_from(env, CAROL, "ceo@example.org")
    assert send(env, [outside], mailbox=CAROL)[0][1] == "ErrorSendAsDenied"


def test_send_on_behalf_shows_the_delegate_as_sender(env):
    draft = draft_from(env, BOB, ALICE)                # bob has "send" on alice: send on behalf
    assert send(env, [draft], mailbox=BOB)[0][1] == "NoError"
    assert inbox_copy(env) == (ALICE, BOB)
    assert [e["from"] for e in env.delivery.log()] == [ALICE]


def test_send_as_shows_no_trace_of_the_delegate(env):
    draft = draft_from(env, BOB, TEAM)                 # bob has "send_as" on team
    assert send(env, [draft], mailbox=BOB)[0][1] == "NoError"
    assert inbox_copy(env) == (TEAM, TEAM)


def test_an_own_message_has_the_owner_as_sender(env):
    assert send(env, [env.draft(to=(CAROL,))])[0][1] == "NoError"
    assert inbox_copy(env) == (ALICE, ALICE)


def test_create_and_send_with_a_forbidden_from_leaves_the_message_in_drafts(env):
    """ResponseCode reference, ErrorSendAsDenied: the message is created in Drafts, and not sent."""
    (klass, code, _), = messages(env.call("CreateItem", """<m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items>
        <t:Message><t:Subject>spoofed</t:Subject><t:ToRecipients><t:Mailbox><t:EmailAddress>%s</t:EmailAddress>
        </t:Mailbox></t:ToRecipients>%s</t:Message></m:Items></m:CreateItem>""" % (BOB, from_element(ALICE)), CAROL))
    assert (klass, code) == ("Error", "ErrorSendAsDenied")
    assert env.delivery.log() == []
    _, left = env.store.find_items([env.store.distinguished_folder(CAROL, "drafts")])
    assert [(i.fields["subject"], i.fields["is_draft"]) for i in left] == [("spoofed", True)]
