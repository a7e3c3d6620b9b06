"""CreateItem: save a message (SaveOnly), send it (SendOnly) or both (SendAndSaveCopy)."""

from __future__ import annotations

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..namespaces import qm, qt
from ..store import Folder, Item
from .lookup import saved_item_folder, resolve_folder
from .properties import attachment_id_element, item_id_element, parse_item_content
from .responses import OperationResponse
from .send_item import NO_RECIPIENTS, SEND_AS_DENIED, send_stored

DISPOSITION_REQUIRED = ("ErrorMessageDispositionRequired", "MessageDisposition attribute is required.")
UNSUPPORTED_ITEM = ("ErrorInvalidItemForOperationCreateItem", "The item type is not valid for the CreateItem operation.")


def _target_folder(ctx: RequestContext, folder_element, default: str, right: str) -> Folder:
    if folder_element is not None:
        return resolve_folder(ctx, folder_element, right)
    return ctx.store.folder(ctx.store.distinguished_folder(ctx.mailbox, default))


def create_one(ctx: RequestContext, element: etree._Element, disposition: str | None, folder_element) -> Item | None:
    """Create (and maybe send) one item; returns the saved draft for SaveOnly, else None."""
    if element.tag not in (qt("Message"), qt("Item")):
        raise ItemError(*UNSUPPORTED_ITEM)
    if element.tag == qt("Message") and not disposition:
        raise ItemError(*DISPOSITION_REQUIRED)
    content = parse_item_content(element)
    fields = content.fields
    fields.setdefault("item_class", "IPM.Note" if element.tag == qt("Message") else "IPM.Item")
    store = ctx.store
    if disposition in (None, "SaveOnly"):
        folder = _target_folder(ctx, folder_element, "drafts", "create")
        fields.setdefault("from_mailbox", {"name": folder.mailbox, "email": folder.mailbox})
        return store.create_item(folder.uuid, dict(fields, is_draft=True), content.extended, content.attachments)
    if not (fields.get("to_recipients") or fields.get("cc_recipients") or fields.get("bcc_recipients")):
        raise ItemError(*NO_RECIPIENTS)
    save = disposition == "SendAndSaveCopy"
    # Created in the Drafts of the mailbox it is saved to (a SendOnly: the caller's), then sent from there.
    mailbox = _target_folder(ctx, folder_element, "sentitems", "create").mailbox if save else ctx.mailbox
    ctx.check_access(mailbox, "send")
    fields.setdefault("from_mailbox", {"name": mailbox, "email": mailbox})
    with store.transaction():
        item = store.create_item(store.distinguished_folder(mailbox, "drafts"), dict(fields, is_draft=True),
                                 content.extended, content.attachments)
        try:
            send_stored(ctx, item, save, folder_element)
            return None
        except ItemError as error:
            if error.code != SEND_AS_DENIED[0]:
                raise                       # and the draft is rolled back with the rest
            refused = error
    raise refused   # after the commit: the message stays in Drafts (ResponseCode reference, ErrorSendAsDenied)


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("CreateItem", "Items")
    disposition = request.get("MessageDisposition")
    folder_element = saved_item_folder(request)
    for element in response.each_item(ctx, request.find(qm("Items"))):
        try:
            saved = create_one(ctx, element, disposition, folder_element)
        except ItemError as error:
            response.item_error(error)
            continue
        items = etree.SubElement(response.success(), qm("Items"))
        if saved is not None:
            created = etree.SubElement(items, element.tag)
            item_id_element(created, saved)
            if saved.attachments:     # their ids, as in "Add attachments by using EWS in Exchange"
                attachments = etree.SubElement(created, qt("Attachments"))
                for attachment in saved.attachments:
                    attachment_id_element(etree.SubElement(attachments, qt("FileAttachment")), saved, attachment)
    return response.element
