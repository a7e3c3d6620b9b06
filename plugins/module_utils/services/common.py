# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``EwsService``: the one base class of every service, and the id and folder elements they share.

Modelled on exchangelib's ``services/common.py`` (``EWSService``): a service
names its operation once and inherits the rest::

    class DeleteAttachment(EwsService):
        operation = "DeleteAttachment"

        def delete(self, attachment_ids):
            request = self.new_request()
            ...
            return self.post(request, expected=len(attachment_ids))

What the base owns:

* the operation name (``operation``), used for the request element, the
  SOAPAction and every error message;
* building requests one way: lxml elements in the messages (``M``) and types
  (``T``) namespaces, starting from ``new_request()`` (zeep serialises only
  the SOAP headers, see ``client.py``);
* the response-count check: Exchange answers one response message per item
  (or folder, or attachment) asked for, in order; any other count is an
  answer the caller cannot match to its input;
* repeating a read whose answer was lost (``read_only = True``): a read
  changes nothing, so asking again once is always safe; a write is never
  repeated here (the exactly-once protocol reads before it writes again);
* raising errors: ``error(message, ...)`` is an ``EwsError`` naming the
  operation, Exchange's ResponseCode and the item.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from lxml import etree
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    etree = None

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError, EwsResponseLost
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M, NSMAP, T
from ansible_collections.exchange.ews.plugins.module_utils.validation import DISTINGUISHED_FOLDERS, validate_folder


def item_id_element(item_id, change_key=None, tag=T + "ItemId"):
    """An ``ItemId`` (or, with ``tag``, a ``ParentItemId``...) with its ChangeKey when one is given."""
    element = etree.Element(tag, Id=item_id)
    if change_key:
        element.set("ChangeKey", change_key)
    return element


def item_ids_element(refs):
    """``m:ItemIds`` for ``(item_id, change_key or None)`` pairs.

    Batched requests are built with lxml rather than zeep: zeep's serialiser
    costs about 3.5 ms per 100 ids, lxml a fifth of that.
    """
    container = etree.Element(M + "ItemIds")
    for item_id, change_key in refs:
        # Made in place, as item_id_element makes them: an element made on its own gets a document of its own.
        element = etree.SubElement(container, T + "ItemId", Id=item_id)
        if change_key:
            element.set("ChangeKey", change_key)
    return container


def folder_id(folder, mailbox=None, where="folder"):
    """The value naming a folder: ``{"DistinguishedFolderId": {...}}`` or ``{"FolderId": {"Id": ...}}``.

    A distinguished folder name (``validation.DISTINGUISHED_FOLDERS``, any
    case) is qualified with ``mailbox`` (the owner's SMTP address, for
    delegates) when given; anything else must be a FolderId, which already
    names its mailbox. Raises ``EwsConfigError`` naming ``where`` otherwise.
    Requests carry it as ``folder_id_element``; ``FindItem`` hands it back as
    the folder each item was found in.
    """
    folder = validate_folder(folder, where)
    if folder in DISTINGUISHED_FOLDERS:
        distinguished = {"Id": folder}
        if mailbox:
            distinguished["Mailbox"] = {"EmailAddress": mailbox}
        return {"DistinguishedFolderId": distinguished}
    return {"FolderId": {"Id": folder}}


def folder_id_element(folder):
    """The ``t:DistinguishedFolderId`` or ``t:FolderId`` element of a ``folder_id`` value."""
    (kind, value), = folder.items()
    element = etree.Element(T + kind, Id=value["Id"])
    if "Mailbox" in value:
        mailbox = etree.SubElement(element, T + "Mailbox")
        etree.SubElement(mailbox, T + "EmailAddress").text = value["Mailbox"]["EmailAddress"]
    return element


class EwsService:
    """One EWS operation over ``client`` (an ``EwsClient``); see the module docstring.

    Subclasses set ``operation`` and, for operations that change nothing,
    ``read_only = True``; their public methods build a request with
    ``new_request``, send it with ``post`` and read the ``ResponseMessage``
    list it returns.
    """

    operation = None
    read_only = False

    def __init__(self, client):
        self.client = client

    def new_request(self, **attributes):
        """The empty ``m:<operation>`` request element, with ``attributes``."""
        return etree.Element(M + self.operation, attributes, nsmap=NSMAP)

    def post(self, request, expected):
        """The ``ResponseMessage`` list of ``request``, exactly ``expected`` of them, in request order.

        A read whose answer was lost is asked once more. Any other count of
        answers raises ``EwsError``; request-level failures propagate as the
        client raises them (``EwsFault``, ``EwsResponseLost``...).
        """
        try:
            messages = self.client.call(self.operation, request=request)
        except EwsResponseLost:
            if not self.read_only:
                raise
            messages = self.client.call(self.operation, request=request)
        if len(messages) != expected:
            raise self.error("expected %d response messages, got %d" % (expected, len(messages)))
        return messages

    def error(self, text, message=None, item_id=None, about=None):
        """An ``EwsError`` for this operation: Exchange's ResponseCode and text from ``message`` (a
        ``ResponseMessage``) when there is one, else ``text``; ``item_id`` names the item, ``about``
        what else the text is about (``attachment 'report.csv'``)."""
        if message is not None:
            text = message.message_text or text
        if about:
            text = "%s: %s" % (about, text)
        return EwsError(text, operation=self.operation, item_id=item_id,
                        response_code=message.response_code if message is not None else None)

    def check(self, message, text, item_id=None, about=None):
        """``message`` unless it is an Error: then ``error(text, message, item_id, about)`` is raised."""
        if not message.ok:
            raise self.error(text, message, item_id, about)
        return message
