"""FieldURI / ExtendedFieldURI <-> store fields: parsing t:Message content (file attachments included) and
shaping items and attachments for responses."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timezone

from lxml import etree

import base64

from ..errors import ItemError
from ..ids import encode_attachment_id, encode_folder_id, encode_item_id
from ..namespaces import first_of_few, qt
from ..store import SUBMITTED_SQL, Attachment, Item, extended_key, is_array_type

EXTENDED = "ExtendedProperty"   # marks where t:ExtendedProperty goes in the schema's element order

# PidTagMessageFlags (0x0E07, Integer), computed from the item's state as MS-OXCMSG defines it: mfRead; mfUnsent
# while a draft (cleared on submission, so IsDraft is false from then on); mfSubmitted while waiting in the Outbox.
MESSAGE_FLAGS = extended_key(property_tag="0x0E07")
MF_READ, MF_SUBMITTED, MF_UNSENT = 0x1, 0x4, 0x8
MESSAGE_FLAGS_SQL = "(items.is_read * %d | items.is_draft * %d | %s * %d)" % (MF_READ, MF_UNSENT, SUBMITTED_SQL,
                                                                            MF_SUBMITTED)


def message_flags(item: Item) -> int:
    return ((MF_READ if item.fields["is_read"] else 0) | (MF_UNSENT if item.fields["is_draft"] else 0)
            | (MF_SUBMITTED if item.submitted else 0))


@dataclass(frozen=True)
class Field:
    uri: str            # FieldURI value, e.g. "item:Subject"
    element: str        # element name inside t:Message
    column: str | None  # store column (None: computed from the item, read-only)
    kind: str           # text | bool | datetime | body | recipients | mailbox | strings | attachments | computed
    message_only: bool = False
    computed_sql: str | None = None   # SQL over ``items`` for restrictions, when the column alone is not the value
    searchable: bool = True           # Exchange accepts it in a Restriction / SortOrder
    in_find_item: bool = True         # Exchange returns it from FindItem (not the "complex" properties)

    @property
    def sql(self) -> str | None:
        return self.computed_sql or self.column


HAS_ATTACHMENTS_SQL = "EXISTS (SELECT 1 FROM attachments a WHERE a.item_seq = items.seq AND a.is_inline = 0)"


def _display_sql(column: str) -> str:
    """DisplayTo / DisplayCc computed in SQL: recipient names (or addresses) joined by "; "."""
    return ("(SELECT group_concat(COALESCE(NULLIF(json_extract(r.value, '$.name'), ''), json_extract(r.value, '$.email')),"
            " '; ') FROM json_each(items.%s) AS r)" % column)


# In the order the types schema's ItemType / MessageType sequences require.
FIELDS = [
    Field("item:ItemId", "ItemId", None, "computed"),
    Field("item:ParentFolderId", "ParentFolderId", None, "computed"),
    Field("item:ItemClass", "ItemClass", "item_class", "text"),
    Field("item:Subject", "Subject", "subject", "text"),
    Field("item:Sensitivity", "Sensitivity", "sensitivity", "text"),
    Field("item:Body", "Body", "body", "body", in_find_item=False),
    Field("item:Attachments", "Attachments", None, "attachments", searchable=False, in_find_item=False),
    Field("item:DateTimeReceived", "DateTimeReceived", "received", "datetime"),
    Field("item:Size", "Size", None, "computed"),
    Field("item:Categories", "Categories", "categories", "strings"),
    Field("item:Importance", "Importance", "importance", "text"),
    Field("item:IsDraft", "IsDraft", "is_draft", "bool"),
    Field("item:DateTimeSent", "DateTimeSent", "sent", "datetime"),
    Field("item:DateTimeCreated", "DateTimeCreated", "created", "datetime"),
    Field("item:DisplayCc", "DisplayCc", None, "computed", computed_sql=_display_sql("cc_recipients")),
    Field("item:DisplayTo", "DisplayTo", None, "computed", computed_sql=_display_sql("to_recipients")),
    # True with at least one attachment that is not inline (HasAttachments reference: "visible" attachments).
    Field("item:HasAttachments", "HasAttachments", None, "bool", computed_sql=HAS_ATTACHMENTS_SQL),
    Field(EXTENDED, EXTENDED, None, "computed"),
    Field("item:LastModifiedTime", "LastModifiedTime", "last_modified", "datetime"),
    Field("item:IsAssociated", "IsAssociated", None, "computed"),
    Field("message:Sender", "Sender", "sender_mailbox", "mailbox", True,
          computed_sql="json_extract(items.sender_mailbox, '$.email')"),
    Field("message:ToRecipients", "ToRecipients", "to_recipients", "recipients", True, searchable=False, in_find_item=False),
    Field("message:CcRecipients", "CcRecipients", "cc_recipients", "recipients", True, searchable=False, in_find_item=False),
    Field("message:BccRecipients", "BccRecipients", "bcc_recipients", "recipients", True, searchable=False,
          in_find_item=False),
    Field("message:IsReadReceiptRequested", "IsReadReceiptRequested", "read_receipt_requested", "bool", True),
    Field("message:IsDeliveryReceiptRequested", "IsDeliveryReceiptRequested", "delivery_receipt_requested", "bool", True),
    Field("message:From", "From", "from_mailbox", "mailbox", True,
          computed_sql="json_extract(items.from_mailbox, '$.email')"),
    Field("message:InternetMessageId", "InternetMessageId", "internet_message_id", "text", True),
    Field("message:IsRead", "IsRead", "is_read", "bool", True),
    Field("message:ReplyTo", "ReplyTo", "reply_to", "recipients", True, searchable=False, in_find_item=False),
]
FIELDS_BY_URI = {f.uri: f for f in FIELDS if f.uri != EXTENDED}
# Set by the server only: a request setting one gets ErrorInvalidPropertySet.
READ_ONLY = {f.uri for f in FIELDS if not f.column} | {
    "item:DateTimeReceived", "item:IsDraft", "item:DateTimeSent", "item:DateTimeCreated", "item:LastModifiedTime"}
INVALID_SET = ("ErrorInvalidPropertySet", "Set action is invalid for property.")
FIELDS_BY_ELEMENT = {f.element: f for f in FIELDS if f.uri != EXTENDED}

# URIs the schema accepts (every one Exchange knows) but the sandbox does not model are left out of
# GetItem / FindItem responses, as Exchange leaves out properties an item does not have. In a
# Restriction, SortOrder or UpdateItem they get an item-level ErrorInvalidPropertyRequest (parse_path):
# the sandbox cannot answer those truthfully. Of them, the ones FindItem never returns (bodies,
# attachments, recipient lists) are an error in a FindItem shape, like the modelled in_find_item=False ones.
UNMODELLED_NOT_IN_FIND_ITEM = frozenset({
    "item:MimeContent", "item:MimeContentUTF8", "item:UniqueBody", "item:NormalizedBody",
    "item:TextBody", "calendar:RequiredAttendees", "calendar:OptionalAttendees",
    "calendar:Resources", "distributionlist:Members",
})

DEFAULT_SHAPE = {"item:ItemId", "item:ParentFolderId", "item:ItemClass", "item:Subject", "item:DateTimeReceived",
                 "item:Size", "item:Importance", "item:IsDraft", "item:DateTimeSent", "item:DateTimeCreated",
                 "item:HasAttachments", "message:ToRecipients", "message:From", "message:IsRead"}
ALL_PROPERTIES = {f.uri for f in FIELDS if f.uri != EXTENDED}

_URI_ATTRIBUTES = ("DistinguishedPropertySetId", "PropertySetId", "PropertyTag", "PropertyName", "PropertyId", "PropertyType")


# -- values --------------------------------------------------------------------------

def parse_bool(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1")


def normalize_datetime(text: str) -> str:
    """xs:dateTime in any offset -> the store's UTC form."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_mailbox(element: etree._Element) -> dict:
    return {"name": element.findtext(qt("Name")) or element.findtext(qt("EmailAddress")) or "",
            "email": (element.findtext(qt("EmailAddress")) or "").strip()}


def _mailbox_element(parent: etree._Element, mailbox: dict) -> None:
    element = etree.SubElement(parent, qt("Mailbox"))
    etree.SubElement(element, qt("Name")).text = mailbox.get("name") or mailbox["email"]
    etree.SubElement(element, qt("EmailAddress")).text = mailbox["email"]
    etree.SubElement(element, qt("RoutingType")).text = "SMTP"
    etree.SubElement(element, qt("MailboxType")).text = "Mailbox"


def parse_field_value(f: Field, element: etree._Element):
    """The store value of ``f`` carried by its element in a t:Message."""
    if f.kind == "text":
        return element.text or ""
    if f.kind == "bool":
        return parse_bool(element.text)
    if f.kind == "datetime":
        return normalize_datetime(element.text)
    if f.kind == "body":
        return element.text or ""
    if f.kind == "recipients":
        return [_parse_mailbox(mailbox) for mailbox in element.iter(qt("Mailbox"))]
    if f.kind == "mailbox":
        mailbox = element.find(qt("Mailbox"))
        return _parse_mailbox(mailbox) if mailbox is not None else None
    if f.kind == "strings":
        return [s.text or "" for s in element.iter(qt("String"))]
    raise ItemError(*INVALID_SET)


# -- extended properties -------------------------------------------------------------

@dataclass(frozen=True)
class ExtendedPath:
    key: str                 # store.extended_key
    prop_type: str
    attributes: tuple        # the ExtendedFieldURI attributes, echoed back in responses


def parse_extended_uri(uri: etree._Element) -> ExtendedPath:
    return _extended_path(tuple(uri.items()))


@functools.lru_cache(maxsize=1024)
def _extended_path(items: tuple) -> ExtendedPath:
    """parse_extended_uri by the element's attributes (a request names the same few properties on every item)."""
    present = dict(items)
    attributes = tuple((name, present[name]) for name in _URI_ATTRIBUTES if name in present)
    values = dict(attributes)
    try:
        key = extended_key(values.get("PropertyTag"), values.get("PropertySetId"), values.get("DistinguishedPropertySetId"),
                           values.get("PropertyName"), values.get("PropertyId"))
    except (TypeError, ValueError):
        raise ItemError("ErrorInvalidExtendedProperty", "The extended property attribute combination is invalid.") from None
    return ExtendedPath(key, values.get("PropertyType", "String"), attributes)


_EXTENDED_FIELD_URI, _VALUE = qt("ExtendedFieldURI"), qt("Value")
INVALID_EXTENDED_VALUE = ("ErrorInvalidExtendedPropertyValue", "The extended property value is invalid.")


def parse_extended_property(element: etree._Element) -> tuple[ExtendedPath, object]:
    """A t:ExtendedProperty -> (path, value); multi-valued types carry t:Values. A SystemTime must be a time
    (it is stored in the store's UTC form)."""
    path = parse_extended_uri(first_of_few(element, _EXTENDED_FIELD_URI))
    if is_array_type(path.prop_type):
        return path, [v.text or "" for v in element.iter(_VALUE)]
    value_element = first_of_few(element, _VALUE)
    value = (value_element.text if value_element is not None else None) or ""
    if path.prop_type == "SystemTime":
        try:
            value = normalize_datetime(value)
        except ValueError:
            raise ItemError(*INVALID_EXTENDED_VALUE) from None
    return path, value


def extended_property_element(parent: etree._Element, path: ExtendedPath, value) -> None:
    element = etree.SubElement(parent, qt("ExtendedProperty"))
    etree.SubElement(element, qt("ExtendedFieldURI"), dict(path.attributes))
    if is_array_type(path.prop_type):
        values = etree.SubElement(element, qt("Values"))
        for v in value:
            etree.SubElement(values, qt("Value")).text = v
    else:
        etree.SubElement(element, qt("Value")).text = value


# -- paths (FieldURI | ExtendedFieldURI) ----------------------------------------------

def parse_path(element: etree._Element) -> Field | ExtendedPath:
    """A t:FieldURI or t:ExtendedFieldURI element -> Field or ExtendedPath.

    The schema has already rejected unknown URIs; a known one the sandbox does not model (and any
    t:IndexedFieldURI) is an item-level ErrorInvalidPropertyRequest naming the property.
    """
    if element.tag == qt("ExtendedFieldURI"):
        return parse_extended_uri(element)
    uri = element.get("FieldURI")
    if element.tag == qt("FieldURI") and uri in FIELDS_BY_URI:
        return FIELDS_BY_URI[uri]
    if uri and element.get("FieldIndex") is not None:
        uri = "%s[%s]" % (uri, element.get("FieldIndex"))
    raise ItemError("ErrorInvalidPropertyRequest",
                    "This property is not supported by this operation%s." % (" (%s)" % uri if uri else ""))


PATH_TAGS = frozenset({qt("FieldURI"), qt("ExtendedFieldURI"), qt("IndexedFieldURI")})


def find_path(parent: etree._Element) -> Field | ExtendedPath:
    """The first path child of ``parent`` (SetItemField, IsEqualTo, FieldOrder...)."""
    for child in parent:
        if child.tag in PATH_TAGS:
            return parse_path(child)
    raise ItemError("ErrorInvalidPropertyRequest", "This property is not supported by this operation.")


# -- t:Message content ----------------------------------------------------------------

@dataclass
class ItemContent:
    """What a t:Message (or t:Item) element sets: store fields, extended properties and file attachments."""
    fields: dict = field(default_factory=dict)
    extended: dict = field(default_factory=dict)   # key -> (prop_type, value)
    attachments: list = field(default_factory=list)


def parse_item_content(element: etree._Element) -> ItemContent:
    """The fields, extended properties and attachments a t:Message sets; elements the sandbox does not model
    are ignored."""
    content = ItemContent()
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name == EXTENDED:
            path, value = parse_extended_property(child)
            if path.key == MESSAGE_FLAGS:
                raise ItemError(*INVALID_SET)
            content.extended[path.key] = (path.prop_type, value)
        elif name == "Body":
            content.fields["body"] = child.text or ""
            content.fields["body_type"] = child.get("BodyType", "Text")
        elif name == "Attachments":
            content.attachments = [parse_attachment(a) for a in child if isinstance(a.tag, str)]
        elif name in FIELDS_BY_ELEMENT:
            f = FIELDS_BY_ELEMENT[name]
            if f.uri in READ_ONLY:
                raise ItemError(*INVALID_SET)
            content.fields[f.column] = parse_field_value(f, child)
    return content


# -- shapes and item elements ----------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    uris: frozenset
    extended: tuple     # ExtendedPath, in request order
    # The FIELDS item_element writes, in schema order (with EXTENDED, where the extended properties go): chosen
    # once per request rather than for each item.
    fields: tuple = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "fields", tuple(f for f in FIELDS if f.uri == EXTENDED or f.uri in self.uris))


def parse_shape(shape: etree._Element | None) -> Shape:
    """t:ItemShape -> the FieldURIs and extended properties to return."""
    if shape is None:
        return Shape(frozenset({"item:ItemId"}), ())
    base = shape.findtext(qt("BaseShape"))
    uris = {"IdOnly": {"item:ItemId"}, "Default": set(DEFAULT_SHAPE), "AllProperties": set(ALL_PROPERTIES)}.get(
        base, {"item:ItemId"})
    uris = set(uris)
    uris.add("item:ItemId")
    extended = []
    additional = shape.find(qt("AdditionalProperties"))
    for child in additional if additional is not None else ():
        if child.tag == qt("FieldURI") and child.get("FieldURI") in FIELDS_BY_URI:
            uris.add(child.get("FieldURI"))
        elif child.tag == qt("ExtendedFieldURI"):
            extended.append(parse_extended_uri(child))
    return Shape(frozenset(uris), tuple(extended))


def is_message(item: Item) -> bool:
    return (item.fields["item_class"] or "").startswith("IPM.Note")


def item_id_element(parent: etree._Element, item: Item) -> None:
    etree.SubElement(parent, qt("ItemId"), Id=encode_item_id(item.mailbox, item.uuid), ChangeKey=item.change_key)


def _display(recipients: list[dict]) -> str:
    return "; ".join(r.get("name") or r["email"] for r in recipients)


def _computed(f: Field, item: Item):
    if f.uri == "item:Size":
        return str(len((item.fields["body"] or "").encode()) + len((item.fields["subject"] or "").encode()) + 256
                   + sum(a.size for a in item.attachments))
    if f.uri == "item:DisplayTo":
        return _display(item.fields["to_recipients"])
    if f.uri == "item:DisplayCc":
        return _display(item.fields["cc_recipients"])
    if f.uri == "item:HasAttachments":
        return "true" if any(not a.is_inline for a in item.attachments) else "false"
    return "false"   # IsAssociated: the sandbox keeps no FAI


def item_element(parent: etree._Element, item: Item, shape: Shape) -> etree._Element:
    """t:Message (or t:Item for other classes) with the properties ``shape`` asks for, in schema order."""
    message = is_message(item)
    element = etree.SubElement(parent, qt("Message" if message else "Item"))
    for f in shape.fields:
        if f.uri == EXTENDED:
            for path in shape.extended:
                if path.key == MESSAGE_FLAGS:
                    extended_property_element(element, path, str(message_flags(item)))
                elif path.key in item.extended:
                    extended_property_element(element, path, item.extended[path.key][1])
            continue
        if f.message_only and not message:
            continue
        if f.uri == "item:ItemId":
            item_id_element(element, item)
        elif f.uri == "item:ParentFolderId":
            etree.SubElement(element, qt("ParentFolderId"), Id=encode_folder_id(item.mailbox, item.folder_uuid))
        elif f.kind == "attachments":
            if item.attachments:
                attachments = etree.SubElement(element, qt("Attachments"))
                for attachment in item.attachments:
                    file_attachment_element(attachments, item, attachment)
        elif f.column is None:
            value = _computed(f, item)
            if value:
                etree.SubElement(element, qt(f.element)).text = value
        else:
            _field_element(element, f, item.fields.get(f.column), item)
    return element


def _field_element(parent: etree._Element, f: Field, value, item: Item) -> None:
    if value is None or value == [] or (f.kind == "datetime" and not value):
        return
    child = etree.SubElement(parent, qt(f.element))
    if f.kind == "bool":
        child.text = "true" if value else "false"
    elif f.kind == "body":
        child.set("BodyType", item.fields.get("body_type") or "Text")
        child.text = value
    elif f.kind == "recipients":
        for mailbox in value:
            _mailbox_element(child, mailbox)
    elif f.kind == "mailbox":
        _mailbox_element(child, value)
    elif f.kind == "strings":
        for text in value:
            etree.SubElement(child, qt("String")).text = text
    else:
        child.text = value


# -- file attachments ([MS-OXWSATT]) --------------------------------------------------------------

NAME_MISSING = ItemError("ErrorRequiredPropertyMissing", "Required property is missing.", field_uri="attachment:Name")
NOT_MODELLED_ATTACHMENT = ("ErrorInvalidPropertyRequest", "This property is not supported by this operation (the sandbox "
                           "models file attachments only).")
DEFAULT_CONTENT_TYPE = "application/octet-stream"   # RFC 2046: arbitrary binary data


def parse_attachment(element: etree._Element) -> Attachment:
    """A t:FileAttachment of a request -> Attachment; ItemError for a nameless one or another kind of attachment."""
    if element.tag != qt("FileAttachment"):
        raise ItemError(*NOT_MODELLED_ATTACHMENT)
    name = element.findtext(qt("Name"))
    if not name:
        raise NAME_MISSING
    content = base64.b64decode(element.findtext(qt("Content")) or "")   # the schema made it valid base64
    return Attachment(name, element.findtext(qt("ContentType")) or DEFAULT_CONTENT_TYPE,
                      element.findtext(qt("ContentId")) or None, parse_bool(element.findtext(qt("IsInline"))),
                      len(content), content=content)


def attachment_id_element(parent: etree._Element, item: Item, attachment: Attachment, root: bool = False) -> None:
    """t:AttachmentId; with ``root`` also its item's id and current ChangeKey (CreateAttachment's answer)."""
    attributes = {"Id": encode_attachment_id(item.mailbox, item.uuid, attachment.uuid)}
    if root:
        attributes.update(RootItemId=encode_item_id(item.mailbox, item.uuid), RootItemChangeKey=item.change_key)
    etree.SubElement(parent, qt("AttachmentId"), attributes)


def file_attachment_element(parent: etree._Element, item: Item, attachment: Attachment) -> etree._Element:
    """t:FileAttachment described as GetItem shows it, with t:Content when ``attachment`` carries it (GetAttachment)."""
    element = etree.SubElement(parent, qt("FileAttachment"))
    attachment_id_element(element, item, attachment)
    etree.SubElement(element, qt("Name")).text = attachment.name
    etree.SubElement(element, qt("ContentType")).text = attachment.content_type
    if attachment.content_id:
        etree.SubElement(element, qt("ContentId")).text = attachment.content_id
    etree.SubElement(element, qt("Size")).text = str(attachment.size)
    etree.SubElement(element, qt("LastModifiedTime")).text = attachment.last_modified
    etree.SubElement(element, qt("IsInline")).text = "true" if attachment.is_inline else "false"
    etree.SubElement(element, qt("IsContactPhoto")).text = "false"
    if attachment.content is not None:
        etree.SubElement(element, qt("Content")).text = base64.b64encode(attachment.content).decode("ascii")
    return element
