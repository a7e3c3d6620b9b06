"""GetItem: items by id, shaped by ItemShape (BaseShape + AdditionalProperties)."""

from __future__ import annotations

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..namespaces import qm
from .lookup import prefetch_items, resolve_item
from .properties import item_element, parse_shape
from .responses import OperationResponse


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("GetItem", "Items")
    shape = parse_shape(request.find(qm("ItemShape")))
    item_ids = [item_id for item_id in request.find(qm("ItemIds")) if isinstance(item_id.tag, str)]
    prefetched = prefetch_items(ctx, item_ids)
    for item_id in response.each_item(ctx, item_ids):
        try:
            item = resolve_item(ctx, item_id, "read", prefetched)
        except ItemError as error:
            response.item_error(error)
            continue
        item_element(etree.SubElement(response.success(), qm("Items")), item, shape)
    return response.element
