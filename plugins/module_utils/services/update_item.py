# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""UpdateItem on messages (MessageDisposition=SaveOnly).

Two forms of the one operation:

* ``set_extended_properties``: the exactly-once stamps, extended properties on
  many drafts in one request. Built with lxml rather than zeep keyword
  arguments: it is the protocol's largest request (two SetItemField per draft)
  and zeep's serialisation of it costs about half a second per 1,000 drafts.
* ``update``: set and clear ordinary fields (subject, body, recipients...) of
  one draft, with zeep keyword values (the draft module).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from lxml import etree
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    pass

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M, T
from ansible_collections.exchange.ews.plugins.module_utils.responses import first_item, item_id
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import item_id_value


CONFLICT_RESOLUTIONS = ("NeverOverwrite", "AutoResolve", "AlwaysOverwrite")


class UpdateItem:
    """``UpdateItem(client).set_extended_properties(changes)`` -> one ``ResponseMessage`` per change;
    ``UpdateItem(client).update(identifier, change_key, set_fields)`` -> the new ``(ItemId, ChangeKey)``.

    ``changes``: list of ``(item_id, change_key, [(path, value), ...])`` where
    ``path`` is an ``ExtendedFieldURI`` attribute dict (``properties.path``)
    and ``value`` a string. With ``NeverOverwrite`` (the default) and a
    change key, Exchange refuses the change with ``ErrorIrresolvableConflict``
    when the item changed since that key was read: a compare-and-set.
    Messages need ``MessageDisposition="SaveOnly"``, which is always sent.
    """

    def __init__(self, client):
        self.client = client

    def set_extended_properties(self, changes, conflict_resolution="NeverOverwrite"):
        if conflict_resolution not in CONFLICT_RESOLUTIONS:
            raise EwsError("conflict_resolution must be one of %s" % ", ".join(CONFLICT_RESOLUTIONS),
                           operation="UpdateItem")
        request = etree.Element(M + "UpdateItem", ConflictResolution=conflict_resolution,
                                MessageDisposition="SaveOnly")
        item_changes = etree.SubElement(request, M + "ItemChanges")
        for identifier, change_key, values in changes:
            change = etree.SubElement(item_changes, T + "ItemChange")
            id_element = etree.SubElement(change, T + "ItemId", Id=identifier)
            if change_key:
                id_element.set("ChangeKey", change_key)
            updates = etree.SubElement(change, T + "Updates")
            for path, value in values:
                set_field = etree.SubElement(updates, T + "SetItemField")
                etree.SubElement(set_field, T + "ExtendedFieldURI", path)
                prop = etree.SubElement(etree.SubElement(set_field, T + "Message"), T + "ExtendedProperty")
                etree.SubElement(prop, T + "ExtendedFieldURI", path)
                etree.SubElement(prop, T + "Value").text = value
        messages = self.client.call("UpdateItem", request=request)
        if len(messages) != len(changes):
            raise EwsError("expected %d response messages, got %d" % (len(changes), len(messages)),
                           operation="UpdateItem")
        return messages

    def update(self, identifier, change_key, set_fields, delete_field_uris=(),
               conflict_resolution="NeverOverwrite"):
        """Set and delete fields of one saved message; returns the new ``(ItemId, ChangeKey)``.

        ``set_fields``: ``[(FieldURI or ExtendedFieldURI dict, t:Message zeep value holding only that field)]``;
        ``delete_field_uris``: FieldURIs to clear. With ``NeverOverwrite`` and
        ``change_key``, an item edited since it was read is refused with
        ``ErrorIrresolvableConflict``. Errors raise ``EwsError`` naming the ResponseCode.
        """
        updates = {"SetItemField": [],
                   "DeleteItemField": [{"FieldURI": {"FieldURI": uri}} for uri in delete_field_uris]}
        for path, message in set_fields:
            key = "ExtendedFieldURI" if isinstance(path, dict) else "FieldURI"
            updates["SetItemField"].append({key: path if isinstance(path, dict) else {"FieldURI": path},
                                            "Message": message})
        response = self.client.call("UpdateItem", ConflictResolution=conflict_resolution,
                                    MessageDisposition="SaveOnly",
                                    ItemChanges={"ItemChange": [{"ItemId": item_id_value(identifier, change_key),
                                                                 "Updates": updates}]})[0]
        if not response.ok:
            raise EwsError(response.message_text or "the item was not updated", operation="UpdateItem",
                           response_code=response.response_code, item_id=identifier)
        updated = first_item(response)
        return item_id(updated) if updated is not None else (identifier, None)
