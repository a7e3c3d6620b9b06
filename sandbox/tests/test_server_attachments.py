"""File attachments over HTTPS + NTLM: CreateItem with t:Attachments, CreateAttachment, GetAttachment,
DeleteAttachment, and what GetItem / FindItem say about them."""

from __future__ import annotations

import base64

import pytest

from conftest import call, envelope, fault_of, find_items, post, session_for
from ews_sandbox.namespaces import qm, qt

ALICE, BOB, CAROL = "alice@sandbox.test", "bob@sandbox.test", "carol@sandbox.test"
REPORT = b"%PDF-1.4 quarterly numbers"
LOGO = b"\x89PNG\r\n\x1a\n logo"


def file_attachment(name: str | None, content: bytes, content_type: str = "application/pdf", inline: bool = False,
                    content_id: str | None = None) -> str:
    return ("<t:FileAttachment>%s<t:ContentType>%s</t:ContentType>%s<t:IsInline>%s</t:IsInline>"
            "<t:Content>%s</t:Content></t:FileAttachment>"
            % ("" if name is None else "<t:Name>%s</t:Name>" % name, content_type,
               "" if content_id is None else "<t:ContentId>%s</t:ContentId>" % content_id,
               "true" if inline else "false", base64.b64encode(content).decode()))


def create_draft(sandbox, attachments: str = "", user: str = "alice", extra: str = "") -> tuple[tuple[str, str], list[str]]:
    """CreateItem SaveOnly in the caller's Drafts; ((ItemId, ChangeKey), [AttachmentId...]) from the answer."""
    [(_, code, message)] = call(sandbox, "CreateItem", (
        '<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message><t:Subject>Report</t:Subject>'
        '<t:Body BodyType="HTML">&lt;p&gt;See &lt;img src="cid:logo@sandbox"&gt;&lt;/p&gt;</t:Body>%s%s'
        '<t:ToRecipients><t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox></t:ToRecipients>'
        '</t:Message></m:Items></m:CreateItem>') % (
        "<t:Attachments>%s</t:Attachments>" % attachments if attachments else "", extra, BOB), user)
    assert code == "NoError", message.findtext(qm("MessageText"))
    item = message.find(qm("Items")).find(qt("Message"))
    item_id = item.find(qt("ItemId"))
    return (item_id.get("Id"), item_id.get("ChangeKey")), [a.get("Id") for a in item.iter(qt("AttachmentId"))]


def get_item(sandbox, item_id: str, properties: str, user: str = "alice"):
    [(_, code, message)] = call(sandbox, "GetItem", (
        '<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>%s</t:AdditionalProperties>'
        '</m:ItemShape><m:ItemIds><t:ItemId Id="%s"/></m:ItemIds></m:GetItem>') % (properties, item_id), user)
    assert code == "NoError", message.findtext(qm("MessageText"))
    return message.find(qm("Items")).find(qt("Message"))


def attachment_ids(*ids: str) -> str:
    return "<m:AttachmentIds>%s</m:AttachmentIds>" % "".join('<t:AttachmentId Id="%s"/>' % i for i in ids)


def get_attachments(sandbox, *ids: str, user: str = "alice"):
    return call(sandbox, "GetAttachment", "<m:GetAttachment><m:AttachmentShape/>%s</m:GetAttachment>"
                % attachment_ids(*ids), user)


def create_attachment(sandbox, parent: tuple[str, str | None], attachments: str, user: str = "alice"):
    change_key = "" if parent[1] is None else ' ChangeKey="%s"' % parent[1]
    return call(sandbox, "CreateAttachment", '<m:CreateAttachment><m:ParentItemId Id="%s"%s/><m:Attachments>%s'
                '</m:Attachments></m:CreateAttachment>' % (parent[0], change_key, attachments), user)


HAS_ATTACHMENTS = '<t:FieldURI FieldURI="item:HasAttachments"/>'
ATTACHMENTS = (file_attachment("report.pdf", REPORT)
               + file_attachment("logo.png", LOGO, "image/png", inline=True, content_id="logo@sandbox"))


def test_create_item_saves_file_attachments_and_answers_their_ids(clean_sandbox):
    (item_id, _), ids = create_draft(clean_sandbox, ATTACHMENTS)
    assert len(ids) == 2 and len(set(ids)) == 2 and item_id not in ids
    message = get_item(clean_sandbox, item_id, '<t:FieldURI FieldURI="item:Attachments"/>'
                       '<t:FieldURI FieldURI="item:HasAttachments"/><t:FieldURI FieldURI="item:Size"/>')
    files = message.find(qt("Attachments")).findall(qt("FileAttachment"))
    described = [{child.tag.split("}")[1]: child.text for child in f if child.tag != qt("AttachmentId")} for f in files]
    assert [f.find(qt("AttachmentId")).get("Id") for f in files] == ids
    assert [(d["Name"], d["ContentType"], d.get("ContentId"), d["Size"], d["IsInline"]) for d in described] == [
        ("report.pdf", "application/pdf", None, str(len(REPORT)), "false"),
        ("logo.png", "image/png", "logo@sandbox", str(len(LOGO)), "true")]
    assert all(d["LastModifiedTime"] and "Content" not in d for d in described)    # GetItem gives no content
    assert message.findtext(qt("HasAttachments")) == "true"
    assert int(message.findtext(qt("Size"))) > len(REPORT) + len(LOGO)


def test_only_inline_attachments_are_not_has_attachments_and_find_item_says_so(clean_sandbox):
    (inline_only, _), _ = create_draft(clean_sandbox, file_attachment("logo.png", LOGO, "image/png", True, "logo@sandbox"))
    (with_file, _), _ = create_draft(clean_sandbox, ATTACHMENTS)
    (without, _), _ = create_draft(clean_sandbox)
    _, found = find_items(clean_sandbox, "drafts", HAS_ATTACHMENTS)
    assert {m.find(qt("ItemId")).get("Id"): m.findtext(qt("HasAttachments")) for m in found} == {
        inline_only: "false", with_file: "true", without: "false"}
    _, found = find_items(clean_sandbox, "drafts", restriction=(
        '<t:IsEqualTo><t:FieldURI FieldURI="item:HasAttachments"/><t:FieldURIOrConstant><t:Constant Value="true"/>'
        '</t:FieldURIOrConstant></t:IsEqualTo>'))
    assert [m.find(qt("ItemId")).get("Id") for m in found] == [with_file]
    code, _ = find_items(clean_sandbox, "drafts", '<t:FieldURI FieldURI="item:Attachments"/>')
    assert code == "ErrorInvalidPropertyRequest"


def test_create_attachment_returns_root_ids_and_changes_the_change_key(clean_sandbox):
    (item_id, change_key), _ = create_draft(clean_sandbox)
    results = create_attachment(clean_sandbox, (item_id, change_key),
                                file_attachment("a.pdf", REPORT) + file_attachment("b.pdf", REPORT))
    assert [code for _, code, _ in results] == ["NoError", "NoError"]
    ids = [message.find(qm("Attachments")).find(qt("FileAttachment")).find(qt("AttachmentId")) for _, _, message in results]
    assert all(i.get("RootItemId") == item_id for i in ids)
    latest = ids[-1].get("RootItemChangeKey")          # the last message carries the item's current ChangeKey
    assert latest != change_key
    [(_, code, _)] = call(clean_sandbox, "SendItem", '<m:SendItem SaveItemToFolder="false"><m:ItemIds><t:ItemId '
                          'Id="%s" ChangeKey="%s"/></m:ItemIds></m:SendItem>' % (item_id, change_key))
    assert code == "ErrorStaleObject"
    assert get_item(clean_sandbox, item_id, '<t:FieldURI FieldURI="item:HasAttachments"/>').find(
        qt("ItemId")).get("ChangeKey") == latest
    [(_, code, message)] = create_attachment(clean_sandbox, (item_id, change_key), file_attachment("c.pdf", REPORT))
    assert code == "ErrorStaleObject"               # ParentItemId's ChangeKey, when given, must be current
    [(_, code, _)] = create_attachment(clean_sandbox, (item_id, None), file_attachment("c.pdf", REPORT))
    assert code == "NoError"


def test_an_attachment_needs_a_name_and_item_attachments_are_not_modelled(clean_sandbox):
    (item_id, _), _ = create_draft(clean_sandbox)
    results = create_attachment(clean_sandbox, (item_id, None), file_attachment(None, REPORT) + file_attachment("ok.pdf", REPORT))
    [(klass, code, message), (_, second, _)] = results
    assert (klass, code, second) == ("Error", "ErrorRequiredPropertyMissing", "NoError")
    assert message.find(qm("MessageXml")).find(qt("ExceptionFieldURI")).get("FieldURI") == "attachment:Name"
    assert message.find(qm("Attachments")) is not None and len(message.find(qm("Attachments"))) == 0
    [(_, code, _)] = create_attachment(clean_sandbox, (item_id, None), "<t:ItemAttachment><t:Name>m</t:Name><t:Message>"
                                       "<t:Subject>inner</t:Subject></t:Message></t:ItemAttachment>")
    assert code == "ErrorInvalidPropertyRequest"
    [(_, code, _)] = create_attachment(clean_sandbox, ("AAMkbm90IGFuIGlk", None), file_attachment("x", REPORT))
    assert code == "ErrorInvalidIdMalformed"


def test_get_attachment_returns_the_content(clean_sandbox):
    (_, _), ids = create_draft(clean_sandbox, ATTACHMENTS)
    results = get_attachments(clean_sandbox, *ids)
    assert [code for _, code, _ in results] == ["NoError", "NoError"]
    files = [message.find(qm("Attachments")).find(qt("FileAttachment")) for _, _, message in results]
    assert [base64.b64decode(f.findtext(qt("Content"))) for f in files] == [REPORT, LOGO]
    assert [f.findtext(qt("Name")) for f in files] == ["report.pdf", "logo.png"]
    assert files[1].findtext(qt("ContentId")) == "logo@sandbox"


def test_request_attachment_ids_carry_no_root_attributes(clean_sandbox):
    (_, _), ids = create_draft(clean_sandbox, ATTACHMENTS)
    body = ('<m:GetAttachment><m:AttachmentIds><t:AttachmentId Id="%s" RootItemId="x"/></m:AttachmentIds>'
            '</m:GetAttachment>' % ids[0])
    response = post(session_for(clean_sandbox), clean_sandbox, envelope(body), "GetAttachment")
    assert response.status_code == 500 and fault_of(response)["code"] == "ErrorSchemaValidation"


def test_delete_attachment_answers_the_root_item_and_the_attachment_is_gone(clean_sandbox):
    (item_id, change_key), ids = create_draft(clean_sandbox, ATTACHMENTS)
    [(_, code, message)] = call(clean_sandbox, "DeleteAttachment", "<m:DeleteAttachment>%s</m:DeleteAttachment>"
                                % attachment_ids(ids[0]))
    assert code == "NoError"
    root = message.find(qm("RootItemId"))
    assert root.get("RootItemId") == item_id and root.get("RootItemChangeKey") != change_key
    [(_, code, _)] = get_attachments(clean_sandbox, ids[0])
    assert code == "ErrorInvalidAttachmentId"
    [(_, code, _)] = call(clean_sandbox, "DeleteAttachment", "<m:DeleteAttachment>%s</m:DeleteAttachment>"
                          % attachment_ids(ids[0]))
    assert code == "ErrorInvalidAttachmentId"
    message = get_item(clean_sandbox, item_id, '<t:FieldURI FieldURI="item:Attachments"/>'
                       '<t:FieldURI FieldURI="item:HasAttachments"/>')
    assert [a.get("Id") for a in message.iter(qt("AttachmentId"))] == [ids[1]]
    assert message.findtext(qt("HasAttachments")) == "false"          # only the inline logo is left


def test_rights_are_those_of_the_item(clean_sandbox):
    (item_id, _), ids = create_draft(clean_sandbox, ATTACHMENTS)
    [(_, code, _)] = create_attachment(clean_sandbox, (item_id, None), file_attachment("x.pdf", REPORT), user="carol")
    assert code == "ErrorAccessDenied"
    [(_, code, _)] = get_attachments(clean_sandbox, ids[0], user="carol")
    assert code == "ErrorAccessDenied"
    [(_, code, _)] = call(clean_sandbox, "DeleteAttachment", "<m:DeleteAttachment>%s</m:DeleteAttachment>"
                          % attachment_ids(ids[0]), "carol")
    assert code == "ErrorAccessDenied"
    [(_, code, _)] = create_attachment(clean_sandbox, (item_id, None), file_attachment("x.pdf", REPORT), user="bob")
    assert code == "NoError"                           # bob has create on alice's mailbox
    [(_, code, _)] = get_attachments(clean_sandbox, ids[0], user="bob")
    assert code == "NoError"


MARKER = ('<t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1" '
          'PropertyName="ExchangeEwsAttachmentHashes" PropertyType="StringArray"/><t:Values><t:Value>sha256:1</t:Value>'
          '<t:Value>sha256:2</t:Value></t:Values></t:ExtendedProperty>')
MARKER_URI = ('<t:ExtendedFieldURI PropertySetId="2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1" '
              'PropertyName="ExchangeEwsAttachmentHashes" PropertyType="StringArray"/>')


def test_attachments_and_extended_properties_travel_through_the_outbox(clean_sandbox):
    (item_id, _), _ = create_draft(clean_sandbox, extra=MARKER)
    results = create_attachment(clean_sandbox, (item_id, None), ATTACHMENTS + file_attachment("more.pdf", REPORT))
    draft_ids = [message.find(".//" + qt("AttachmentId")) for _, _, message in results]
    change_key = draft_ids[-1].get("RootItemChangeKey")
    [(_, code, _)] = call(clean_sandbox, "SendItem", '<m:SendItem SaveItemToFolder="true"><m:ItemIds><t:ItemId Id="%s" '
                          'ChangeKey="%s"/></m:ItemIds></m:SendItem>' % (item_id, change_key))
    assert code == "NoError"
    clean_sandbox.admin.wait_for_outbox()
    [(_, code, _)] = get_attachments(clean_sandbox, draft_ids[0].get("Id"))
    assert code == "ErrorInvalidAttachmentId"          # the draft's ids name an item id that is gone
    shape = '<t:FieldURI FieldURI="item:Attachments"/>' + MARKER_URI
    for user, folder in (("alice", "sentitems"), ("bob", "inbox")):
        _, [found] = find_items(clean_sandbox, folder, user=user)
        copy_id = found.find(qt("ItemId")).get("Id")
        copy = get_item(clean_sandbox, copy_id, shape, user)
        assert [f.findtext(qt("Name")) for f in copy.iter(qt("FileAttachment"))] == ["report.pdf", "logo.png",
                                                                                     "more.pdf"], folder
        [(_, code, got)] = get_attachments(clean_sandbox, copy.find(".//" + qt("AttachmentId")).get("Id"), user=user)
        assert base64.b64decode(got.find(".//" + qt("Content")).text) == REPORT
        # The sender's copy keeps the client's extended properties (the attachment hashes); a recipient's has none.
        assert [v.text for v in copy.iter(qt("Value"))] == (["sha256:1", "sha256:2"] if user == "alice" else []), folder


@pytest.mark.parametrize("disposition", ["SendOnly", "SendAndSaveCopy"])
def test_create_item_with_a_send_disposition_sends_the_attachments(clean_sandbox, disposition):
    [(_, code, message)] = call(clean_sandbox, "CreateItem", (
        '<m:CreateItem MessageDisposition="%s"><m:Items><t:Message><t:Subject>sent at once</t:Subject>'
        '<t:Attachments>%s</t:Attachments><t:ToRecipients><t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox>'
        '</t:ToRecipients></t:Message></m:Items></m:CreateItem>') % (disposition, ATTACHMENTS, BOB))
    assert code == "NoError"
    assert len(message.find(qm("Items"))) == 0          # a sent item is not returned
    clean_sandbox.admin.wait_for_outbox()
    _, found = find_items(clean_sandbox, "inbox", HAS_ATTACHMENTS, user="bob")
    assert [m.findtext(qt("HasAttachments")) for m in found] == ["true"]


def test_attachment_ids_of_a_moved_item_no_longer_answer(clean_sandbox):
    (item_id, _), ids = create_draft(clean_sandbox, ATTACHMENTS)
    [(_, code, _)] = call(clean_sandbox, "MoveItem", '<m:MoveItem><m:ToFolderId><t:DistinguishedFolderId Id="inbox"/>'
                          '</m:ToFolderId><m:ItemIds><t:ItemId Id="%s"/></m:ItemIds></m:MoveItem>' % item_id)
    assert code == "NoError"
    [(_, code, _)] = get_attachments(clean_sandbox, ids[0])
    assert code == "ErrorInvalidAttachmentId"          # an attachment id names its item, whose id changed
