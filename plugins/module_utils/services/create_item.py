# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CreateItem: save new messages as drafts (MessageDisposition=SaveOnly)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from lxml import etree
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    pass

from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M
from ansible_collections.exchange.ews.plugins.module_utils.responses import first_item, item_id
from ansible_collections.exchange.ews.plugins.module_utils.services.common import EwsService, folder_id_element


class CreateItem(EwsService):
    """Save messages without sending them.

    ``messages`` are ``t:Message`` elements (``message_fields.message``);
    ``folder`` is a ``services.common.folder_id`` value (for a delegate: the
    principal's drafts).
    """

    operation = "CreateItem"

    def save_drafts(self, messages, folder):
        """``[(ItemId, ChangeKey)]`` of the saved drafts, in order.

        Raises ``EwsError`` naming the ResponseCode of the first message that
        failed (the others, if any, were saved).
        """
        messages = list(messages)
        request = self.new_request(MessageDisposition="SaveOnly")
        etree.SubElement(request, M + "SavedItemFolderId").append(folder_id_element(folder))
        etree.SubElement(request, M + "Items").extend(messages)
        return [item_id(first_item(self.check(response, "the item was not created")))
                for response in self.post(request, expected=len(messages))]
