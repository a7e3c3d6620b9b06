# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GetItem: read many items in one request (IdOnly plus chosen properties)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError, EwsResponseLost


def item_id_value(item_id, change_key=None):
    """An ``ItemId`` as zeep keyword values."""
    value = {"Id": item_id}
    if change_key:
        value["ChangeKey"] = change_key
    return value


class GetItem:
    """``GetItem(client).call(ids, field_uris, extended_paths)`` -> one ``ResponseMessage`` per id.

    ``ids``: item id strings; ``field_uris``: schema properties such as
    ``message:IsDraft``; ``extended_paths``: ``ExtendedFieldURI`` values as
    dicts (``properties.path``). Read the items with ``responses.first_item``.
    """

    def __init__(self, client):
        self.client = client

    def call(self, ids, field_uris=(), extended_paths=()):
        shape = {"BaseShape": "IdOnly"}
        if field_uris or extended_paths:
            shape["AdditionalProperties"] = {
                "FieldURI": [{"FieldURI": uri} for uri in field_uris],
                "ExtendedFieldURI": list(extended_paths),
            }
        body = {"ItemShape": shape, "ItemIds": {"ItemId": [item_id_value(i) for i in ids]}}
        try:
            messages = self.client.call("GetItem", **body)
        except EwsResponseLost:
            # A read changes nothing: repeating it is always safe.
            messages = self.client.call("GetItem", **body)
        if len(messages) != len(ids):
            raise EwsError("expected %d response messages, got %d" % (len(ids), len(messages)),
                           operation="GetItem")
        return messages
