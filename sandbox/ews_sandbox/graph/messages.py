"""The Graph message resource over the store's items: properties out (with $select, extended properties, the
body's format), and the JSON a create or update carries in (with Graph's refusals)."""

from __future__ import annotations

import base64
import binascii
import html
import re
import uuid

from ..operations.properties import MESSAGE_FLAGS, message_flags
from ..store import Attachment, Item, extended_key, is_array_type
from .errors import GraphError, bad_request
from .ids import attachment_id, folder_id, message_id

# Navigation properties: only with $expand.
NAVIGATION = ("singleValueExtendedProperties", "multiValueExtendedProperties", "attachments", "extensions")
# What a create or an update may set, and the store column each goes to.
WRITABLE = {"subject": "subject", "body": "body", "toRecipients": "to_recipients", "ccRecipients": "cc_recipients",
            "bccRecipients": "bcc_recipients", "replyTo": "reply_to", "from": "from_mailbox", "sender": "sender_mailbox",
            "importance": "importance", "categories": "categories", "isRead": "is_read",
            "isReadReceiptRequested": "read_receipt_requested",
            "isDeliveryReceiptRequested": "delivery_receipt_requested", "internetMessageId": "internet_message_id"}
RECIPIENT_LISTS = ("toRecipients", "ccRecipients", "bccRecipients", "replyTo")
BOOLEANS = ("isRead", "isReadReceiptRequested", "isDeliveryReceiptRequested")
# Updatable only while the message is a draft (message-update reference; `from` observed the same way).
DRAFT_ONLY = frozenset({"subject", "body", "internetMessageId", "from", "sender", "replyTo"})
# Graph properties the sandbox does not store: refused when written, rather than silently dropped.
UNMODELLED_WRITABLE = frozenset({"flag", "inferenceClassification", "extensions", "uniqueBody"})
# PidTagSensitivity: the message's sensitivity (item:Sensitivity in EWS), which v1.0's message resource does not
# name; Graph clients set it as this extended property (PidTagSensitivity, PT_LONG). Its values, 0 to 3.
SENSITIVITY = extended_key(property_tag="0x0036")
SENSITIVITIES = ("Normal", "Personal", "Private", "Confidential")
# A fileAttachment of a create or an add attachment; under 3 MB (larger files take an upload session, which the
# sandbox does not model).
FILE_ATTACHMENT = "#microsoft.graph.fileAttachment"
MAX_ATTACHMENT_BYTES = 3 * 1024 * 1024
IMPORTANCE = {"low": "Low", "normal": "Normal", "high": "High"}
EXTENDED_TYPES = ("String", "Integer", "Long", "Short", "Boolean", "SystemTime", "Binary", "Double", "Float",
                  "Currency", "CLSID", "ApplicationTime")
_EXTENDED_ID = re.compile(r"^(?P<type>\w+) (?:(?P<tag>0x[0-9a-fA-F]{1,4})|\{(?P<guid>[0-9a-fA-F-]{36})\} "
                          r"(?:Name (?P<name>.+)|Id (?P<id>0x[0-9a-fA-F]+|\d+)))$")

NOT_DRAFT = ("ErrorInvalidPropertySet", "Message is not draft.")
READ_ONLY = ("ErrorInvalidPropertySet", "Set action is invalid for property.")


def etag(item: Item) -> str:
    return f'W/"{item.change_key}"'


# -- out --------------------------------------------------------------------------------------

def _recipient(mailbox: dict | None) -> dict | None:
    if not mailbox:
        return None
    return {"emailAddress": {"name": mailbox.get("name") or mailbox["email"], "address": mailbox["email"]}}


def _html(text: str) -> str:
    lines = "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in text.split("\n"))
    return ('<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head>'
            f'<body>{lines}</body></html>')


def _text(markup: str) -> str:
    without_tags = re.sub(r"<br\s*/?>|</div>|</p>", "\n", re.sub(r"(?is)<head>.*?</head>", "", markup))
    return html.unescape(re.sub(r"<[^>]+>", "", without_tags)).strip()


def body_in(item: Item, content_type: str) -> dict:
    """The body in the format asked for ("html" unless Prefer: outlook.body-content-type="text")."""
    content = item.fields["body"] or ""
    stored_html = (item.fields["body_type"] or "").lower() == "html"
    if content_type == "text":
        return {"contentType": "text", "content": _text(content) if stored_html else content}
    return {"contentType": "html", "content": content if stored_html else _html(content)}


def _conversation_id(item: Item) -> str:
    """Stable per message (the sandbox keeps no threads): derived from its Internet message id."""
    return message_id(item.mailbox, uuid.uuid5(uuid.NAMESPACE_OID, item.fields["internet_message_id"] or "").hex)


# name -> value of the property for (item, body content type)
_GETTERS = {
    "createdDateTime": lambda item, _: item.fields["created"],
    "lastModifiedDateTime": lambda item, _: item.fields["last_modified"],
    "changeKey": lambda item, _: item.change_key,
    "categories": lambda item, _: item.fields["categories"],
    "receivedDateTime": lambda item, _: item.fields["received"],
    "sentDateTime": lambda item, _: item.fields["sent"],
    "hasAttachments": lambda item, _: bool(item.attachments),
    "internetMessageId": lambda item, _: item.fields["internet_message_id"],
    "subject": lambda item, _: item.fields["subject"],
    "bodyPreview": lambda item, _: body_in(item, "text")["content"][:255],
    "importance": lambda item, _: (item.fields["importance"] or "Normal").lower(),
    "parentFolderId": lambda item, _: folder_id(item.mailbox, item.folder_uuid),
    "conversationId": lambda item, _: _conversation_id(item),
    "conversationIndex": lambda item, _: None,
    "isDeliveryReceiptRequested": lambda item, _: bool(item.fields["delivery_receipt_requested"]),
    "isReadReceiptRequested": lambda item, _: bool(item.fields["read_receipt_requested"]),
    "isRead": lambda item, _: item.fields["is_read"],
    "isDraft": lambda item, _: item.fields["is_draft"],
    "webLink": lambda item, _: f"https://outlook.office365.com/owa/?ItemID={message_id(item.mailbox, item.uuid)}&exvsurl=1",
    "inferenceClassification": lambda item, _: "focused",
    "body": body_in,
    "sender": lambda item, _: _recipient(item.fields["sender_mailbox"]),
    "from": lambda item, _: _recipient(item.fields["from_mailbox"]),
    "toRecipients": lambda item, _: [_recipient(r) for r in item.fields["to_recipients"]],
    "ccRecipients": lambda item, _: [_recipient(r) for r in item.fields["cc_recipients"]],
    "bccRecipients": lambda item, _: [_recipient(r) for r in item.fields["bcc_recipients"]],
    "replyTo": lambda item, _: [_recipient(r) for r in item.fields["reply_to"] or []],
    "flag": lambda item, _: {"flagStatus": "notFlagged"},
}


# Every property of the v1.0 message the sandbox answers with (and accepts in $select), in Graph's order.
PROPERTIES = tuple(_GETTERS)


def to_json(item: Item, select: tuple[str, ...] | None = None, extended: tuple[str, ...] = (),
            content_type: str = "html") -> dict:
    """The message as Graph shapes it: @odata.etag and id always, the ``select``ed properties (all when None),
    and the single-value extended properties whose ids ``extended`` names (when $expand asked for them)."""
    data = {"@odata.etag": etag(item), "id": message_id(item.mailbox, item.uuid)}
    for name in PROPERTIES if select is None else select:
        data[name] = _GETTERS[name](item, content_type)
    if extended:
        data["singleValueExtendedProperties"] = [
            {"id": property_id, "value": value} for property_id, value in
            ((property_id, _extended_value(item, property_id)) for property_id in extended) if value is not None]
    return data


def _extended_value(item: Item, property_id: str):
    key, _ = parse_extended_id(property_id)
    if key == MESSAGE_FLAGS:
        return str(message_flags(item))
    if key == SENSITIVITY:
        return str(SENSITIVITIES.index(item.fields["sensitivity"] or "Normal"))
    stored = item.extended.get(key)
    return None if stored is None else stored[1]


# -- extended property ids ----------------------------------------------------------------------

def parse_extended_id(property_id: str) -> tuple[str, str]:
    """(store key, property type) of an extended property id such as ``String {guid} Name X`` or ``Integer 0x0E07``.
    The name part is case-sensitive, as Graph documents; a malformed id is ErrorInvalidExtendedProperty."""
    match = _EXTENDED_ID.match(property_id or "")
    prop_type = match and next((t for t in EXTENDED_TYPES if t.lower() == match["type"].lower().removesuffix("array")),
                               None)
    if prop_type is None:
        raise bad_request("ErrorInvalidExtendedProperty", "The extended property attribute combination is invalid.")
    if match["type"].lower().endswith("array"):
        prop_type += "Array"
    if match["tag"]:
        return extended_key(property_tag=match["tag"]), prop_type
    property_number = match["id"]
    return extended_key(property_set_id=match["guid"], property_name=match["name"],
                        property_id=None if property_number is None else str(int(property_number, 0))), prop_type


# -- in -----------------------------------------------------------------------------------------

def _mailbox_in(value, name: str) -> dict:
    address = value.get("emailAddress") if isinstance(value, dict) else None
    if not isinstance(address, dict) or not isinstance(address.get("address"), str) or not address["address"].strip():
        raise bad_request("ErrorInvalidRecipients", f"At least one recipient isn't valid. ({name})")
    return {"name": address.get("name") or address["address"], "email": address["address"].strip()}


def _value_in(name: str, value):
    if name in RECIPIENT_LISTS:
        if not isinstance(value, list):
            raise bad_request("RequestBodyRead", f"The property '{name}' must be a collection of recipients.")
        return [_mailbox_in(recipient, name) for recipient in value]
    if name in ("from", "sender"):
        return None if value is None else _mailbox_in(value, name)
    if name == "importance":
        if not isinstance(value, str) or value.lower() not in IMPORTANCE:
            raise bad_request("RequestBodyRead", f"Cannot convert the literal '{value}' to the expected type "
                              "'microsoft.graph.importance'.")
        return IMPORTANCE[value.lower()]
    if name == "categories":
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise bad_request("RequestBodyRead", "The property 'categories' must be a collection of strings.")
        return value
    if name in BOOLEANS:
        if not isinstance(value, bool):
            raise bad_request("RequestBodyRead", f"Cannot convert the literal '{value}' to the expected type 'Edm.Boolean'.")
        return value
    if not isinstance(value, str):
        raise bad_request("RequestBodyRead", f"Cannot convert the literal '{value}' to the expected type 'Edm.String'.")
    return value


def _extended_in(entries, multi: bool) -> dict:
    name = "multiValueExtendedProperties" if multi else "singleValueExtendedProperties"
    if not isinstance(entries, list):
        raise bad_request("RequestBodyRead", f"The property '{name}' must be a collection.")
    extended = {}
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) - {"id", "value", "@odata.type"} or "id" not in entry:
            raise bad_request("RequestBodyRead", f"Each of '{name}' has an 'id' and a 'value'.")
        key, prop_type = parse_extended_id(entry["id"])
        value = entry.get("value")
        if is_array_type(prop_type) != multi or (multi and not isinstance(value, list)) or \
                (not multi and not isinstance(value, str)):
            raise bad_request("ErrorInvalidExtendedPropertyValue", "The extended property value is invalid for its type.")
        if key == MESSAGE_FLAGS:
            raise bad_request(*READ_ONLY)
        extended[key] = (prop_type, [str(v) for v in value] if multi else value)
    return extended


def parse_message(data, is_draft: bool = True, creating: bool = False) -> tuple[dict, dict, list[Attachment]]:
    """(store fields, extended properties, attachments) a create or update body sets; GraphError for what Graph
    refuses. Attachments come inline in a create only; PidTagSensitivity sets the sensitivity."""
    if not isinstance(data, dict):
        raise bad_request("BadRequest", "Empty Payload. JSON content expected.")
    fields, extended, attachments = {}, {}, []
    for name, value in data.items():
        if name == "@odata.type":
            continue
        if name in ("singleValueExtendedProperties", "multiValueExtendedProperties"):
            extended.update(_extended_in(value, name.startswith("multi")))
        elif name == "attachments" and creating:
            if not isinstance(value, list):
                raise bad_request("RequestBodyRead", "The property 'attachments' must be a collection.")
            attachments = [parse_attachment(entry) for entry in value]
        elif name in WRITABLE:
            if not is_draft and name in DRAFT_ONLY:
                raise bad_request(*NOT_DRAFT)
            if name == "body":
                if not isinstance(value, dict) or set(value) - {"contentType", "content"} or \
                        str(value.get("contentType", "text")).lower() not in ("text", "html"):
                    raise bad_request("RequestBodyRead", "The property 'body' must be an itemBody with contentType "
                                      "text or html and content.")
                fields["body"] = value.get("content") or ""
                fields["body_type"] = "HTML" if str(value.get("contentType", "text")).lower() == "html" else "Text"
            else:
                fields[WRITABLE[name]] = _value_in(name, value)
        elif name in PROPERTIES or name == "id" or name.startswith("@odata."):
            raise bad_request(*READ_ONLY)
        elif name in UNMODELLED_WRITABLE:
            raise bad_request("ErrorNotSupportedBySandbox", f"The sandbox does not model the message property '{name}'.")
        else:
            raise bad_request("RequestBodyRead", f"The property '{name}' does not exist on type "
                              "'Microsoft.OutlookServices.Message'. Make sure to only use property names that are "
                              "defined by the type or mark the type as open type.")
    if SENSITIVITY in extended:
        level = extended.pop(SENSITIVITY)[1]
        if not level.isdigit() or int(level) >= len(SENSITIVITIES):
            raise bad_request("ErrorInvalidExtendedPropertyValue", "The extended property value is invalid for its type.")
        fields["sensitivity"] = SENSITIVITIES[int(level)]
    return fields, extended, attachments


# -- attachments ----------------------------------------------------------------------------------

def parse_attachment(data) -> Attachment:
    """A fileAttachment (``name``, ``contentBytes``, optional ``contentType``, ``contentId``, ``isInline``)."""
    if not isinstance(data, dict) or data.get("@odata.type") != FILE_ATTACHMENT:
        raise bad_request("ErrorNotSupportedBySandbox", "The sandbox takes file attachments only "
                          f"(\"@odata.type\": \"{FILE_ATTACHMENT}\").")
    name, content = data.get("name"), data.get("contentBytes")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("ErrorRequiredPropertyMissing", "Required property is missing: name.")
    try:
        raw = base64.b64decode(content if isinstance(content, str) else "", validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("RequestBodyRead", "The property 'contentBytes' is not base64.") from None
    if len(raw) >= MAX_ATTACHMENT_BYTES:
        raise GraphError(413, "ErrorRequestEntityTooLarge", "The attachment is 3 MB or more: attach it through an "
                         "upload session (attachment: createUploadSession).")
    content_id = data.get("contentId") or None
    return Attachment(name, data.get("contentType") or "application/octet-stream", content_id,
                      bool(data.get("isInline", content_id is not None)), len(raw), content=raw)


ATTACHMENT_PROPERTIES = ("id", "lastModifiedDateTime", "name", "contentType", "size", "isInline", "contentId",
                         "contentBytes")


def attachment_json(item: Item, attachment: Attachment, select: tuple[str, ...] | None = None) -> dict:
    """A fileAttachment as Graph shapes it (contentBytes only when the attachment's content was loaded)."""
    values = {"id": attachment_id(item.mailbox, item.uuid, attachment.uuid),
              "lastModifiedDateTime": attachment.last_modified, "name": attachment.name,
              "contentType": attachment.content_type, "size": attachment.size, "isInline": attachment.is_inline,
              "contentId": attachment.content_id,
              "contentBytes": base64.b64encode(attachment.content).decode() if attachment.content is not None else None}
    wanted = ATTACHMENT_PROPERTIES if select is None else ("id",) + select
    return {"@odata.type": FILE_ATTACHMENT, **{name: values[name] for name in wanted if name in values}}
