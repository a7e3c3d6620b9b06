"""MoveItem: move items to one folder; each moved item gets a new ItemId and ChangeKey, its properties travel.

The new ids are returned unless ReturnNewItemIds is false, and never for a move into another mailbox (as
Exchange does: MoveItem operation reference). Moving needs the create right on the item's mailbox and on the
target's. Each item moves in its own savepoint of one write transaction for the request.
"""

from __future__ import annotations

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..namespaces import qm, qt
from .lookup import folder_id_elements, prefetch_items, resolve_folder, resolve_item
from .properties import is_message, item_id_element, parse_bool
from .responses import OperationResponse


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("MoveItem", "Items")
    return_new_ids = parse_bool(request.findtext(qm("ReturnNewItemIds")) or "true")
    item_ids = [item_id for item_id in request.find(qm("ItemIds")) if isinstance(item_id.tag, str)]
    with ctx.store.request_transaction():
        try:
            target, target_error = resolve_folder(ctx, folder_id_elements(request.find(qm("ToFolderId")))[0], "create"), None
        except ItemError as error:
            target, target_error = None, error     # every item is answered with it
        prefetched = prefetch_items(ctx, item_ids)
        for item_id in response.each_item(ctx, item_ids):
            try:
                if target_error is not None:
                    raise target_error
                with ctx.store.item_transaction():
                    item = resolve_item(ctx, item_id, "create", prefetched)
                    same_mailbox = item.mailbox == target.mailbox
                    ctx.store.move_item(item, target.uuid)
            except ItemError as error:
                response.item_error(error)
                continue
            items = etree.SubElement(response.success(), qm("Items"))
            if return_new_ids and same_mailbox:
                item_id_element(etree.SubElement(items, qt("Message" if is_message(item) else "Item")), item)
    return response.element
