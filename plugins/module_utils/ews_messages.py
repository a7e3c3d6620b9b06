# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyed messages over EWS: the requests of ``messages.KeyedMessage`` (``EwsMessages``).

One search by key is one FindItem over Drafts, Outbox and Sent Items (in the
order a message moves); a message is read with GetItem, created with CreateItem
(attachments in it when they fit), changed with UpdateItem (``NeverOverwrite``:
a compare-and-set on the ChangeKey), its attachments added and deleted with
CreateAttachment and DeleteAttachment, deleted with DeleteItem, and sent by
``ExactlyOnceSender`` over an ``EwsChannel``. The message's fields are built
with ``message_fields``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.exchange.ews.plugins.module_utils import message_decisions as decisions
from ansible_collections.exchange.ews.plugins.module_utils import message_fields as fields
from ansible_collections.exchange.ews.plugins.module_utils import restrictions as r
from ansible_collections.exchange.ews.plugins.module_utils.ews_channel import EwsChannel
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import NSMAP, T
from ansible_collections.exchange.ews.plugins.module_utils.messages import (
    ATTACHMENTS_PATH,
    BODY_DIGEST_PATH,
    BODY_TYPES,
    DEFERRED_SEND_TIME_PATH,
    HEADERS_PATH,
    KEY_PATH,
    NOT_FOUND,
    RECIPIENT_FIELDS,
    SEARCH_LIMIT,
    Current,
    MessageError,
    header_path,
    utc_text,
)
from ansible_collections.exchange.ews.plugins.module_utils.responses import (
    bool_field,
    extended_properties,
    first_item,
    item_id,
    parse_datetime,
    parse_datetime_text,
)
from ansible_collections.exchange.ews.plugins.module_utils.services.common import folder_id
from ansible_collections.exchange.ews.plugins.module_utils.services.create_attachment import CreateAttachment
from ansible_collections.exchange.ews.plugins.module_utils.services.create_item import CreateItem
from ansible_collections.exchange.ews.plugins.module_utils.services.delete_attachment import DeleteAttachment
from ansible_collections.exchange.ews.plugins.module_utils.services.delete_item import DeleteItem
from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import GetItem
from ansible_collections.exchange.ews.plugins.module_utils.services.update_item import UpdateItem

READ_FIELDS = ("item:Subject", "item:Sensitivity", "item:Importance", "item:Categories", "item:Attachments",
               "item:DateTimeSent", "message:ToRecipients", "message:CcRecipients", "message:BccRecipients",
               "message:ReplyTo", "message:From", "message:IsReadReceiptRequested",
               "message:IsDeliveryReceiptRequested", "message:InternetMessageId")
READ_PROPERTIES = (BODY_DIGEST_PATH, ATTACHMENTS_PATH, HEADERS_PATH, DEFERRED_SEND_TIME_PATH)
SEARCH_FIELDS = ("item:IsDraft", "item:DateTimeCreated", "item:DateTimeSent", "item:Subject",
                 "message:InternetMessageId")


class EwsMessages:
    """The EWS requests of keyed messages in ``mailbox`` (None: the connecting or impersonated user's)."""

    # EWS takes a whole request of up to the server's limit (the task's max_request_size_mb).
    max_request_bytes = None
    max_attachment_bytes = None
    # How a failed send is named in errors.
    api = "EWS"
    send_operation = "SendItem"

    def __init__(self, client, mailbox=None):
        self.client = client
        self.mailbox = mailbox
        self.folders = [(name, folder_id(name, mailbox)) for name in decisions.SEARCH_ORDER]
        self.drafts_folder = self.folders[0][1]

    @property
    def server_time(self):
        return self.client.server_time

    def channel(self):
        """Where ``ExactlyOnceSender`` sends the elected draft: a copy in the mailbox's Sent Items."""
        return EwsChannel(self.client, save_copy=True, saved_item_folder="sentitems", mailbox=self.mailbox)

    # -- reading ------------------------------------------------------------------------------------

    def search(self, key):
        """What carries ``key`` in Drafts, Outbox and Sent Items (``message_decisions.Found``), in one FindItem."""
        key_uri = r.extended_field_uri(KEY_PATH)
        result = FindItem(self.client).find(
            parent_folders=[folder for _name, folder in self.folders],
            additional_properties=[r.field_uri(uri) for uri in SEARCH_FIELDS] + [key_uri],
            restriction=r.is_equal_to(key_uri, key), limit=SEARCH_LIMIT)
        names = dict((id(folder), name) for name, folder in self.folders)
        found = []
        for item in result.items:
            created = parse_datetime_text(item.fields.get("DateTimeCreated"))
            if created is None:
                raise MessageError("Exchange returned no DateTimeCreated for item %s; the module orders drafts "
                                   "by it" % item.id, operation="FindItem", response_code="EwsNoCreationTime")
            found.append(decisions.Found(names[id(item.folder)], (item.fields.get("IsDraft") or "true") != "false",
                                         created, item.id, item.change_key, item.fields))
        return found

    def read(self, identifier, body=False, text_body=False):
        """The message ``identifier`` as ``Current`` (its body too when ``body``), or None when it is gone."""
        service = GetItem(self.client)
        message = service.call([identifier], field_uris=READ_FIELDS + (("item:Body",) if body else ()),
                               extended_paths=READ_PROPERTIES)[0]
        if message.response_code == NOT_FOUND:
            return None
        element = first_item(service.check(message, "the message could not be read", item_id=identifier))
        return _current(element, body)

    def created(self, identifier):
        """The message's DateTimeCreated, or None when it is gone."""
        service = GetItem(self.client)
        message = service.call([identifier], field_uris=("item:DateTimeCreated",))[0]
        if message.response_code == NOT_FOUND:
            return None
        created = parse_datetime(first_item(service.check(message, "the draft could not be read",
                                                          item_id=identifier)), "DateTimeCreated")
        if created is None:
            raise MessageError("Exchange's answer carries no DateTimeCreated for draft %s: the module needs it to "
                               "order concurrent runs" % identifier, response_code="EwsNoServerClock")
        return created

    # -- writing --------------------------------------------------------------------------------------

    def create(self, spec, with_attachments):
        """A new draft in Drafts with ``spec``'s content (its attachments too when ``with_attachments``, else an
        empty record of them); ``(id, change_key)``."""
        content = [fields.text("ItemClass", "IPM.Note"), fields.extended_property(KEY_PATH, spec.key)]
        content += _content(spec, spec.given(), new=True)[0]
        if spec.attachments is not None:
            content.append(_record(spec.manifest() if with_attachments else {}))
            if with_attachments and spec.attachments:
                content.append(fields.attachments([_attachment(a) for a in spec.attachments]))
        (identifier, change_key), = CreateItem(self.client).save_drafts([fields.message(content)], self.drafts_folder)
        return identifier, change_key

    def write(self, identifier, change_key, spec, names, removed_headers=(), record=None):
        """Bring the options ``names`` of the draft to ``spec``'s content, remove ``removed_headers`` and write the
        attachments ``record`` (a manifest) when given: one UpdateItem, a compare-and-set on ``change_key``.
        ``(id, change_key)``; an ``EwsError`` (its ResponseCode a conflict code when another writer came first)."""
        setting, deleting = _content(spec, names, new=False)
        deleting.extend(header_path(name) for name in removed_headers)
        if record is not None:
            setting.append(_record(record))
        return UpdateItem(self.client).update(identifier, change_key, setting, deleting)

    def add_attachments(self, identifier, change_key, attachments):
        """One CreateAttachment of ``attachments`` (a compare-and-set on ``change_key``); the new ChangeKey."""
        return CreateAttachment(self.client).add(identifier, change_key, [_attachment(a) for a in attachments])

    def delete_attachments(self, _identifier, _change_key, attachment_ids):
        """DeleteAttachment (it takes no ChangeKey: the write before it was the compare-and-set); the item's
        ChangeKey after it, or None when they were all gone."""
        return DeleteAttachment(self.client).delete(attachment_ids)

    def delete(self, identifier, change_key, hard=False):
        """Delete the message (HardDelete, or into Deleted Items), pinned to ``change_key``; False when it was
        already gone."""
        return not DeleteItem(self.client).delete([(identifier, change_key)],
                                                  "HardDelete" if hard else "MoveToDeletedItems")


def _attachment(attachment):
    return fields.file_attachment(attachment.name, attachment.content_type, attachment.content, attachment.content_id)


def _record(manifest):
    return fields.extended_property(ATTACHMENTS_PATH, json.dumps(manifest, sort_keys=True))


def _content(spec, names, new):
    """``(set, delete)`` field lists (``message_fields`` elements; FieldURIs or ExtendedFieldURI dicts) that bring
    a message to ``spec``'s content for the options in ``names``, attachments aside. ``new``: a message being
    created (nothing to delete)."""
    params = spec.params
    setting, deleting = [], []
    for name in [name for name in names if name in spec.values and name != "attachments"]:
        if name == "subject":
            setting.append(fields.text("Subject", params["subject"]))
        elif name == "body":
            setting.append(fields.body(params["body"], BODY_TYPES[params["body_type"]]))
            setting.append(fields.extended_property(BODY_DIGEST_PATH, spec.values["body"]))
        elif name in dict(RECIPIENT_FIELDS):
            element = dict(RECIPIENT_FIELDS)[name]
            if params[name]:
                setting.append(fields.mailboxes(element, params[name]))
            elif not new:
                deleting.append("message:%s" % element)
        elif name == "from":
            setting.append(fields.mailbox("From", spec.sender()))
        elif name in ("importance", "sensitivity"):
            setting.append(fields.text(name.capitalize(), params[name].capitalize()))
        elif name == "categories":
            if params["categories"]:
                setting.append(fields.strings("Categories", params["categories"]))
            elif not new:
                deleting.append("item:Categories")
        elif name in ("read_receipt", "delivery_receipt"):
            element = "IsReadReceiptRequested" if name == "read_receipt" else "IsDeliveryReceiptRequested"
            setting.append(fields.boolean(element, params[name]))
        elif name == "deliver_at":
            if spec.deliver_at:
                setting.append(fields.extended_property(DEFERRED_SEND_TIME_PATH, utc_text(spec.deliver_at)))
            elif not new:
                deleting.append(DEFERRED_SEND_TIME_PATH)
        elif name == "headers":
            setting.extend(fields.extended_property(header_path(header), value)
                           for header, value in sorted(spec.headers.items()))
            setting.append(fields.extended_property(HEADERS_PATH, json.dumps(spec.headers, sort_keys=True)))
    return setting, deleting


def _current(element, body_read):
    """A message GetItem returned, as ``Current``."""
    identifier, change_key = item_id(element)
    extended = extended_properties(element)
    attachments = []
    for attachment in element.iterfind("t:Attachments/*", NSMAP):
        size = attachment.findtext(T + "Size")
        attachments.append((attachment.find(T + "AttachmentId").get("Id"), attachment.findtext(T + "Name") or "",
                            attachment.findtext(T + "ContentType"), int(size) if size and size.isdigit() else None,
                            attachment.findtext(T + "ContentId")))
    body = element.find(T + "Body")
    deferred = next((value for name, value in extended.items()
                     if name.lower() == DEFERRED_SEND_TIME_PATH["PropertyTag"].lower() and isinstance(value, str)),
                    None)
    recipients = dict((option, [address.text or "" for address in element.iterfind(
        "t:%s/t:Mailbox/t:EmailAddress" % field, NSMAP)]) for option, field in RECIPIENT_FIELDS)
    return Current(identifier, change_key, dict(
        subject=element.findtext(T + "Subject"),
        body=(body.text or "") if body_read and body is not None else None,
        body_type=body.get("BodyType") if body is not None else None,
        body_digest=extended.get(BODY_DIGEST_PATH["PropertyName"]),
        attachments_record=extended.get(ATTACHMENTS_PATH["PropertyName"]),
        headers_record=extended.get(HEADERS_PATH["PropertyName"]),
        deferred=parse_datetime_text(deferred) if deferred else None,
        sender=element.findtext("t:From/t:Mailbox/t:EmailAddress", namespaces=NSMAP),
        importance=element.findtext(T + "Importance"), sensitivity=element.findtext(T + "Sensitivity"),
        categories=[string.text or "" for string in element.iterfind("t:Categories/t:String", NSMAP)],
        read_receipt=bool_field(element, "IsReadReceiptRequested") is True,
        delivery_receipt=bool_field(element, "IsDeliveryReceiptRequested") is True,
        recipients=recipients, attachments=attachments,
        internet_message_id=element.findtext(T + "InternetMessageId"),
        sent=parse_datetime(element, "DateTimeSent")))
