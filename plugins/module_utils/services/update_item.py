# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""UpdateItem on messages (MessageDisposition=SaveOnly).

Two forms of the one operation:

* ``set_extended_properties``: the exactly-once stamps, extended properties on
  many drafts in one request (the protocol's largest request: two
  SetItemField per draft);
* ``update``: set and clear fields of one draft (subject, body, recipients,
  extended properties...), given as ``message_fields`` elements.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

try:
    from lxml import etree
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    pass

from ansible_collections.exchange.ews.plugins.module_utils import message_fields
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M, T
from ansible_collections.exchange.ews.plugins.module_utils.responses import first_item, item_id
from ansible_collections.exchange.ews.plugins.module_utils.services.common import EwsService, item_id_element

CONFLICT_RESOLUTIONS = ("NeverOverwrite", "AutoResolve", "AlwaysOverwrite")


class UpdateItem(EwsService):
    """``UpdateItem(client).set_extended_properties(changes)`` -> one ``ResponseMessage`` per change;
    ``UpdateItem(client).update(identifier, change_key, set_fields)`` -> the new ``(ItemId, ChangeKey)``.

    ``changes``: list of ``(item_id, change_key, [(path, value), ...])`` where
    ``path`` is an ``ExtendedFieldURI`` attribute dict (``properties.path``)
    and ``value`` a string. With ``NeverOverwrite`` (the default) and a
    change key, Exchange refuses the change with ``ErrorIrresolvableConflict``
    when the item changed since that key was read: a compare-and-set.
    Messages need ``MessageDisposition="SaveOnly"``, which is always sent.
    """

    operation = "UpdateItem"

    def _request(self, conflict_resolution):
        if conflict_resolution not in CONFLICT_RESOLUTIONS:
            raise self.error("conflict_resolution must be one of %s" % ", ".join(CONFLICT_RESOLUTIONS))
        request = self.new_request(ConflictResolution=conflict_resolution, MessageDisposition="SaveOnly")
        return request, etree.SubElement(request, M + "ItemChanges")

    @staticmethod
    def _item_change(item_changes, identifier, change_key):
        change = etree.SubElement(item_changes, T + "ItemChange")
        change.append(item_id_element(identifier, change_key))
        return etree.SubElement(change, T + "Updates")

    @staticmethod
    def _set(updates, field):
        set_field = etree.SubElement(updates, T + "SetItemField")
        set_field.append(message_fields.path_element(field))
        etree.SubElement(set_field, T + "Message").append(field)

    def set_extended_properties(self, changes, conflict_resolution="NeverOverwrite"):
        request, item_changes = self._request(conflict_resolution)
        # Each change is a copy of the first one of its shape (the properties it sets, with or without a change
        # key) given its own id, key and values: lxml copies a small tree several times faster than it builds
        # one, and the exactly-once stamps set the same two properties on every draft of a batch.
        shapes = {}
        for identifier, change_key, values in changes:
            shape = (bool(change_key),) + tuple(tuple(path.items()) for path, _value in values)
            template = shapes.get(shape)
            if template is None:
                updates = self._item_change(item_changes, identifier, change_key)
                for path, value in values:
                    self._set(updates, message_fields.extended_property(path, value))
                shapes[shape] = updates.getparent()
                continue
            change = copy.copy(template)
            item_changes.append(change)
            item_id, updates = change
            item_id.set("Id", identifier)
            if change_key:
                item_id.set("ChangeKey", change_key)
            # SetItemField: the path, then t:Message/t:ExtendedProperty holding its path and t:Value.
            for set_field, (_path, value) in zip(updates, values):
                set_field[1][0][1].text = value
        return self.post(request, expected=len(changes))

    def update(self, identifier, change_key, set_fields, delete_fields=(), conflict_resolution="NeverOverwrite"):
        """Set and delete fields of one saved message; returns the new ``(ItemId, ChangeKey)``.

        ``set_fields``: ``message_fields`` elements (``text("Subject", ...)``,
        ``extended_property(path, ...)``...); ``delete_fields``: FieldURIs
        (``message:CcRecipients``) or ExtendedFieldURI dicts to clear. With
        ``NeverOverwrite`` and ``change_key``, an item edited since it was read
        is refused with ``ErrorIrresolvableConflict``. Errors raise ``EwsError``
        naming the ResponseCode and the item.
        """
        request, item_changes = self._request(conflict_resolution)
        updates = self._item_change(item_changes, identifier, change_key)
        for field in set_fields:
            self._set(updates, field)
        for path in delete_fields:
            etree.SubElement(updates, T + "DeleteItemField").append(message_fields.path(path))
        response = self.check(self.post(request, expected=1)[0], "the item was not updated", item_id=identifier)
        updated = first_item(response)
        return item_id(updated) if updated is not None else (identifier, None)
