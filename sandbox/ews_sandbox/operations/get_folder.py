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

# folder:<name> properties the sandbox serves, in the schema's FolderType order.
FOLDER_PROPERTIES = ("FolderId", "ParentFolderId", "FolderClass", "DisplayName", "TotalCount", "ChildFolderCount",
                     "UnreadCount")
BASE_SHAPES = {
    "IdOnly": {"FolderId"},
    "Default": {"FolderId", "DisplayName", "TotalCount", "ChildFolderCount", "UnreadCount"},
    "AllProperties": set(FOLDER_PROPERTIES),
}


def requested_properties(shape: etree._Element | None) -> set:
    """FolderShape -> names of the folder properties to return (BaseShape plus folder:* AdditionalProperties)."""
    if shape is None:
        return BASE_SHAPES["Default"]
    names = set(BASE_SHAPES.get(shape.findtext(qt("BaseShape")), BASE_SHAPES["Default"]))
    for field_uri in shape.iter(qt("FieldURI")):
        prefix, _, name = field_uri.get("FieldURI", "").partition(":")
        if prefix == "folder":
            names.add(name)
    return names


def folder_element(parent: etree._Element, ctx: RequestContext, folder: Folder, names: set) -> None:
    total, unread = ctx.store.folder_counts(folder.uuid)
    values = {
        "ParentFolderId": folder.parent_uuid,
        "FolderClass": "IPF.Note",
        "DisplayName": folder.display_name,
        "TotalCount": str(total),
        "ChildFolderCount": str(ctx.store.child_folder_count(folder.uuid)),
        "UnreadCount": str(unread),
    }
    element = etree.SubElement(parent, qt("Folder"))
    etree.SubElement(element, qt("FolderId"), Id=encode_folder_id(folder.mailbox, folder.uuid), ChangeKey=FOLDER_CHANGE_KEY)
    for name in FOLDER_PROPERTIES[1:]:
        if name not in names or values[name] is None:
            continue
        if name == "ParentFolderId":
            etree.SubElement(element, qt(name), Id=encode_folder_id(folder.mailbox, folder.parent_uuid),
                             ChangeKey=FOLDER_CHANGE_KEY)
        else:
            etree.SubElement(element, qt(name)).text = values[name]


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("GetFolder", "Folders")
    names = requested_properties(request.find(qm("FolderShape")))
    for folder_id in response.each_item(ctx, folder_id_elements(request.find(qm("FolderIds")))):
        try:
            folder = resolve_folder(ctx, folder_id, "read")
        except ItemError as error:
            response.item_error(error)
            continue
        folder_element(etree.SubElement(response.success(), qm("Folders")), ctx, folder, names)
    return response.element
