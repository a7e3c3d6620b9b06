# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DeleteItem: remove items, by default into Deleted Items (recoverable)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils.services.common import EwsService, item_ids_element

DELETE_TYPES = ("HardDelete", "SoftDelete", "MoveToDeletedItems")
NOT_FOUND = "ErrorItemNotFound"


class DeleteItem(EwsService):
    """Delete items given as ``(ItemId, ChangeKey or None)`` pairs."""

    operation = "DeleteItem"

    def delete(self, item_ids, delete_type="MoveToDeletedItems"):
        """Delete every item; returns the ids that were already gone (``ErrorItemNotFound``).

        A ChangeKey makes the delete conditional: Exchange refuses it with
        ``ErrorStaleObject`` if the item changed since it was read. Any error
        other than not-found raises ``EwsError`` naming the ResponseCode.
        """
        if delete_type not in DELETE_TYPES:
            raise ValueError("unknown DeleteType %r" % (delete_type,))
        item_ids = list(item_ids)
        request = self.new_request(DeleteType=delete_type)
        request.append(item_ids_element(item_ids))
        missing = []
        for (identifier, _change_key), response in zip(item_ids, self.post(request, expected=len(item_ids))):
            if response.response_code == NOT_FOUND:
                missing.append(identifier)
            else:
                self.check(response, "the item was not deleted", item_id=identifier)
        return missing
