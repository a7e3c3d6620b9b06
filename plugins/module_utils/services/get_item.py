# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GetItem: read many items in one request (IdOnly plus chosen properties)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from lxml import etree
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    pass

from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M, T
from ansible_collections.exchange.ews.plugins.module_utils.services.common import EwsService, item_ids_element


class GetItem(EwsService):
    """``GetItem(client).call(ids, field_uris, extended_paths)`` -> one ``ResponseMessage`` per id.

    ``ids``: item id strings; ``field_uris``: schema properties such as
    ``message:IsDraft``; ``extended_paths``: ``ExtendedFieldURI`` values as
    dicts (``properties.path``). Read the items with ``responses.first_item``.
    A lost answer is asked again once (a read changes nothing).
    """

    operation = "GetItem"
    read_only = True

    def call(self, ids, field_uris=(), extended_paths=()):
        ids = list(ids)
        request = self.new_request()
        shape = etree.SubElement(request, M + "ItemShape")
        etree.SubElement(shape, T + "BaseShape").text = "IdOnly"
        if field_uris or extended_paths:
            additional = etree.SubElement(shape, T + "AdditionalProperties")
            for uri in field_uris:
                etree.SubElement(additional, T + "FieldURI", FieldURI=uri)
            for path in extended_paths:
                etree.SubElement(additional, T + "ExtendedFieldURI", path)
        request.append(item_ids_element((item_id, None) for item_id in ids))
        return self.post(request, expected=len(ids))
