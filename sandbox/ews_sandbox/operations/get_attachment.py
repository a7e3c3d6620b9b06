"""GetAttachment: file attachments by id, described and with their content (GetAttachment reference: the answer
always holds the whole attachment; AttachmentShape only matters for item attachments, which the sandbox does not
model)."""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..namespaces import qm
from .lookup import resolve_attachment
from .properties import file_attachment_element
from .responses import OperationResponse


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("GetAttachment", "Attachments")
    for element in response.each_item(ctx, request.find(qm("AttachmentIds"))):
        try:
            item, attachment = resolve_attachment(ctx, element, "read")
        except ItemError as error:
            response.item_error(error)
            continue
        with_content = replace(attachment, content=ctx.store.attachment_content(attachment.uuid))
        file_attachment_element(etree.SubElement(response.success(), qm("Attachments")), item, with_content)
    return response.element
