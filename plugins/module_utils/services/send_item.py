# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SendItem: send many drafts in one request.

This is the raw operation. It is not idempotent: a lost response may hide a
send that happened. Send drafts with ``exactly_once.ExactlyOnceSender``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from lxml import etree
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    pass

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M, NSMAP
from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import folder_id_element
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import item_ids_element


class SendItem:
    """``SendItem(client).call(refs, save_copy, saved_folder)`` -> one ``ResponseMessage`` per ref.

    ``refs``: ``(item_id, change_key)`` pairs (change key may be None);
    ``saved_folder``: a folder id value from ``services.find_item.folder_id``
    or None for Exchange's default (Sent Items of the mailbox the request
    runs as). Ignored when ``save_copy`` is false.
    """

    def __init__(self, client):
        self.client = client

    def call(self, refs, save_copy=True, saved_folder=None):
        request = etree.Element(M + "SendItem", SaveItemToFolder="true" if save_copy else "false", nsmap=NSMAP)
        request.append(item_ids_element(refs))
        if save_copy and saved_folder is not None:
            etree.SubElement(request, M + "SavedItemFolderId").append(folder_id_element(saved_folder))
        messages = self.client.call("SendItem", request=request)
        if len(messages) != len(refs):
            raise EwsError("expected %d response messages, got %d" % (len(refs), len(messages)),
                           operation="SendItem")
        return messages
