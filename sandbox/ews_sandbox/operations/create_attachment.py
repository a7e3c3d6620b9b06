"""CreateAttachment: file attachments added to an existing item, one response message per attachment.

Each answer names the new attachment with its item's id and the item's ChangeKey after that attachment: adding
an attachment changes the item, so the last message of a request carries the current ChangeKey (CreateAttachment
reference). A ChangeKey on ParentItemId, when given, must be the current one (ParentItemId reference). The
attachments are added in one write transaction, each in its own savepoint.
"""

from __future__ import annotations

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..namespaces import qm, qt
from ..store import Item
from .lookup import resolve_item
from .properties import attachment_id_element, parse_attachment
from .responses import OperationResponse
from .send_item import STALE


def _parent(ctx: RequestContext, parent_id: etree._Element) -> Item:
    item = resolve_item(ctx, parent_id, "create")
    change_key = parent_id.get("ChangeKey")
    if change_key and change_key != item.change_key:
        raise ItemError(*STALE)
    return item


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("CreateAttachment", "Attachments")
    elements = [element for element in request.find(qm("Attachments")) if isinstance(element.tag, str)]
    with ctx.store.request_transaction():
        try:
            parent, parent_error = _parent(ctx, request.find(qm("ParentItemId"))), None
        except ItemError as error:
            parent, parent_error = None, error       # every attachment is answered with it
        for element in response.each_item(ctx, elements):
            try:
                if parent_error is not None:
                    raise parent_error
                with ctx.store.item_transaction():
                    [attachment] = ctx.store.add_attachments(parent, [parse_attachment(element)])
            except ItemError as error:
                response.item_error(error)
                continue
            attachments = etree.SubElement(response.success(), qm("Attachments"))
            attachment_id_element(etree.SubElement(attachments, qt("FileAttachment")), parent, attachment, root=True)
    return response.element
