"""DeleteAttachment: attachments removed by id; each answer names the item and its new ChangeKey (RootItemId),
since removing an attachment changes the item (DeleteAttachment reference)."""

from __future__ import annotations

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..ids import encode_item_id
from ..namespaces import qm
from .lookup import resolve_attachment
from .responses import OperationResponse


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("DeleteAttachment")
    with ctx.store.request_transaction():
        for element in response.each_item(ctx, request.find(qm("AttachmentIds"))):
            try:
                with ctx.store.item_transaction():
                    item, attachment = resolve_attachment(ctx, element, "create")
                    ctx.store.delete_attachment(item, attachment.uuid)
            except ItemError as error:
                response.item_error(error)
                continue
            etree.SubElement(response.success(), qm("RootItemId"), RootItemId=encode_item_id(item.mailbox, item.uuid),
                             RootItemChangeKey=item.change_key)
    return response.element
