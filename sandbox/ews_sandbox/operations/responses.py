"""Builders for the m:<Operation>Response envelope body and its per-item response messages."""

from __future__ import annotations

import copy
from typing import Iterator

from lxml import etree

from ..errors import INTERNAL_ERROR_MESSAGE, ItemError
from ..namespaces import M, T, qm, qt

_NSMAP = {"m": M, "t": T}
_RESPONSE_CODE = qm("ResponseCode")


BATCH_STOPPED = ("ErrorBatchProcessingStopped", "This item was not processed because an earlier item of the request "
                 "failed.")


class OperationResponse:
    """``m:<Operation>Response`` with its ``m:ResponseMessages``; one message per requested item, in order.

    ``empty_container`` is what Error and Warning messages of this operation carry empty (``Items`` for the
    ItemInfo responses, ``Folders`` for GetFolder), as Exchange's do.
    """

    def __init__(self, operation: str, empty_container: str | None = None):
        self.empty_container = empty_container
        self.element = etree.Element(qm(operation + "Response"), nsmap=_NSMAP)
        self.messages = etree.SubElement(self.element, qm("ResponseMessages"))
        self._message_tag = qm(operation + "ResponseMessage")
        self._success: etree._Element | None = None

    def each_item(self, ctx, elements) -> Iterator[etree._Element]:
        """The element children of a request's list (ItemIds, Items, ItemChanges, folder ids) to process, in order.

        With an injected item failure (``ctx.item_failure``) the item at its position is answered with that Error
        and every later one with a Warning ``ErrorBatchProcessingStopped``, none of them processed: Exchange's
        answer when an error such as ErrorQuotaExceeded stops a batch (ResponseCode reference).
        """
        position = 0
        for element in elements:
            if not isinstance(element.tag, str):
                continue
            position += 1
            if ctx.item_failure is None or position < ctx.item_failure[0]:
                yield element
            elif position == ctx.item_failure[0]:
                code = ctx.item_failure[1]
                self.item_error(ItemError(code, INTERNAL_ERROR_MESSAGE if code == "ErrorInternalServerError"
                                          else "Injected item error %s." % code))
            else:
                self._message("Warning", *BATCH_STOPPED)

    def success(self) -> etree._Element:
        """A Success message, appended; the operation adds its content to it."""
        if self._success is None:
            # Built once and copied for every item: lxml copies a small tree faster than it builds it element by
            # element. Its namespace declarations are the response's own, so appended copies do not repeat them.
            self._success = etree.Element(self._message_tag, ResponseClass="Success", nsmap=_NSMAP)
            etree.SubElement(self._success, _RESPONSE_CODE).text = "NoError"
        message = copy.copy(self._success)
        self.messages.append(message)
        return message

    def copy_of(self, message: etree._Element) -> etree._Element:
        """A copy of ``message`` (one of this response's messages), appended; the operation changes what differs."""
        copied = copy.copy(message)
        self.messages.append(copied)
        return copied

    def item_error(self, error: ItemError) -> etree._Element:
        """The Error message for ``error``."""
        return self._message("Error", error.code, error.message, error.details, error.field_uri)

    def _message(self, response_class: str, code: str, text: str, details: dict | None = None,
                 field_uri: str | None = None) -> etree._Element:
        """An Error or Warning message shaped like Exchange's: MessageText, ResponseCode, DescriptiveLinkKey 0,
        MessageXml (the ``field_uri`` as ``t:ExceptionFieldURI``, the ``details`` as ``t:Value`` entries), then the
        operation's empty container."""
        message = etree.SubElement(self.messages, self._message_tag, ResponseClass=response_class)
        etree.SubElement(message, qm("MessageText")).text = text
        etree.SubElement(message, _RESPONSE_CODE).text = code
        etree.SubElement(message, qm("DescriptiveLinkKey")).text = "0"
        if details or field_uri:
            message_xml = etree.SubElement(message, qm("MessageXml"))
            if field_uri:
                etree.SubElement(message_xml, qt("ExceptionFieldURI"), FieldURI=field_uri)
            for name, value in (details or {}).items():
                etree.SubElement(message_xml, qt("Value"), Name=name).text = str(value)
        if self.empty_container:
            etree.SubElement(message, qm(self.empty_container))
        return message
