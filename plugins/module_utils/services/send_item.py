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

from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M
from ansible_collections.exchange.ews.plugins.module_utils.services.common import (
    EwsService,
    folder_id_element,
    item_ids_element,
)


class SendItem(EwsService):
    """``SendItem(client).call(refs, save_copy, saved_folder)`` -> one ``ResponseMessage`` per ref.

    ``refs``: ``(item_id, change_key)`` pairs (change key may be None);
    ``saved_folder``: a ``services.common.folder_id`` value or None for
    Exchange's default (Sent Items of the mailbox the request runs as).
    Ignored when ``save_copy`` is false.
    """

    operation = "SendItem"

    def call(self, refs, save_copy=True, saved_folder=None):
        refs = list(refs)
        request = self.new_request(SaveItemToFolder="true" if save_copy else "false")
        request.append(item_ids_element(refs))
        if save_copy and saved_folder is not None:
            etree.SubElement(request, M + "SavedItemFolderId").append(folder_id_element(saved_folder))
        return self.post(request, expected=len(refs))
