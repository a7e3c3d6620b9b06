# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DeleteAttachment: remove attachments by their AttachmentId."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from lxml import etree
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    pass

from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M, T
from ansible_collections.exchange.ews.plugins.module_utils.services.common import EwsService

GONE = "ErrorInvalidAttachmentId"


class DeleteAttachment(EwsService):
    """``DeleteAttachment(client).delete(attachment_ids)`` -> the item's new ChangeKey, or None.

    Unlike the item operations, DeleteAttachment takes no ChangeKey: it is not
    a compare-and-set. Callers make it one by writing the item with a
    compare-and-set first (``messages.py`` does).
    """

    operation = "DeleteAttachment"

    def delete(self, attachment_ids):
        """Delete the attachments; returns the item's ChangeKey after the last deletion (RootItemChangeKey),
        or None when every one was already gone (``ErrorInvalidAttachmentId``). Other errors raise ``EwsError``."""
        attachment_ids = list(attachment_ids)
        request = self.new_request()
        container = etree.SubElement(request, M + "AttachmentIds")
        for attachment_id in attachment_ids:
            etree.SubElement(container, T + "AttachmentId", Id=attachment_id)
        change_key = None
        for message in self.post(request, expected=len(attachment_ids)):
            if message.response_code == GONE:
                continue
            root = self.check(message, "the attachment was not deleted").element.find(M + "RootItemId")
            if root is not None and root.get("RootItemChangeKey"):
                change_key = root.get("RootItemChangeKey")
        return change_key
