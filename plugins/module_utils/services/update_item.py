# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""UpdateItem: set extended properties on many messages in one request.

The request is built with lxml rather than zeep keyword arguments: it is the
protocol's largest request (two SetItemField per draft) and zeep's
serialisation of it costs about half a second per 1,000 drafts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from lxml import etree
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    pass

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import MESSAGES_NS, TYPES_NS

M = "{%s}" % MESSAGES_NS
T = "{%s}" % TYPES_NS

CONFLICT_RESOLUTIONS = ("NeverOverwrite", "AutoResolve", "AlwaysOverwrite")


class UpdateItem:
    """``UpdateItem(client).set_extended_properties(changes)`` -> one ``ResponseMessage`` per change.

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
        for item_id, change_key, values in changes:
            change = etree.SubElement(item_changes, T + "ItemChange")
            id_element = etree.SubElement(change, T + "ItemId", Id=item_id)
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
