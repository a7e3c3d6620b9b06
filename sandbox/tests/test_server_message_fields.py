"""The message fields a composed mail uses, by their Exchange FieldURIs, over HTTPS + NTLM: set by CreateItem,
changed by UpdateItem, returned by GetItem (and FindItem where Exchange returns them)."""

from __future__ import annotations

from conftest import call, find_items
from ews_sandbox.namespaces import qm, qt

BOB, CAROL = "bob@sandbox.test", "carol@sandbox.test"
FIELDS = ("item:Subject", "item:Sensitivity", "item:Body", "item:Categories", "item:Importance",
          "message:CcRecipients", "message:IsReadReceiptRequested", "message:IsDeliveryReceiptRequested",
          "message:ReplyTo")
SHAPE = "".join('<t:FieldURI FieldURI="%s"/>' % uri for uri in FIELDS)


def mailbox(address: str) -> str:
    return "<t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox>" % address


def get(sandbox, item_id: str):
    [(_, code, message)] = call(sandbox, "GetItem", '<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
                                '<t:AdditionalProperties>%s</t:AdditionalProperties></m:ItemShape><m:ItemIds>'
                                '<t:ItemId Id="%s"/></m:ItemIds></m:GetItem>' % (SHAPE, item_id))
    assert code == "NoError"
    return message.find(qm("Items")).find(qt("Message"))


def test_create_get_and_update_the_composed_fields(clean_sandbox):
    [(_, code, message)] = call(clean_sandbox, "CreateItem", (
        '<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message><t:Subject>Quarterly</t:Subject>'
        '<t:Sensitivity>Confidential</t:Sensitivity><t:Body BodyType="HTML">&lt;b&gt;Hi&lt;/b&gt;</t:Body>'
        '<t:Categories><t:String>Finance</t:String></t:Categories><t:Importance>High</t:Importance>'
        '<t:ToRecipients>%s</t:ToRecipients><t:CcRecipients>%s</t:CcRecipients>'
        '<t:IsReadReceiptRequested>true</t:IsReadReceiptRequested>'
        '<t:IsDeliveryReceiptRequested>true</t:IsDeliveryReceiptRequested>'
        '<t:ReplyTo>%s</t:ReplyTo></t:Message></m:Items></m:CreateItem>') % (mailbox(BOB), mailbox(CAROL),
                                                                           mailbox("desk@example.org")))
    assert code == "NoError"
    item_id = message.find(".//" + qt("ItemId")).get("Id")
    item = get(clean_sandbox, item_id)
    assert [child.tag.split("}")[1] for child in item] == [
        "ItemId", "Subject", "Sensitivity", "Body", "Categories", "Importance", "CcRecipients",
        "IsReadReceiptRequested", "IsDeliveryReceiptRequested", "ReplyTo"]          # the schema's order
    assert item.findtext(qt("Sensitivity")) == "Confidential"
    assert (item.find(qt("Body")).get("BodyType"), item.findtext(qt("Body"))) == ("HTML", "<b>Hi</b>")
    assert item.findtext(qt("Importance")) == "High"
    assert item.findtext(qt("IsReadReceiptRequested")) == item.findtext(qt("IsDeliveryReceiptRequested")) == "true"
    assert [m.findtext(qt("EmailAddress")) for m in item.find(qt("ReplyTo"))] == ["desk@example.org"]

    change_key = item.find(qt("ItemId")).get("ChangeKey")
    [(_, code, _)] = call(clean_sandbox, "UpdateItem", (
        '<m:UpdateItem ConflictResolution="NeverOverwrite" MessageDisposition="SaveOnly"><m:ItemChanges><t:ItemChange>'
        '<t:ItemId Id="%s" ChangeKey="%s"/><t:Updates>'
        '<t:SetItemField><t:FieldURI FieldURI="item:Sensitivity"/><t:Message><t:Sensitivity>Private</t:Sensitivity>'
        '</t:Message></t:SetItemField>'
        '<t:AppendToItemField><t:FieldURI FieldURI="message:ReplyTo"/><t:Message><t:ReplyTo>%s</t:ReplyTo></t:Message>'
        '</t:AppendToItemField>'
        '<t:SetItemField><t:FieldURI FieldURI="message:IsDeliveryReceiptRequested"/><t:Message>'
        '<t:IsDeliveryReceiptRequested>false</t:IsDeliveryReceiptRequested></t:Message></t:SetItemField>'
        '</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>') % (item_id, change_key, mailbox("team@example.org")))
    assert code == "NoError"
    item = get(clean_sandbox, item_id)
    assert item.findtext(qt("Sensitivity")) == "Private"
    assert item.findtext(qt("IsDeliveryReceiptRequested")) == "false"
    assert [m.findtext(qt("EmailAddress")) for m in item.find(qt("ReplyTo"))] == ["desk@example.org", "team@example.org"]


def test_find_item_restricts_on_sensitivity_and_never_returns_reply_to(clean_sandbox):
    for sensitivity in ("Normal", "Private"):
        call(clean_sandbox, "CreateItem", '<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message>'
             '<t:Subject>%s</t:Subject><t:Sensitivity>%s</t:Sensitivity></t:Message></m:Items></m:CreateItem>'
             % (sensitivity, sensitivity))
    _, found = find_items(clean_sandbox, "drafts", '<t:FieldURI FieldURI="item:Subject"/>', restriction=(
        '<t:IsEqualTo><t:FieldURI FieldURI="item:Sensitivity"/><t:FieldURIOrConstant><t:Constant Value="Private"/>'
        '</t:FieldURIOrConstant></t:IsEqualTo>'))
    assert [m.findtext(qt("Subject")) for m in found] == ["Private"]
    code, _ = find_items(clean_sandbox, "drafts", '<t:FieldURI FieldURI="message:ReplyTo"/>')
    assert code == "ErrorInvalidPropertyRequest"
