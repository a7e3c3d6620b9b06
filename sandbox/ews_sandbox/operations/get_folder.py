"""GetFolder: folders by FolderId or DistinguishedFolderId (optionally in another mailbox), with counts."""

from __future__ import annotations

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..ids import encode_folder_id
from ..namespaces import qm, qt
from ..store import Folder
from .lookup import folder_id_elements, resolve_folder
from .responses import OperationResponse

# Folders have no writes in the sandbox, so their ChangeKey never changes.
FOLDER_CHANGE_KEY = "AQAAABYAAAA="


def folder_element(parent: etree._Element, ctx: RequestContext, folder: Folder, base_shape: str) -> None:
    element = etree.SubElement(parent, qt("Folder"))
    etree.SubElement(element, qt("FolderId"), Id=encode_folder_id(folder.mailbox, folder.uuid), ChangeKey=FOLDER_CHANGE_KEY)
    if base_shape == "IdOnly":
        return
    if base_shape == "AllProperties" and folder.parent_uuid:
        etree.SubElement(element, qt("ParentFolderId"), Id=encode_folder_id(folder.mailbox, folder.parent_uuid),
                         ChangeKey=FOLDER_CHANGE_KEY)
    if base_shape == "AllProperties":
        etree.SubElement(element, qt("FolderClass")).text = "IPF.Note"
    total, unread = ctx.store.folder_counts(folder.uuid)
    etree.SubElement(element, qt("DisplayName")).text = folder.display_name
    etree.SubElement(element, qt("TotalCount")).text = str(total)
    etree.SubElement(element, qt("ChildFolderCount")).text = str(ctx.store.child_folder_count(folder.uuid))
    etree.SubElement(element, qt("UnreadCount")).text = str(unread)


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("GetFolder")
    base_shape = request.findtext("%s/%s" % (qm("FolderShape"), qt("BaseShape"))) or "Default"
    for folder_id in folder_id_elements(request.find(qm("FolderIds"))):
        try:
            folder = resolve_folder(ctx, folder_id, "read")
        except ItemError as error:
            response.item_error(error, "Folders")
            continue
        folder_element(etree.SubElement(response.success(), qm("Folders")), ctx, folder, base_shape)
    return response.element
