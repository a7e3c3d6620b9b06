# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CreateItem: save new messages as drafts (MessageDisposition=SaveOnly)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError
from ansible_collections.exchange.ews.plugins.module_utils.responses import first_item, item_id


class CreateItem:
    """Save messages without sending them.

    ``messages`` are zeep values of ``t:Message`` (``{"Subject": ...,
    "Body": {"_value_1": text, "BodyType": "Text"}, "ToRecipients": {"Mailbox":
    [{"EmailAddress": ...}]}, "ExtendedProperty": [...]}``); ``folder`` is a
    ``find_item.folder_id`` value (for a delegate: the principal's drafts).
    """

    operation = "CreateItem"

    def __init__(self, client):
        self.client = client

    def save_drafts(self, messages, folder):
        """``[(ItemId, ChangeKey)]`` of the saved drafts, in order.

        Raises ``EwsError`` naming the ResponseCode of the first message that
        failed (the others, if any, were saved).
        """
        responses = self.client.call(self.operation, MessageDisposition="SaveOnly",
                                     SavedItemFolderId=folder, Items={"Message": list(messages)})
        saved = []
        for response in responses:
            if not response.ok:
                raise EwsError(response.message_text or "the item was not created", operation=self.operation,
                               response_code=response.response_code)
            saved.append(item_id(first_item(response)))
        return saved
