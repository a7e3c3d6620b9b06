"""FindItem (Shallow): items of a folder, restricted, sorted and paged, one response message per parent folder.

Like Exchange (the EWSFindCountLimit throttling policy, 1000 by default), a paged call returns at most
1000 items, and an unpaged one whose folder holds more is refused with ErrorExceededFindCountLimit.
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..namespaces import qm, qt
from .lookup import folder_id_elements, resolve_folder
from .properties import FIELDS_BY_URI, UNMODELLED_NOT_IN_FIND_ITEM, Shape, item_element, parse_shape
from .responses import OperationResponse
from .restrictions import order_sql, restriction_sql

FIND_COUNT_LIMIT = 1000
NOT_IN_FIND_ITEM = ("ErrorInvalidPropertyRequest", "This property can't be requested in FindItem; use GetItem.")
FIND_COUNT_EXCEEDED = ItemError("ErrorExceededFindCountLimit", "More items match than one find operation may return; "
                                "page with IndexedPageItemView.", {"PolicyLimit": FIND_COUNT_LIMIT})
INVALID_MAX_ROWS = ("ErrorInvalidPagingMaxRows", "MaxEntriesReturned must be greater than zero.")
INVALID_OFFSET = ("ErrorInvalidIndexedPagingParameters", "The indexed paging offset must not be negative.")


def _find_item_shape(request: etree._Element) -> Shape:
    """The ItemShape without the "complex" properties FindItem never returns; asking for one is an error."""
    item_shape = request.find(qm("ItemShape"))
    for field_uri in item_shape.iter(qt("FieldURI")):
        uri = field_uri.get("FieldURI")
        f = FIELDS_BY_URI.get(uri)
        if uri in UNMODELLED_NOT_IN_FIND_ITEM or (f is not None and not f.in_find_item):
            raise ItemError(*NOT_IN_FIND_ITEM)
    shape = parse_shape(item_shape)
    return replace(shape, uris=frozenset(uri for uri in shape.uris if FIELDS_BY_URI[uri].in_find_item))


def _paging(view: etree._Element | None) -> tuple[int, int, bool]:
    """(offset, max entries, from the end) of the IndexedPageItemView; ItemError for a zero or negative
    MaxEntriesReturned or a negative Offset (the schema has already made them integers)."""
    if view is None:
        return 0, FIND_COUNT_LIMIT, False
    maximum = int(view.get("MaxEntriesReturned", FIND_COUNT_LIMIT))
    if maximum <= 0:
        raise ItemError(*INVALID_MAX_ROWS)
    offset = int(view.get("Offset"))
    if offset < 0:
        raise ItemError(*INVALID_OFFSET)
    return offset, min(maximum, FIND_COUNT_LIMIT), view.get("BasePoint") == "End"


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("FindItem")
    view = request.find(qm("IndexedPageItemView"))
    shallow = request.get("Traversal", "Shallow") == "Shallow"
    for folder_id in response.each_item(ctx, folder_id_elements(request.find(qm("ParentFolderIds")))):
        try:
            offset, maximum, from_end = _paging(view)
            shape = _find_item_shape(request)
            folder = resolve_folder(ctx, folder_id, "read")
            where, params = restriction_sql(request.find(qm("Restriction")))
            order_by = order_sql(request.find(qm("SortOrder")))
        except ItemError as error:
            response.item_error(error)
            continue
        if not shallow:
            # The sandbox keeps neither soft-deleted nor associated (FAI) items.
            total, items, start = 0, [], 0
        elif from_end:
            total, _ = ctx.store.find_items([folder.uuid], where, params, order_by, limit=0)
            start = max(total - offset - maximum, 0)
            _, items = ctx.store.find_items([folder.uuid], where, params, order_by, start,
                                            max(total - offset - start, 0), bool(shape.extended))
        else:
            start = offset
            total, items = ctx.store.find_items([folder.uuid], where, params, order_by, offset, maximum,
                                                bool(shape.extended))
        if view is None and total > FIND_COUNT_LIMIT:
            response.item_error(FIND_COUNT_EXCEEDED)
            continue
        root = etree.SubElement(response.success(), qm("RootFolder"))
        root.set("IndexedPagingOffset", str(offset + len(items)))
        root.set("TotalItemsInView", str(total))
        last = start <= 0 if from_end else offset + len(items) >= total
        root.set("IncludesLastItemInRange", "true" if last else "false")
        container = etree.SubElement(root, qt("Items"))
        for item in items:
            item_element(container, item, shape)
    return response.element
