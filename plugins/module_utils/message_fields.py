# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fields of a ``t:Message`` a request carries, built with lxml, and the paths that name them.

CreateItem takes a whole message (``message(fields)`` puts the fields in the
order Exchange's schema requires); UpdateItem takes the same field elements
one by one (``path_element(field)`` is the FieldURI or ExtendedFieldURI that
names each)::

    fields = [text("Subject", "Q3"), body("<p>Hi</p>", "HTML"), mailboxes("ToRecipients", ["a@example.org"])]
    CreateItem(client).save_drafts([message(fields)], drafts)
    UpdateItem(client).update(item_id, change_key, [text("Subject", "Q3, revised")])
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

try:
    from lxml import etree
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    etree = None

from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import T
from ansible_collections.exchange.ews.plugins.module_utils.restrictions import extended_field_uri, field_uri

# The FieldURI of each field a message may carry, in the order of the types schema's ItemType
# sequence followed by MessageType's (ExtendedProperty, named by its own path, sits between them).
FIELD_URIS = (
    ("ItemClass", "item:ItemClass"),
    ("Subject", "item:Subject"),
    ("Sensitivity", "item:Sensitivity"),
    ("Body", "item:Body"),
    ("Attachments", "item:Attachments"),
    ("Categories", "item:Categories"),
    ("Importance", "item:Importance"),
    ("ExtendedProperty", None),
    ("ToRecipients", "message:ToRecipients"),
    ("CcRecipients", "message:CcRecipients"),
    ("BccRecipients", "message:BccRecipients"),
    ("IsReadReceiptRequested", "message:IsReadReceiptRequested"),
    ("IsDeliveryReceiptRequested", "message:IsDeliveryReceiptRequested"),
    ("From", "message:From"),
    ("ReplyTo", "message:ReplyTo"),
)
_ORDER = dict((name, position) for position, (name, _uri) in enumerate(FIELD_URIS))
_URIS = dict(FIELD_URIS)


def _element(name, text=None, **attributes):
    element = etree.Element(T + name, attributes)
    element.text = text
    return element


def text(name, value):
    """A field holding text: ``Subject``, ``Importance`` (``High``...), ``Sensitivity``, ``ItemClass``."""
    return _element(name, value)


def boolean(name, value):
    """``IsReadReceiptRequested`` or ``IsDeliveryReceiptRequested``."""
    return _element(name, "true" if value else "false")


def body(value, body_type):
    """The body; ``body_type`` is ``Text`` or ``HTML``."""
    return _element("Body", value, BodyType=body_type)


def strings(name, values):
    """``Categories``: one ``t:String`` per value."""
    element = _element(name)
    for value in values:
        etree.SubElement(element, T + "String").text = value
    return element


def _mailbox(address):
    mailbox = _element("Mailbox")
    etree.SubElement(mailbox, T + "EmailAddress").text = address
    return mailbox


def mailboxes(name, addresses):
    """A recipient list: ``ToRecipients``, ``CcRecipients``, ``BccRecipients``, ``ReplyTo``."""
    element = _element(name)
    element.extend(_mailbox(address) for address in addresses)
    return element


def mailbox(name, address):
    """A single recipient: ``From``."""
    element = _element(name)
    element.append(_mailbox(address))
    return element


def extended_property(path, value):
    """An ``ExtendedProperty``: ``path`` is its ``ExtendedFieldURI`` attributes (a dict), ``value`` a string."""
    element = _element("ExtendedProperty")
    etree.SubElement(element, T + "ExtendedFieldURI", path)
    etree.SubElement(element, T + "Value").text = value
    return element


def file_attachment(name, content_type, content, content_id=None):
    """A ``t:FileAttachment`` with ``content`` (bytes); a ``content_id`` makes it inline (``cid:`` in HTML)."""
    element = _element("FileAttachment")
    etree.SubElement(element, T + "Name").text = name
    etree.SubElement(element, T + "ContentType").text = content_type
    if content_id:
        etree.SubElement(element, T + "ContentId").text = content_id
    etree.SubElement(element, T + "IsInline").text = "true" if content_id else "false"
    etree.SubElement(element, T + "Content").text = base64.b64encode(content).decode("ascii")
    return element


def attachments(files):
    """The ``t:Attachments`` field of a new message, holding ``file_attachment`` elements."""
    element = _element("Attachments")
    element.extend(files)
    return element


def message(fields):
    """A ``t:Message`` holding ``fields`` in the schema's order (fields of one kind keep their order)."""
    element = _element("Message")
    element.extend(sorted(fields, key=lambda field: _ORDER[etree.QName(field).localname]))
    return element


def path_element(field):
    """The FieldURI (or, for an ``ExtendedProperty``, the ExtendedFieldURI) naming ``field``."""
    name = etree.QName(field).localname
    if name == "ExtendedProperty":
        return path(dict(field.find(T + "ExtendedFieldURI").attrib))
    return path(_URIS[name])


def path(value):
    """The path element of a FieldURI (``item:Subject``) or of an ExtendedFieldURI's attributes (a dict)."""
    return extended_field_uri(value) if isinstance(value, dict) else field_uri(value)
