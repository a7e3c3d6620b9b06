# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""UpdateItem on a message's own fields (subject, body, recipients...), for the draft module.

``update_item.UpdateItem`` covers the exactly-once stamps (extended
properties on many drafts); this covers setting and clearing ordinary
fields of one draft, with zeep keyword values.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError
from ansible_collections.exchange.ews.plugins.module_utils.responses import first_item, item_id
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import item_id_value


class UpdateMessage:
    """Set and delete fields of one saved message (MessageDisposition=SaveOnly)."""

    operation = "UpdateItem"

    def __init__(self, client):
        self.client = client

    def update(self, identifier, change_key, set_fields, delete_field_uris=(),
               conflict_resolution="NeverOverwrite"):
        """Apply the changes; returns the new ``(ItemId, ChangeKey)``.

        ``set_fields``: ``[(FieldURI or ExtendedFieldURI dict, t:Message zeep value holding only that field)]``;
        ``delete_field_uris``: FieldURIs to clear. With ``NeverOverwrite`` and
        ``change_key``, an item edited since it was read is refused with
        ``ErrorIrresolvableConflict``. Errors raise ``EwsError`` naming the ResponseCode.
        """
        updates = {"SetItemField": [], "DeleteItemField": [{"FieldURI": {"FieldURI": uri}} for uri in delete_field_uris]}
        for path, message in set_fields:
            key = "ExtendedFieldURI" if isinstance(path, dict) else "FieldURI"
            updates["SetItemField"].append({key: path if isinstance(path, dict) else {"FieldURI": path},
                                            "Message": message})
        response = self.client.call(self.operation, ConflictResolution=conflict_resolution,
                                    MessageDisposition="SaveOnly",
                                    ItemChanges={"ItemChange": [{"ItemId": item_id_value(identifier, change_key),
                                                                 "Updates": updates}]})[0]
        if not response.ok:
            raise EwsError(response.message_text or "the item was not updated", operation=self.operation,
                           response_code=response.response_code, item_id=identifier)
        updated = first_item(response)
        return item_id(updated) if updated is not None else (identifier, None)
