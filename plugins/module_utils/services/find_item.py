# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FindItem: search one folder with a server-side restriction, page by page.

Used by the draft_ids lookup (drafts matching filters), the draft module
(the draft carrying an idempotency key) and the exactly-once protocol (saved
copies carrying a send marker).

Paging. Exchange limits how many items one FindItem may return
(EWSFindCountLimit, 1000 by default on premises and in Exchange Online, and
lower for some restricted searches), and answers a larger page with fewer
items. The loop therefore never assumes a page was full: it continues from the
``IndexedPagingOffset`` the server returns until ``IncludesLastItemInRange``.
``PAGE_SIZE`` is 250, under every documented cap, so a page normally comes
back complete and a search matching N items costs ceil(N / 250) round trips
(one for N <= 250) whatever the folder's size.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

try:
    from lxml import etree
except ImportError:  # pragma: no cover - reported by the plugin that imports us
    etree = None

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError, EwsResponseLost
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M, NSMAP, T
from ansible_collections.exchange.ews.plugins.module_utils.responses import extended_properties, item_id

PAGE_SIZE = 250

# Distinguished folder names a caller may give instead of a FolderId: the mail
# folders of ews_schema's DistinguishedFolderIdNameType.
DISTINGUISHED_FOLDERS = frozenset((
    "deleteditems", "drafts", "inbox", "junkemail", "msgfolderroot", "outbox", "root", "sentitems",
))


def folder_id(folder, mailbox=None):
    """The zeep value of a ``TargetFolderIdType`` / base folder id for ``folder``.

    A single word is a distinguished folder name, qualified with ``mailbox``
    (the owner's SMTP address, for delegates) when given; anything else is a
    FolderId, which already names its mailbox. Raises ValueError for an
    unknown folder name.
    """
    if re.match(r"^[A-Za-z]+$", folder):
        name = folder.lower()
        if name not in DISTINGUISHED_FOLDERS:
            raise ValueError("unknown distinguished folder %r; use one of %s or a FolderId"
                             % (folder, ", ".join(sorted(DISTINGUISHED_FOLDERS))))
        distinguished = {"Id": name}
        if mailbox:
            distinguished["Mailbox"] = {"EmailAddress": mailbox}
        return {"DistinguishedFolderId": distinguished}
    return {"FolderId": {"Id": folder}}


def folder_id_element(folder):
    """lxml form of a ``folder_id`` value, for requests built as XML."""
    (kind, value), = folder.items()
    element = etree.Element(T + kind, Id=value["Id"])
    if "Mailbox" in value:
        mailbox = etree.SubElement(element, T + "Mailbox")
        etree.SubElement(mailbox, T + "EmailAddress").text = value["Mailbox"]["EmailAddress"]
    return element


class FoundItem:
    """One item of a FindItem page: ids, the requested properties, extended properties."""

    __slots__ = ("id", "change_key", "fields", "extended")

    def __init__(self, item_id, change_key, fields, extended):
        self.id = item_id
        self.change_key = change_key
        self.fields = fields        # local element name -> text (Subject, DisplayTo, DateTimeCreated...)
        self.extended = extended    # PropertyName -> value, as responses.extended_properties reads them

    @classmethod
    def from_element(cls, element):
        fields = {}
        for child in element:
            name = etree.QName(child).localname
            if name == "Categories":
                fields[name] = [string.text for string in child.iterfind("t:String", NSMAP)]
            elif name not in ("ItemId", "ExtendedProperty") and len(child) == 0:
                fields[name] = child.text
        identifier, change_key = item_id(element)
        return cls(identifier, change_key, fields, extended_properties(element))

    def __repr__(self):
        return "FoundItem(%r, %r)" % (self.id, self.fields.get("Subject"))


class FindItemPage:
    """One FindItem response page."""

    __slots__ = ("items", "total", "next_offset", "last")

    def __init__(self, items, total, next_offset, last):
        self.items = items
        self.total = total
        self.next_offset = next_offset
        self.last = last

    @classmethod
    def from_root_folder(cls, root_folder, offset):
        items = [FoundItem.from_element(element) for element in root_folder.iterfind("t:Items/*", NSMAP)]
        next_offset = root_folder.get("IndexedPagingOffset")
        return cls(
            items=items,
            total=int(root_folder.get("TotalItemsInView", len(items))),
            next_offset=int(next_offset) if next_offset is not None else offset + len(items),
            last=root_folder.get("IncludesLastItemInRange", "true") == "true",
        )


def find_item_request(parent_folder, additional_properties=(), restriction=None, field_orders=None,
                      offset=0, page_size=PAGE_SIZE, more_folders=()):
    """The ``m:FindItem`` element for one page (Shallow traversal, IdOnly + ``additional_properties``).

    ``parent_folder`` is a ``folder_id`` value, ``additional_properties``
    are paths (restrictions.field_uri / extended_field_uri), ``restriction``
    is a search expression and ``field_orders`` a list of ``t:FieldOrder``
    elements (restrictions.field_orders), most significant first.
    Elements are copied, so callers may reuse them across pages.
    """
    request = etree.Element(M + "FindItem", Traversal="Shallow", nsmap=NSMAP)
    shape = etree.SubElement(request, M + "ItemShape")
    etree.SubElement(shape, T + "BaseShape").text = "IdOnly"
    if additional_properties:
        properties = etree.SubElement(shape, T + "AdditionalProperties")
        for path in additional_properties:
            properties.append(copy.deepcopy(path))
    etree.SubElement(request, M + "IndexedPageItemView", MaxEntriesReturned=str(page_size),
                     Offset=str(offset), BasePoint="Beginning")
    if restriction is not None:
        wrapper = etree.SubElement(request, M + "Restriction")
        wrapper.append(copy.deepcopy(restriction))
    if field_orders:
        sort_order = etree.SubElement(request, M + "SortOrder")
        sort_order.extend(copy.deepcopy(order) for order in field_orders)
    folders = etree.SubElement(request, M + "ParentFolderIds")
    for folder in (parent_folder,) + tuple(more_folders):
        folders.append(folder_id_element(folder))
    return request


class FindItemResult:
    """What ``FindItem.find`` found: ``items`` (in sort order, at most ``max_items``),
    ``total`` (matches in the folder, as Exchange counted them) and ``requests`` (round trips)."""

    __slots__ = ("items", "total", "requests")

    def __init__(self, items, total, requests):
        self.items = items
        self.total = total
        self.requests = requests


class FindItem:
    """FindItem over one folder with Shallow traversal, following pages to the end.

    Example (the exactly-once protocol looking for saved copies)::

        marker = extended_field_uri(properties.MARKER_PATH)
        result = FindItem(client).find(
            folder_id("sentitems", mailbox),
            additional_properties=[marker],
            restriction=or_(*[is_equal_to(marker, digest) for digest in digests]))
        {item.extended["ExchangeEwsSendMarker"]: item.id for item in result.items}
    """

    operation = "FindItem"

    def __init__(self, client):
        self.client = client

    def page(self, parent_folder, additional_properties=(), restriction=None, field_orders=None,
             offset=0, page_size=PAGE_SIZE):
        """One page as a ``FindItemPage``; raises ``EwsError`` naming the ResponseCode on an Error message."""
        request = find_item_request(parent_folder, additional_properties, restriction, field_orders,
                                    offset, page_size)
        try:
            message = self.client.call(self.operation, request=request)[0]
        except EwsResponseLost:
            # A search changes nothing: repeating it is always safe.
            message = self.client.call(self.operation, request=request)[0]
        if not message.ok:
            raise EwsError(message.message_text or "search failed", operation=self.operation,
                           response_code=message.response_code)
        return FindItemPage.from_root_folder(message.element.find("m:RootFolder", NSMAP), offset)

    def find(self, parent_folder, additional_properties=(), restriction=None, field_orders=None,
             max_items=None, page_size=PAGE_SIZE):
        """Every matching item (or the first ``max_items``), as a ``FindItemResult``.

        Pages are requested until Exchange reports ``IncludesLastItemInRange``,
        continuing from the ``IndexedPagingOffset`` it returns, so a server
        that caps pages below ``page_size`` costs more requests but loses
        nothing. An item that shifts between pages because the folder changed
        meanwhile is returned once.
        """
        items = []
        seen = set()
        offset = 0
        requests = 0
        total = 0
        while True:
            wanted = page_size if max_items is None else min(page_size, max_items - len(items))
            page = self.page(parent_folder, additional_properties, restriction, field_orders, offset, wanted)
            requests += 1
            total = page.total
            for item in page.items:
                if item.id not in seen:
                    seen.add(item.id)
                    items.append(item)
            done = page.last or not page.items or page.next_offset <= offset
            if done or (max_items is not None and len(items) >= max_items):
                break
            offset = page.next_offset
        if max_items is not None:
            items = items[:max_items]
        return FindItemResult(items, total, requests)

    def find_in(self, parent_folders, additional_properties=(), restriction=None):
        """``(index of the folder in parent_folders, FoundItem)`` for the first page of each folder, in one request."""
        request = find_item_request(parent_folders[0], additional_properties, restriction,
                                    more_folders=parent_folders[1:])
        try:
            messages = self.client.call(self.operation, request=request)
        except EwsResponseLost:
            messages = self.client.call(self.operation, request=request)
        found = []
        for index, message in enumerate(messages):
            if not message.ok:
                raise EwsError(message.message_text or "search failed", operation=self.operation,
                               response_code=message.response_code)
            page = FindItemPage.from_root_folder(message.element.find("m:RootFolder", NSMAP), 0)
            found.extend((index, item) for item in page.items)
        return found
