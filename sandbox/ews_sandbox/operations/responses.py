"""Builders for the m:<Operation>Response envelope body and its per-item response messages."""

from __future__ import annotations

from lxml import etree

from ..errors import ItemError
from ..namespaces import M, T, qm, qt

_NSMAP = {"m": M, "t": T}


class OperationResponse:
    """``m:<Operation>Response`` with its ``m:ResponseMessages``; one message per requested item, in order."""

    def __init__(self, operation: str):
        self.operation = operation
        self.element = etree.Element(qm(operation + "Response"), nsmap=_NSMAP)
        self.messages = etree.SubElement(self.element, qm("ResponseMessages"))

    def success(self) -> etree._Element:
        message = etree.SubElement(self.messages, qm(self.operation + "ResponseMessage"), ResponseClass="Success")
        etree.SubElement(message, qm("ResponseCode")).text = "NoError"
        return message

    def error(self, code: str, text: str, details: dict | None = None) -> etree._Element:
        """An Error message shaped like Exchange's: MessageText, ResponseCode, DescriptiveLinkKey 0, and the
        ``details`` as MessageXml ``t:Value`` entries."""
        message = etree.SubElement(self.messages, qm(self.operation + "ResponseMessage"), ResponseClass="Error")
        etree.SubElement(message, qm("MessageText")).text = text
        etree.SubElement(message, qm("ResponseCode")).text = code
        etree.SubElement(message, qm("DescriptiveLinkKey")).text = "0"
        if details:
            message_xml = etree.SubElement(message, qm("MessageXml"))
            for name, value in details.items():
                etree.SubElement(message_xml, qt("Value"), Name=name).text = str(value)
        return message

    def item_error(self, error: ItemError, empty_container: str | None = None) -> etree._Element:
        """Error message for ``error``; ItemInfo responses carry an empty container (``m:Items``) like Exchange's."""
        message = self.error(error.code, error.message, error.details)
        if empty_container:
            etree.SubElement(message, qm(empty_container))
        return message
