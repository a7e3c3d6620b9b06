# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CreateAttachment: add file attachments to a saved item."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from lxml import etree
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    pass

from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M, NSMAP, T
from ansible_collections.exchange.ews.plugins.module_utils.services.common import EwsService, item_id_element


class CreateAttachment(EwsService):
    """``CreateAttachment(client).add(item_id, change_key, attachments)`` -> the item's new ChangeKey.

    ``attachments`` are ``t:FileAttachment`` elements (``message_fields.file_attachment``).
    """

    operation = "CreateAttachment"

    def add(self, item_id, change_key, attachments):
        """Add ``attachments`` to the item; returns its ChangeKey after the last one.

        Every attachment changes the item, so the last answer's
        RootItemChangeKey is the current ChangeKey. With ``change_key``
        Exchange refuses an item changed since that key (``ErrorStaleObject``):
        a compare-and-set. An Error raises ``EwsError`` naming the attachment
        (those before it were added).
        """
        attachments = list(attachments)
        request = self.new_request()
        request.append(item_id_element(item_id, change_key, tag=M + "ParentItemId"))
        etree.SubElement(request, M + "Attachments").extend(attachments)
        for attachment, message in zip(attachments, self.post(request, expected=len(attachments))):
            self.check(message, "not added", item_id=item_id, about="attachment %r" % attachment.findtext(T + "Name"))
            created = message.element.find("m:Attachments/*/t:AttachmentId", NSMAP)
            if created is not None and created.get("RootItemChangeKey"):
                change_key = created.get("RootItemChangeKey")
        return change_key
