"""UpdateItem: SetItemField / AppendToItemField / DeleteItemField on item fields and extended properties,
then, with MessageDisposition SendOnly / SendAndSaveCopy, a send like SendItem's.

With ConflictResolution="NeverOverwrite" the ChangeKey is a compare-and-set:
it is checked inside the write transaction, so of two concurrent updates
carrying the same ChangeKey exactly one succeeds.
"""

from __future__ import annotations

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..ids import encode_item_id
from ..namespaces import first_child, first_of_few, qm, qt
from ..store import Item
from .lookup import prefetch_items, saved_item_folder, resolve_item
from .properties import (EXTENDED, INVALID_SET, MESSAGE_FLAGS, PATH_TAGS, READ_ONLY, ExtendedPath, find_path, is_message,
                         item_id_element, parse_extended_property, parse_field_value)
from .responses import OperationResponse
from .send_item import send_stored

CONFLICT = ("ErrorIrresolvableConflict", "The send or update operation could not be performed because the change key "
            "passed in the request does not match the current change key for the item.")
CHANGE_KEY_REQUIRED = ("ErrorChangeKeyRequiredForWriteOperations",
                       "ChangeKey is required if overriding conflicts is not allowed.")
INVALID_APPEND = ("ErrorInvalidPropertyAppend", "Append action is invalid for property.")
INVALID_DELETE = ("ErrorInvalidPropertyDelete", "Delete action is invalid for property.")

_APPENDABLE = {"recipients", "strings", "body"}
_READ_ONLY_ERRORS = {"SetItemField": INVALID_SET, "AppendToItemField": INVALID_APPEND, "DeleteItemField": INVALID_DELETE}
_ACTIONS = {qt(action): action for action in _READ_ONLY_ERRORS}     # t:Updates' children by tag
_EXTENDED, _ITEM_ID, _UPDATES = qt(EXTENDED), qt("ItemId"), qt("Updates")


def _new_value(update: etree._Element, path):
    """The value carried by the t:Message / t:Item inside a Set or Append update."""
    item = None
    for child in update:
        if isinstance(child.tag, str) and child.tag not in PATH_TAGS:
            item = child
            break
    if item is None:
        raise ItemError(*INVALID_SET)
    if isinstance(path, ExtendedPath):
        # What item.iter() gives (the item itself when it matches, then its descendants); iterdescendants()
        # sets its tag filter up for half of what iter() costs, on every update of every item.
        elements = item.iter(_EXTENDED) if item.tag == _EXTENDED else item.iterdescendants(_EXTENDED)
        for element in elements:
            found, value = parse_extended_property(element)
            if found.key == path.key:
                return found, value
        raise ItemError(*INVALID_SET)
    element = first_child(item, qt(path.element))
    if element is None:
        raise ItemError(*INVALID_SET)
    return element, parse_field_value(path, element)


def collect_changes(item: Item, updates: etree._Element) -> tuple[dict, dict, list]:
    """(fields, extended properties to set, extended keys to delete) for an ItemChange's t:Updates."""
    fields: dict = {}
    set_extended: dict = {}
    delete_extended: list = []
    for update in updates:
        action = _ACTIONS.get(update.tag)
        if action is None:      # a comment or processing instruction: the schema allows no other element
            continue
        path = find_path(update)
        if isinstance(path, ExtendedPath):
            if path.key == MESSAGE_FLAGS:
                raise ItemError(*_READ_ONLY_ERRORS[action])     # read-only once saved (MS-OXCMSG)
            if action == "DeleteItemField":
                delete_extended.append(path.key)
                set_extended.pop(path.key, None)
            else:
                found, value = _new_value(update, path)
                set_extended[path.key] = (found.prop_type, value)
            continue
        if path.uri in READ_ONLY:
            raise ItemError(*_READ_ONLY_ERRORS[action])
        if action == "DeleteItemField":
            # ItemClass and the flags (IsRead) always have a value: Exchange refuses to delete them.
            if path.column == "item_class" or path.kind == "bool":
                raise ItemError(*INVALID_DELETE)
            fields[path.column] = [] if path.kind in ("recipients", "strings") else None
            continue
        element, value = _new_value(update, path)
        if path.kind == "body":
            fields["body_type"] = element.get("BodyType", "Text")
        if action == "AppendToItemField":
            if path.kind not in _APPENDABLE:
                raise ItemError(*INVALID_APPEND)
            current = fields.get(path.column, item.fields.get(path.column))
            value = (current or ([] if path.kind != "body" else "")) + value
        fields[path.column] = value
    return fields, set_extended, delete_extended


def update_one(ctx: RequestContext, change: etree._Element, conflict_resolution: str, disposition: str | None,
               folder_element, prefetched: dict | None = None) -> Item | None:
    """Apply one ItemChange atomically; with a Send disposition also send it. Returns the item when it stays where it was."""
    item_id = first_of_few(change, _ITEM_ID)
    store = ctx.store
    with store.item_transaction():
        item = resolve_item(ctx, item_id, "create", prefetched)
        change_key = item_id.get("ChangeKey")
        if conflict_resolution == "NeverOverwrite":
            if not change_key:
                raise ItemError(*CHANGE_KEY_REQUIRED)
            if change_key != item.change_key:
                raise ItemError(*CONFLICT)
        fields, set_extended, delete_extended = collect_changes(item, first_of_few(change, _UPDATES))
        item = store.update_item(item, fields, set_extended, delete_extended)
        if disposition in ("SendOnly", "SendAndSaveCopy"):
            ctx.check_access(item.mailbox, "send")
            send_stored(ctx, item, disposition == "SendAndSaveCopy", folder_element)
            return None
        return item


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("UpdateItem", "Items")
    conflict_resolution = request.get("ConflictResolution", "AutoResolve")
    disposition = request.get("MessageDisposition")
    folder_element = saved_item_folder(request)
    changes = [change for change in request.find(qm("ItemChanges")) if isinstance(change.tag, str)]
    # One write transaction for the request, one savepoint per item (update_one): each item's
    # check-then-write stays atomic and its failure undoes only its own writes.
    with ctx.store.request_transaction():
        prefetched = prefetch_items(ctx, [item_id for item_id in (first_of_few(c, _ITEM_ID) for c in changes)
                                          if item_id is not None])
        # The first Success message of each shape (t:Message, t:Item, or none when sent), copied for every later item
        # of that shape: lxml copies a small tree faster than it builds it, and a 100-item request answers 100 of them.
        answered: dict[str | None, etree._Element] = {}
        for change in response.each_item(ctx, changes):
            try:
                item = update_one(ctx, change, conflict_resolution, disposition, folder_element, prefetched)
            except ItemError as error:
                response.item_error(error)
                continue
            shape = None if item is None else "Message" if is_message(item) else "Item"
            if shape in answered:
                message = response.copy_of(answered[shape])
                if item is not None:
                    # m:ResponseCode, m:Items, m:ConflictResults: the ItemId is the first child of m:Items' item.
                    item_id = message[1][0][0]
                    item_id.set("Id", encode_item_id(item.mailbox, item.uuid))
                    item_id.set("ChangeKey", item.change_key)
            else:
                message = answered[shape] = response.success()
                items = etree.SubElement(message, qm("Items"))
                if item is not None:
                    item_id_element(etree.SubElement(items, qt(shape)), item)
                conflicts = etree.SubElement(message, qm("ConflictResults"))
                etree.SubElement(conflicts, qt("Count")).text = "0"
    return response.element
