"""Resolving request ids (t:ItemId, t:FolderId, t:DistinguishedFolderId, t:AttachmentId) to store objects, with
access checks."""

from __future__ import annotations

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..ids import decode_attachment_id, decode_folder_id, decode_item_id
from ..namespaces import first_child_text, first_of_few, qm, qt
from ..store import DISTINGUISHED_FOLDERS, Attachment, Folder, Item

ITEM_NOT_FOUND = ("ErrorItemNotFound", "The specified object was not found in the store.")
FOLDER_NOT_FOUND = ("ErrorFolderNotFound", "The specified folder could not be found in the store.")
ATTACHMENT_NOT_FOUND = ("ErrorInvalidAttachmentId", "The attachment could not be found.")
_MAILBOX = qt("Mailbox")


def folder_owner(ctx: RequestContext, element: etree._Element) -> str:
    """Mailbox a folder id element names: its t:Mailbox, else the request's effective mailbox."""
    mailbox = first_of_few(element, _MAILBOX)     # a folder id holds a t:Mailbox at most; every sent item asks
    address = first_child_text(mailbox, qt("EmailAddress")) if mailbox is not None else None
    return (address or ctx.mailbox).strip().lower()


def resolve_folder(ctx: RequestContext, element: etree._Element, right: str) -> Folder:
    """A t:DistinguishedFolderId or t:FolderId -> Folder; raises ItemError (not found, malformed, access)."""
    if element.tag == qt("DistinguishedFolderId"):
        owner = folder_owner(ctx, element)
        ctx.check_access(owner, right)
        name = element.get("Id")
        if name not in DISTINGUISHED_FOLDERS:
            raise ItemError(*FOLDER_NOT_FOUND)
        return ctx.store.folder(ctx.store.distinguished_folder(owner, name))
    folder = ctx.store.folder(decode_folder_id(element.get("Id")).uuid)
    if folder is None:
        raise ItemError(*FOLDER_NOT_FOUND)
    ctx.check_access(folder.mailbox, right)
    return folder


def folder_id_elements(container: etree._Element | None) -> list[etree._Element]:
    """The t:FolderId / t:DistinguishedFolderId children of a FolderIds-like container."""
    if container is None:
        return []
    return [child for child in container if child.tag in (qt("FolderId"), qt("DistinguishedFolderId"))]


def saved_item_folder(request: etree._Element) -> etree._Element | None:
    """The folder id element of a request's m:SavedItemFolderId, or None when it has none."""
    elements = folder_id_elements(request.find(qm("SavedItemFolderId")))
    return elements[0] if elements else None


def prefetch_items(ctx: RequestContext, elements) -> dict[str, Item | None]:
    """The stored items the t:ItemId ``elements`` name, by uuid (None: not found), read with one query; malformed
    ids are skipped.

    For ``take_item``: a writing request must read them inside its ``request_transaction()``.
    """
    uuids = []
    for element in elements:
        try:
            uuids.append(decode_item_id(element.get("Id")).uuid)
        except ItemError:
            pass
    found = ctx.store.get_items(uuids)
    return {item_uuid: found.get(item_uuid) for item_uuid in uuids}


def take_item(ctx: RequestContext, item_uuid: str, prefetched: dict[str, Item | None] | None) -> Item | None:
    """The item ``item_uuid`` from ``prefetched`` (taken out, so an id named twice is read again), else from the store.

    One the prefetch did not find is not looked for again: an item's uuid is random and never issued again (a move
    issues a new one), so it cannot have appeared since.
    """
    if prefetched is not None and item_uuid in prefetched:
        item = prefetched[item_uuid]
        if item is not None:
            del prefetched[item_uuid]
        return item
    return ctx.store.get_item(item_uuid)


def resolve_item(ctx: RequestContext, element: etree._Element, right: str,
                 prefetched: dict[str, Item] | None = None) -> Item:
    """A t:ItemId -> the stored Item; ErrorInvalidIdMalformed / ErrorItemNotFound / access errors as ItemError."""
    item = take_item(ctx, decode_item_id(element.get("Id")).uuid, prefetched)
    if item is None:
        raise ItemError(*ITEM_NOT_FOUND)
    ctx.check_access(item.mailbox, right)
    return item


def resolve_attachment(ctx: RequestContext, element: etree._Element, right: str) -> tuple[Item, Attachment]:
    """A t:AttachmentId -> (its item, the attachment, described); ErrorInvalidAttachmentId when the item no longer
    has it (deleted, or the item moved: the id names the item's old id), id and access errors as for items."""
    item_id, attachment_uuid = decode_attachment_id(element.get("Id"))
    item = ctx.store.get_item(item_id.uuid)
    attachment = next((a for a in item.attachments if a.uuid == attachment_uuid), None) if item is not None else None
    if attachment is None:
        raise ItemError(*ATTACHMENT_NOT_FOUND)
    ctx.check_access(item.mailbox, right)
    return item, attachment
