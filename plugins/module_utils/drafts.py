# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drafts identified by a caller's key: find, create, update only what differs, delete.

The logic of the ``exchange.ews.draft`` module; ``DraftManager.present()`` and
``absent()`` return the module's result dict (with ``diff``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.exchange.ews.plugins.module_utils import message_fields, properties
from ansible_collections.exchange.ews.plugins.module_utils import restrictions as r
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import NSMAP
from ansible_collections.exchange.ews.plugins.module_utils.responses import first_item
from ansible_collections.exchange.ews.plugins.module_utils.transport import HAS_ZEEP
from ansible_collections.exchange.ews.plugins.module_utils.validation import validate_key, validate_smtp_address

if HAS_ZEEP:
    from ansible_collections.exchange.ews.plugins.module_utils.services.create_item import CreateItem
    from ansible_collections.exchange.ews.plugins.module_utils.services.delete_item import DeleteItem
    from ansible_collections.exchange.ews.plugins.module_utils.services.common import folder_id
    from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem
    from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import GetItem
    from ansible_collections.exchange.ews.plugins.module_utils.services.update_item import UpdateItem

# The draft's identity and the digest of the body this module last wrote (see the body option).
KEY_PATH = properties.path("ExchangeEwsDraftKey")
BODY_DIGEST_PATH = properties.path("ExchangeEwsDraftBodyDigest")

RECIPIENT_FIELDS = {"to": "ToRecipients", "cc": "CcRecipients", "bcc": "BccRecipients"}
BODY_TYPES = {"text": "Text", "html": "HTML"}


def validate_options(params):
    """The module's own options, checked before any request (``EwsModule`` checks the connection's)."""
    validate_key(params["key"], "key")
    if params["mailbox"]:
        validate_smtp_address(params["mailbox"], "mailbox")
    for option in RECIPIENT_FIELDS:
        for index, address in enumerate(params[option] or ()):
            validate_smtp_address(address, "%s[%d]" % (option, index))


def body_digest(body_type, body):
    return hashlib.sha256(("%s\n%s" % (body_type, body)).encode("utf-8")).hexdigest()


def desired_state(params):
    """The managed fields as comparable values; options that are not given are not managed."""
    desired = {}
    if params["subject"] is not None:
        desired["subject"] = params["subject"]
    if params["body"] is not None:
        desired["body_sha256"] = body_digest(params["body_type"], params["body"])
    for option in RECIPIENT_FIELDS:
        if params[option] is not None:
            desired[option] = sorted(address.lower() for address in params[option])
    if params["importance"] is not None:
        desired["importance"] = params["importance"]
    if params["categories"] is not None:
        desired["categories"] = sorted(params["categories"])
    return desired


def field_changes(params, fields):
    """``(set_fields, delete_field_uris)`` for UpdateItem.update, for the given option names."""
    set_fields = []
    delete_uris = []
    for name in fields:
        field = content_fields(params, [name])
        if field:
            set_fields.extend(field)
        else:
            # An emptied list: cleared.
            delete_uris.append(("message:" if name in RECIPIENT_FIELDS else "item:")
                               + RECIPIENT_FIELDS.get(name, "Categories"))
    return set_fields, delete_uris


def digest_property(params):
    return message_fields.extended_property(BODY_DIGEST_PATH, body_digest(params["body_type"], params["body"]))


def content_fields(params, fields):
    """The ``message_fields`` elements setting ``fields`` (names of desired_state); empty lists are left out."""
    elements = []
    if "subject" in fields:
        elements.append(message_fields.text("Subject", params["subject"]))
    if "body_sha256" in fields:
        elements.append(message_fields.body(params["body"], BODY_TYPES[params["body_type"]]))
        elements.append(digest_property(params))
    if "categories" in fields and params["categories"]:
        elements.append(message_fields.strings("Categories", params["categories"]))
    if "importance" in fields:
        elements.append(message_fields.text("Importance", params["importance"].capitalize()))
    for option, element in RECIPIENT_FIELDS.items():
        if option in fields and params[option]:
            elements.append(message_fields.mailboxes(element, params[option]))
    return elements


def new_draft(params, fields):
    return message_fields.message([message_fields.text("ItemClass", "IPM.Note"),
                                   message_fields.extended_property(KEY_PATH, params["key"])]
                                  + content_fields(params, fields))


class AmbiguousKeyError(Exception):
    """More than one draft carries the key: the module will not guess which one is meant."""

    def __init__(self, key, count, ids):
        self.ids = ids
        super(AmbiguousKeyError, self).__init__(
            "%d drafts in Drafts carry key %r, expected at most one; delete the extra ones: %s"
            % (count, key, ", ".join(ids)))


class DraftManager:
    """Reads the draft carrying the key, then creates, updates or deletes it."""

    def __init__(self, client, params, check_mode):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.folder = folder_id("drafts", params["mailbox"])

    def find(self):
        """``(FoundItem or None, current state dict)`` for the draft carrying the key."""
        key_path = r.extended_field_uri(KEY_PATH)
        paths = [r.field_uri("item:Subject"), r.field_uri("item:Importance"), r.field_uri("item:Categories"),
                 key_path, r.extended_field_uri(BODY_DIGEST_PATH)]
        # One is expected; up to 10 are read so that the ambiguity error can list them.
        result = FindItem(self.client).find(self.folder, paths, r.is_equal_to(key_path, self.params["key"]),
                                            max_items=10)
        if result.total > 1:
            raise AmbiguousKeyError(self.params["key"], result.total, [item.id for item in result.items])
        if not result.items:
            return None, {}
        item = result.items[0]
        current = {
            "subject": item.fields.get("Subject") or "",
            "body_sha256": item.extended.get(BODY_DIGEST_PATH["PropertyName"]),
            "importance": (item.fields.get("Importance") or "Normal").lower(),
            "categories": sorted(item.fields.get("Categories") or []),
        }
        if any(self.params[option] is not None for option in RECIPIENT_FIELDS):
            current.update(self.recipients(item.id))
        return item, current

    def sent_copy(self):
        """The copy in Sent Items of a draft with this key that was already sent, or None.

        Exchange copies extended properties (the key) to the saved copy, so a
        re-run after the send finds it and does not prepare the message again.
        """
        key_path = r.extended_field_uri(KEY_PATH)
        result = FindItem(self.client).find(folder_id("sentitems", self.params["mailbox"]), [key_path],
                                            r.is_equal_to(key_path, self.params["key"]), max_items=1)
        return result.items[0] if result.items else None

    def recipients(self, identifier):
        """The draft's recipients by option name, lower-cased and sorted (FindItem cannot return them)."""
        uris = ["message:%s" % element for element in RECIPIENT_FIELDS.values()]
        response = GetItem(self.client).call([identifier], field_uris=uris)[0]
        if not response.ok:
            raise EwsError(response.message_text or "the draft could not be read", operation="GetItem",
                           response_code=response.response_code, item_id=identifier)
        item = first_item(response)
        found = {}
        for option, element in RECIPIENT_FIELDS.items():
            addresses = item.iterfind("t:%s/t:Mailbox/t:EmailAddress" % element, NSMAP)
            found[option] = sorted((address.text or "").lower() for address in addresses)
        return found

    def present(self):
        item, current = self.find()
        desired = desired_state(self.params)
        if item is None:
            sent = self.sent_copy()
            if sent is not None:
                return dict(changed=False, changed_fields=[], sent=True, sent_copy_id=sent.id,
                            diff=dict(before={}, after={}))
            fields = sorted(desired)
            result = dict(changed=True, changed_fields=fields, diff=dict(before={}, after=desired))
            if not self.check_mode:
                identifier, change_key = CreateItem(self.client).save_drafts(
                    [new_draft(self.params, fields)], self.folder)[0]
                result.update(id=identifier, change_key=change_key)
            return result
        fields = sorted(name for name, value in desired.items() if current.get(name) != value)
        result = dict(changed=bool(fields), changed_fields=fields, id=item.id, change_key=item.change_key,
                      diff=dict(before=dict((name, current.get(name)) for name in desired), after=desired))
        if fields and not self.check_mode:
            set_fields, delete_uris = field_changes(self.params, fields)
            result["id"], result["change_key"] = UpdateItem(self.client).update(
                item.id, item.change_key, set_fields, delete_uris)
        return result

    def absent(self):
        item, current = self.find()
        if item is None:
            return dict(changed=False, changed_fields=[], diff=dict(before={}, after={}))
        if not self.check_mode:
            DeleteItem(self.client).delete([(item.id, item.change_key)])
        return dict(changed=True, changed_fields=[], id=item.id, diff=dict(before=current, after={}))
