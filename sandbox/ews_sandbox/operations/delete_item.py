"""DeleteItem: HardDelete / SoftDelete remove the item, MoveToDeletedItems moves it (new ItemId)."""

from __future__ import annotations

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..namespaces import qm
from .lookup import resolve_item
from .responses import OperationResponse


def delete_one(ctx: RequestContext, item_id: etree._Element, delete_type: str) -> None:
    store = ctx.store
    with store.transaction():
        item = resolve_item(ctx, item_id, "create")
        deleted_items = store.distinguished_folder(item.mailbox, "deleteditems")
        if delete_type == "MoveToDeletedItems" and item.folder_uuid != deleted_items:
            store.move_item(item, deleted_items)
        else:
            # The sandbox keeps no recoverable-items dumpster, so a soft delete is final too.
            store.delete_item(item)


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("DeleteItem")
    delete_type = request.get("DeleteType", "MoveToDeletedItems")
    for item_id in response.each_item(ctx, request.find(qm("ItemIds"))):
        try:
            delete_one(ctx, item_id, delete_type)
        except ItemError as error:
            response.item_error(error)
        else:
            response.success()
    return response.element
