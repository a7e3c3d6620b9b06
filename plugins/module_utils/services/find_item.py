# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FindItem: search folders with a server-side restriction, page by page, within bounds.

Used by the draft_ids lookup (drafts matching filters), the message module
(the message carrying an idempotency key, in Drafts, Outbox and Sent Items at
once) and the exactly-once protocol (saved copies carrying a send marker, in
the saved folder and the Outbox at once).

Paging. Exchange limits how many items one FindItem may return
(EWSFindCountLimit, 1000 by default on premises and in Exchange Online, and
lower for some restricted searches), and answers a larger page with fewer
items. The loop therefore never assumes a page was full: it continues from the
``IndexedPagingOffset`` the server returns until ``IncludesLastItemInRange``.
``PAGE_SIZE`` is 250, under every documented cap, so a page normally comes
back complete and a search matching N items costs ceil(N / 250) round trips
(one for N <= 250) whatever the folder's size.

Several folders. One request may name many parent folders; Exchange answers
with one response message (and one paging state) per folder. The first page
of every folder comes in one round trip; later pages are asked for per group
of folders at the same offset.

Bounds. A server that never reports the last page must not keep a run
paging: a search stops with an error once more than ``limit`` items match
(``FIND_LIMIT`` by default) or after ``max_pages`` requests, and at
``max_items`` without one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

try:
    from lxml import etree
except ImportError:  # pragma: no cover - reported by the plugin that imports us
    etree = None

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError, EwsResponseLost
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M, NSMAP, T
from ansible_collections.exchange.ews.plugins.module_utils.responses import extended_properties, item_id
from ansible_collections.exchange.ews.plugins.module_utils.services.common import EwsService, folder_id_element

PAGE_SIZE = 250
# Matches a search may return before it fails (unless the caller caps it with max_items).
FIND_LIMIT = 10000
# Requests one search may make, at the least; more when the limit needs more full pages.
MIN_PAGES = 20


class FoundItem:
    """One item of a FindItem page: ids, the requested properties, extended properties, and
    ``folder``, the parent folder (the ``folder_id`` value the search was given) it was found in."""

    __slots__ = ("id", "change_key", "fields", "extended", "folder")

    def __init__(self, item_id, change_key, fields, extended, folder=None):
        self.id = item_id
        self.change_key = change_key
        self.fields = fields        # local element name -> text (Subject, DisplayTo, DateTimeCreated...)
        self.extended = extended    # PropertyName -> value, as responses.extended_properties reads them
        self.folder = folder

    @classmethod
    def from_element(cls, element, folder=None):
        fields = {}
        for child in element:
            name = etree.QName(child).localname
            if name == "Categories":
                fields[name] = [string.text for string in child.iterfind("t:String", NSMAP)]
            elif name not in ("ItemId", "ExtendedProperty") and len(child) == 0:
                fields[name] = child.text
        identifier, change_key = item_id(element)
        return cls(identifier, change_key, fields, extended_properties(element), folder)

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
    def from_root_folder(cls, root_folder, offset, folder=None):
        items = [FoundItem.from_element(element, folder) for element in root_folder.iterfind("t:Items/*", NSMAP)]
        try:
            next_offset = int(root_folder.get("IndexedPagingOffset", offset + len(items)))
            total = int(root_folder.get("TotalItemsInView", len(items)))
        except ValueError:
            raise EwsResponseLost("the answer's paging attributes are not numbers", operation="FindItem")
        return cls(items=items, total=total, next_offset=next_offset,
                   last=root_folder.get("IncludesLastItemInRange", "true") == "true")


class TooManyMatches(EwsError):
    """More items match than the search may return: ``matches`` (at least), ``limit``."""

    def __init__(self, matches, limit):
        self.matches = matches
        self.limit = limit
        super(TooManyMatches, self).__init__("%d items match, more than the limit of %d; narrow the search"
                                             % (matches, limit), operation="FindItem",
                                             response_code="EwsTooManyMatches")


class FindItemResult:
    """What ``FindItem.find`` found: ``items`` (folder by folder in the order given, each in sort
    order; at most ``max_items``), ``total`` (matches in all folders, as Exchange counted them) and
    ``requests`` (round trips)."""

    __slots__ = ("items", "total", "requests")

    def __init__(self, items, total, requests):
        self.items = items
        self.total = total
        self.requests = requests


class FindItem(EwsService):
    """FindItem over one or several folders with Shallow traversal, following pages to the end.

    Example (the exactly-once protocol looking for saved copies in the saved
    folder and the Outbox with one request)::

        marker = extended_field_uri(properties.MARKER_PATH)
        sent, outbox = folder_id("sentitems", mailbox), folder_id("outbox", mailbox)
        result = FindItem(client).find(
            parent_folders=[sent, outbox],
            additional_properties=[marker],
            restriction=or_(*[is_equal_to(marker, digest) for digest in digests]))
        {item.extended["ExchangeEwsSendMarker"]: item.folder == sent for item in result.items}
    """

    operation = "FindItem"
    read_only = True

    def find(self, parent_folder=None, additional_properties=(), restriction=None, field_orders=None,
             max_items=None, page_size=PAGE_SIZE, parent_folders=None, limit=FIND_LIMIT, max_pages=None):
        """Every matching item (or the first ``max_items``), as a ``FindItemResult``.

        Give one folder as ``parent_folder`` or several as ``parent_folders``
        (``folder_id`` values); each found item's ``folder`` is the value it
        was found through. Pages are requested until Exchange reports
        ``IncludesLastItemInRange``, continuing from the ``IndexedPagingOffset``
        it returns, so a server that caps pages below ``page_size`` costs more
        requests but loses nothing. An item that shifts between pages because
        the folder changed meanwhile is returned once.

        Without ``max_items``, more than ``limit`` matches raise ``TooManyMatches``
        (the count Exchange reports is checked on the first page, so this
        costs one request). ``max_pages`` (by default enough for the bound at
        full pages, four times over, and at least ``MIN_PAGES``) stops a server
        that never reports the last page.
        """
        folders = list(parent_folders) if parent_folders is not None else [parent_folder]
        if not folders or any(folder is None for folder in folders):
            raise ValueError("FindItem.find needs parent_folder or parent_folders")
        bound = max_items if max_items is not None else limit
        if max_pages is None:
            max_pages = max(MIN_PAGES, 4 * -(-bound // page_size))
        found = dict((index, []) for index in range(len(folders)))
        seen = set()
        totals = {}
        offsets = dict((index, 0) for index in range(len(folders)))  # folders still paging -> next offset
        requests = 0
        while offsets:
            if requests >= max_pages:
                raise EwsError("the server was still not done after %d pages; stopping (a server that never "
                               "reports the last page?)" % max_pages, operation=self.operation)
            offset = min(offsets.values())
            group = sorted(index for index, next_offset in offsets.items() if next_offset == offset)
            wanted = page_size if max_items is None else max(1, min(page_size, max_items - len(seen)))
            pages = self._pages([folders[index] for index in group], additional_properties, restriction,
                                field_orders, offset, wanted)
            requests += 1
            for index, page in zip(group, pages):
                totals[index] = page.total
                new = [item for item in page.items if item.id not in seen]
                seen.update(item.id for item in new)
                found[index].extend(new)
                if page.last or not page.items or page.next_offset <= offset:
                    del offsets[index]
                else:
                    offsets[index] = page.next_offset
            matches = max(sum(totals.values()), len(seen))
            if max_items is None and matches > limit:
                raise TooManyMatches(matches, limit)
            if max_items is not None and len(seen) >= max_items:
                break
        items = [item for index in range(len(folders)) for item in found[index]]
        if max_items is not None:
            items = items[:max_items]
        return FindItemResult(items, sum(totals.values()), requests)

    def _request(self, parent_folders, additional_properties, restriction, field_orders, offset, page_size):
        """The ``m:FindItem`` element for one page (Shallow traversal, IdOnly + ``additional_properties``).

        ``parent_folders`` are ``folder_id`` values, ``additional_properties``
        are paths (restrictions.field_uri / extended_field_uri), ``restriction``
        is a search expression and ``field_orders`` a list of ``t:FieldOrder``
        elements (restrictions.field_orders), most significant first.
        Elements are copied, so callers may reuse them across pages.
        """
        request = self.new_request(Traversal="Shallow")
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
        folders.extend(folder_id_element(folder) for folder in parent_folders)
        return request

    def _pages(self, folders, additional_properties, restriction, field_orders, offset, page_size):
        """One ``FindItemPage`` per folder; raises ``EwsError`` naming the ResponseCode on an Error message."""
        request = self._request(folders, additional_properties, restriction, field_orders, offset, page_size)
        pages = []
        for folder, message in zip(folders, self.post(request, expected=len(folders))):
            self.check(message, "search failed")
            root_folder = message.element.find("m:RootFolder", NSMAP)
            if root_folder is None:
                raise EwsResponseLost("a response message has no RootFolder", operation=self.operation)
            pages.append(FindItemPage.from_root_folder(root_folder, offset, folder))
        return pages
