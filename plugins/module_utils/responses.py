# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-item response messages (``m:<Operation>ResponseMessage``), read with lxml.

zeep hands the response messages over unparsed (see ``ews_schema``); this
module turns each into a ``ResponseMessage`` and offers the few readers the
services need (item ids, extended properties).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M, T


_RESPONSE_CODE = M + "ResponseCode"
_MESSAGE_TEXT = M + "MessageText"
_MESSAGE_XML = M + "MessageXml"
_READ = frozenset((_RESPONSE_CODE, _MESSAGE_TEXT, _MESSAGE_XML))


class ResponseMessage:
    """One response message.

    ``response_class``: ``Success`` / ``Warning`` / ``Error``;
    ``response_code``: ``NoError``, ``ErrorItemNotFound``...;
    ``message_text``: Exchange's text or None; ``element``: the lxml element
    (``m:<Operation>ResponseMessage``) for operation-specific reading;
    ``details``: ``MessageXml`` values by name (for example BackOffMilliseconds).
    """

    __slots__ = ("response_class", "response_code", "message_text", "element", "details")

    def __init__(self, response_class, response_code, message_text=None, element=None, details=None):
        self.response_class = response_class
        self.response_code = response_code
        self.message_text = message_text
        self.element = element
        self.details = details or {}

    @property
    def ok(self):
        return self.response_class != "Error"

    @classmethod
    def from_element(cls, element):
        # The first of each child, as find() and findtext() would give, in one pass over the few children: a batch's
        # answer holds one message per item, and each find() parses its path again.
        found = {}
        for child in element:
            if child.tag in _READ and child.tag not in found:
                found[child.tag] = child
        details = {}
        message_xml = found.get(_MESSAGE_XML)
        if message_xml is not None:
            for value in message_xml.iter(T + "Value"):
                details[value.get("Name")] = value.text
        code = found.get(_RESPONSE_CODE)
        text = found.get(_MESSAGE_TEXT)
        return cls(
            response_class=element.get("ResponseClass"),
            response_code=(code.text if code is not None else None) or "NoError",
            message_text=(text.text or "") if text is not None else None,
            element=element,
            details=details,
        )

    def as_dict(self):
        """The fields a module reports."""
        return {"response_class": self.response_class, "response_code": self.response_code,
                "message_text": self.message_text}

    def __repr__(self):
        return "ResponseMessage(%s, %s)" % (self.response_class, self.response_code)


def parse_response_messages(elements):
    """``ResponseMessage`` for each element of ``m:ResponseMessages``, in order."""
    return [ResponseMessage.from_element(e) for e in elements]


def first_item(message):
    """The first item element under ``m:Items`` of a GetItem/CreateItem/UpdateItem message, or None."""
    items = message.element.find(M + "Items")
    if items is None or len(items) == 0:
        return None
    return items[0]


def item_id(item):
    """``(Id, ChangeKey)`` of an item element, or ``(None, None)``."""
    element = item.find(T + "ItemId")
    if element is None:
        return None, None
    return element.get("Id"), element.get("ChangeKey")


def extended_properties(item):
    """``{PropertyName: value}`` for the named extended properties of an item element.

    Multi-valued properties map to a list of strings.
    """
    values = {}
    for prop in item.iterfind(T + "ExtendedProperty"):
        uri = prop.find(T + "ExtendedFieldURI")
        if uri is None:
            continue
        name = uri.get("PropertyName") or uri.get("PropertyTag") or uri.get("PropertyId")
        value = prop.find(T + "Value")
        if value is not None:
            values[name] = value.text or ""
        else:
            values[name] = [v.text or "" for v in prop.iter(T + "Value")]
    return values


def bool_field(item, name):
    """A boolean child of the types namespace (``IsDraft``...) as True/False/None."""
    text = item.findtext(T + name)
    if text is None:
        return None
    return text.strip().lower() == "true"


def parse_datetime(item, name):
    """An xs:dateTime child of the types namespace (``LastModifiedTime``...) as an aware UTC datetime, or None."""
    return parse_datetime_text(item.findtext(T + name))


def parse_datetime_text(text):
    """An xs:dateTime as Exchange writes it, as an aware UTC datetime to the second, or None when empty or not one."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        # Exchange writes "2024-05-01T08:00:00Z", sometimes with fractions of a second; before Python 3.11
        # fromisoformat knows neither the "Z" suffix nor fractions other than 3 or 6 digits.
        value = datetime.datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", re.sub(r"\.\d+", "", text)))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)
