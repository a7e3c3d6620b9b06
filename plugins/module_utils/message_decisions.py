# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of keyed messages (docs/exactly-once.md, "Keyed messages"), as pure functions.

* ``elect``: from what one search by key found and the server's clock before
  that search, the next step: the message was already sent, create a draft,
  wait, or send the winning draft.
* ``plan_attachments``: which attachments of a draft to keep, delete and add.
* ``changed_fields``: which options differ between a message and the task.
* ``estimated_send_size``, ``fits_in_one_request`` and ``upload_batches``:
  the size checks made before any upload, and how attachments are split
  over requests.

The I/O around them is ``messages.py``; the tables of
``tests/unit/plugins/module_utils/test_message_decisions.py`` check them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DRAFTS, OUTBOX, SENT_ITEMS = "drafts", "outbox", "sentitems"
# The order a message moves in, and so the order one search looks in (see elect).
SEARCH_ORDER = (DRAFTS, OUTBOX, SENT_ITEMS)

ALREADY_SENT = "already_sent"
CREATE = "create"
WAIT = "wait"
SEND = "send"

# A base64 line is 76 characters and a line break (RFC 2045): what an attachment becomes in the MIME Exchange sends.
MIME_LINE = 76
# Room for a request's envelope, headers and element names, and for a sent message's headers.
REQUEST_OVERHEAD = 8192
ATTACHMENT_OVERHEAD = 512
MESSAGE_OVERHEAD = 8192


class Found:
    """One item a search by key found: ``folder`` (``DRAFTS``, ``OUTBOX`` or ``SENT_ITEMS``), ``is_draft``,
    ``created`` (DateTimeCreated, an aware datetime), ``id``, ``change_key`` and ``fields`` (what else was read)."""

    __slots__ = ("folder", "is_draft", "created", "id", "change_key", "fields")

    def __init__(self, folder, is_draft, created, item_id, change_key=None, fields=None):
        self.folder = folder
        self.is_draft = is_draft
        self.created = created
        self.id = item_id
        self.change_key = change_key
        self.fields = fields or {}

    @property
    def submitted(self):
        """Proves a send: in the Outbox (submitted, in flight), or no longer a draft. A draft a user moved into
        Sent Items proves nothing (docs/exactly-once.md, the copy table)."""
        return self.folder == OUTBOX or not self.is_draft

    @property
    def candidate(self):
        """A draft that may be sent: in Drafts, and still a draft."""
        return self.folder == DRAFTS and self.is_draft

    def __repr__(self):
        return "Found(%s, draft=%s, %s, %s)" % (self.folder, self.is_draft, self.created, self.id)


class Step:
    """What to do next: ``kind`` (``ALREADY_SENT``, ``CREATE``, ``WAIT``, ``SEND``) and the item it is about."""

    __slots__ = ("kind", "item")

    def __init__(self, kind, item=None):
        self.kind = kind
        self.item = item

    def __repr__(self):
        return "Step(%s, %r)" % (self.kind, self.item)


def order(draft):
    """The election's order: the earliest DateTimeCreated (to the second, as Exchange returns it), then the
    smallest ItemId. Every run computes it from the same server values, so all agree on the first draft."""
    return (draft.created.replace(microsecond=0), draft.id)


def settled(draft, clock):
    """True when the server's clock, read before a search began, had passed the second ``draft`` was created in.

    Then any draft created after the search began is strictly later than ``draft`` in ``order``, so a
    search that sees ``draft`` as the first one sees every draft that could come before it.
    """
    return clock is not None and clock > draft.created.replace(microsecond=0)


def elect(found, clock):
    """The next ``Step`` after one search by key (Drafts, Outbox, Sent Items in one FindItem).

    ``clock`` is the server's time (the HTTP Date of the last answer) before the search was sent, or None.

    * a submitted copy: ``ALREADY_SENT`` (the item: the copy, Sent Items preferred: the record of the send);
    * no draft: ``CREATE`` (this run's own draft);
    * the first draft in ``order``, when ``settled``: ``SEND`` it (whoever created it);
    * otherwise ``WAIT`` until the clock has passed its creation second, and search again.
    """
    copies = [item for item in found if item.submitted]
    if copies:
        return Step(ALREADY_SENT, min(copies, key=lambda copy: (copy.folder != SENT_ITEMS, order(copy))))
    drafts = [item for item in found if item.candidate]
    if not drafts:
        return Step(CREATE)
    first = min(drafts, key=order)
    return Step(SEND if settled(first, clock) else WAIT, first)


def plan_attachments(desired, present, recorded):
    """``(keep, delete, add)`` to bring a draft's attachments to ``desired``.

    ``desired``: ``{name: digest}`` of the task's attachments; ``present``:
    ``[(attachment_id, name)]`` on the draft; ``recorded``: ``{name: digest}``
    this module recorded on the draft for the attachments it wrote. An
    attachment is kept only when it is the one attachment of its name and its
    recorded digest is the desired one; every other attachment is deleted
    (changed, no longer wanted, or not written by this module: unknown
    content), and every desired attachment not kept is added. ``keep`` is
    the names kept, ``delete`` the attachment ids, ``add`` the names, in the
    order of ``desired``.
    """
    counts = {}
    for _attachment_id, name in present:
        counts[name] = counts.get(name, 0) + 1
    keep = [name for name in desired
            if counts.get(name) == 1 and recorded.get(name) == desired[name]]
    delete = [attachment_id for attachment_id, name in present if name not in keep]
    add = [name for name in desired if name not in keep]
    return keep, delete, add


def changed_fields(desired, current, names):
    """The option names in ``names`` (in that order) whose ``desired`` value differs from ``current``."""
    return [name for name in names if name in desired and desired[name] != current.get(name)]


def base64_size(size):
    """Bytes ``size`` bytes take in base64."""
    return 4 * (-(-size // 3))


def mime_size(size):
    """Bytes an attachment of ``size`` bytes takes in the MIME message Exchange sends: base64, in lines."""
    encoded = base64_size(size)
    return encoded + 2 * (-(-encoded // MIME_LINE))


def estimated_send_size(content_size, attachment_sizes):
    """About how big the message is as Exchange sends and measures it (MaxSendSize): its text
    (``content_size``, in UTF-8 bytes), each attachment in MIME base64, and headers."""
    return MESSAGE_OVERHEAD + content_size + sum(mime_size(size) + ATTACHMENT_OVERHEAD for size in attachment_sizes)


def _request_sizes(attachment_sizes):
    return [base64_size(size) + ATTACHMENT_OVERHEAD for size in attachment_sizes]


def fits_in_one_request(content_size, attachment_sizes, max_request_bytes):
    """True when a new message's XML (``content_size`` bytes) and all its attachments, in base64, fit in one
    CreateItem within ``max_request_bytes`` (the server's EWS request size limit)."""
    return content_size + sum(_request_sizes(attachment_sizes)) <= max_request_bytes - REQUEST_OVERHEAD


def upload_batches(attachment_sizes, max_request_bytes):
    """``(batches, too_big)``: the CreateAttachment requests that carry the attachments, as lists of indexes in
    order, each within ``max_request_bytes``; ``too_big``: the indexes of attachments no request can carry."""
    room = max_request_bytes - REQUEST_OVERHEAD
    batches, too_big, used = [], [], 0
    for index, size in enumerate(_request_sizes(attachment_sizes)):
        if size > room:
            too_big.append(index)
        elif batches and used + size <= room:
            batches[-1].append(index)
            used += size
        else:
            batches.append([index])
            used = size
    return batches, too_big
