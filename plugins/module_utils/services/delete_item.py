# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DeleteItem: remove items, by default into Deleted Items (recoverable)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError

DELETE_TYPES = ("HardDelete", "SoftDelete", "MoveToDeletedItems")


class DeleteItem:
    """Delete items given as ``(ItemId, ChangeKey or None)`` pairs."""

    operation = "DeleteItem"

    def __init__(self, client):
        self.client = client

    def delete(self, item_ids, delete_type="MoveToDeletedItems"):
        """Delete every item; returns the ids that were already gone (``ErrorItemNotFound``).

        A ChangeKey makes the delete conditional: Exchange refuses it with
        ``ErrorStaleObject`` if the item changed since it was read. Any error
        other than not-found raises ``EwsError`` naming the ResponseCode.
        """
        if delete_type not in DELETE_TYPES:
            raise ValueError("unknown DeleteType %r" % (delete_type,))
        ids = [{"Id": identifier, "ChangeKey": change_key} if change_key else {"Id": identifier}
               for identifier, change_key in item_ids]
        responses = self.client.call(self.operation, DeleteType=delete_type, ItemIds={"ItemId": ids})
        missing = []
        for (identifier, _change_key), response in zip(item_ids, responses):
            if response.response_code == "ErrorItemNotFound":
                missing.append(identifier)
            elif not response.ok:
                raise EwsError(response.message_text or "the item was not deleted", operation=self.operation,
                               response_code=response.response_code, item_id=identifier)
        return missing
