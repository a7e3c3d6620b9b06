"""Item behaviours of the exactly-once paths, end to end over HTTPS + NTLM against the session sandbox."""

from __future__ import annotations

from conftest import call, envelope, post, session_for
from ews_sandbox.namespaces import qm, qt

ALICE, BOB, CAROL = "alice@sandbox.test", "bob@sandbox.test", "carol@sandbox.test"


def test_an_empty_id_is_an_item_level_invalid_id_empty(clean_sandbox):
    [draft] = clean_sandbox.admin.seed(ALICE, to=[BOB])
    results = call(clean_sandbox, "GetItem", '<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
                   '<m:ItemIds><t:ItemId Id=""/><t:ItemId Id="%s"/></m:ItemIds></m:GetItem>' % draft["id"])
    assert [(klass, code) for klass, code, _ in results] == [("Error", "ErrorInvalidIdEmpty"), ("Success", "NoError")]
    results = call(clean_sandbox, "GetFolder", '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape>'
                   '</m:FolderShape><m:FolderIds><t:FolderId Id=""/></m:FolderIds></m:GetFolder>')
    assert [code for _, code, _ in results] == ["ErrorInvalidIdEmpty"]


def send_item(item_id: str, change_key: str | None, save: str = "true") -> str:
    key = "" if change_key is None else ' ChangeKey="%s"' % change_key
    return ('<m:SendItem SaveItemToFolder="%s"><m:ItemIds><t:ItemId Id="%s"%s/></m:ItemIds></m:SendItem>'
            % (save, item_id, key))


def test_send_item_without_a_change_key_is_stale_and_sends_nothing(clean_sandbox):
    drafts = clean_sandbox.admin.seed(ALICE, count=2, to=[BOB])
    for draft, change_key in zip(drafts, (None, "")):
        [(klass, code, _)] = call(clean_sandbox, "SendItem", send_item(draft["id"], change_key))
        assert (klass, code) == ("Error", "ErrorStaleObject")
    assert clean_sandbox.admin.deliveries() == []
    [(klass, code, _)] = call(clean_sandbox, "SendItem", send_item(drafts[0]["id"], drafts[0]["change_key"]))
    assert (klass, code) == ("Success", "NoError")


FIND_DRAFTS = ('<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>%s'
               '<m:ParentFolderIds><t:DistinguishedFolderId Id="drafts"/></m:ParentFolderIds></m:FindItem>')


def test_find_item_limits(clean_sandbox):
    clean_sandbox.admin.seed(ALICE, count=1001)
    [(klass, code, _)] = call(clean_sandbox, "FindItem", FIND_DRAFTS % "")
    assert (klass, code) == ("Error", "ErrorExceededFindCountLimit")
    paged = '<m:IndexedPageItemView MaxEntriesReturned="%s" Offset="0" BasePoint="Beginning"/>'
    [(klass, code, message)] = call(clean_sandbox, "FindItem", FIND_DRAFTS % (paged % "1000"))
    assert code == "NoError" and message.find(qm("RootFolder")).get("IncludesLastItemInRange") == "false"
    [(klass, code, _)] = call(clean_sandbox, "FindItem", FIND_DRAFTS % (paged % "-1"))
    assert (klass, code) == ("Error", "ErrorInvalidPagingMaxRows")
    response = post(session_for(clean_sandbox), clean_sandbox, envelope(FIND_DRAFTS % (paged % "all")), "FindItem")
    assert response.status_code == 500 and b"ErrorSchemaValidation" in response.content


def test_move_item_as_a_user(clean_sandbox):
    [draft] = clean_sandbox.admin.seed(ALICE, to=[BOB])
    body = ('<m:MoveItem><m:ToFolderId><t:DistinguishedFolderId Id="deleteditems"/></m:ToFolderId>'
            '<m:ItemIds><t:ItemId Id="%s"/></m:ItemIds><m:ReturnNewItemIds>true</m:ReturnNewItemIds></m:MoveItem>'
            % draft["id"])
    [(klass, code, message)] = call(clean_sandbox, "MoveItem", body)
    assert (klass, code) == ("Success", "NoError")
    new_id = message.find(".//" + qt("ItemId")).get("Id")
    assert new_id != draft["id"]
    [(_, code, _)] = call(clean_sandbox, "MoveItem", body)
    assert code == "ErrorItemNotFound"
    entry = clean_sandbox.admin.requests()[-1]
    assert (entry["operation"], entry["items"]) == ("MoveItem", 1)


def draft_from(sandbox, user: str, address: str) -> tuple[str, str]:
    [(_, code, message)] = call(sandbox, "CreateItem", '<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message>'
                                '<t:Subject>from %s</t:Subject><t:ToRecipients><t:Mailbox><t:EmailAddress>%s'
                                '</t:EmailAddress></t:Mailbox></t:ToRecipients><t:From><t:Mailbox><t:EmailAddress>%s'
                                '</t:EmailAddress></t:Mailbox></t:From></t:Message></m:Items></m:CreateItem>'
                                % (address, CAROL, address), user)
    assert code == "NoError"
    item_id = message.find(".//" + qt("ItemId"))
    return item_id.get("Id"), item_id.get("ChangeKey")


def test_send_as_on_behalf_and_denied(clean_sandbox):
    sandbox = clean_sandbox
    for user, address, expected in (("carol", ALICE, "ErrorSendAsDenied"), ("bob", ALICE, "NoError"),
                                    ("bob", "team@sandbox.test", "NoError")):
        item_id, change_key = draft_from(sandbox, user, address)
        [(_, code, _)] = call(sandbox, "SendItem", send_item(item_id, change_key, save="false"), user)
        assert code == expected, (user, address)
    sandbox.admin.wait_for_outbox()
    assert [(d["from"], d["sender"]) for d in sandbox.admin.deliveries()] == [
        (ALICE, BOB), ("team@sandbox.test", "team@sandbox.test")]
