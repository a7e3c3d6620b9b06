# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exactly-once protocol's requests over EWS: one ``EwsChannel`` per connection.

``exactly_once.ExactlyOnceSender`` decides; a channel asks. Each method is one
request for a whole batch and answers with backend-neutral results
(``ReadResult``, ``WriteResult``, ``FoundCopy``), one per item in order, so
the same protocol runs over EWS here and over Microsoft Graph in
``graph_channel.py``. Request-level failures raise ``errors.EwsError``
subclasses, classified as for any request (``exactly_once.not_processed``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils import properties
from ansible_collections.exchange.ews.plugins.module_utils import restrictions
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import T
from ansible_collections.exchange.ews.plugins.module_utils.responses import (
    bool_field,
    extended_properties,
    first_item,
    item_id,
    parse_datetime,
)
from ansible_collections.exchange.ews.plugins.module_utils.services.common import folder_id
from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem
from ansible_collections.exchange.ews.plugins.module_utils.services.get_folder import GetFolder
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import GetItem
from ansible_collections.exchange.ews.plugins.module_utils.services.send_item import SendItem
from ansible_collections.exchange.ews.plugins.module_utils.services.update_item import UpdateItem

# What step 1 reads of each item: the decision's inputs, where it is, and what the results show.
READ_FIELDS = ("item:IsDraft", "item:LastModifiedTime", "item:ParentFolderId", "item:Subject", "item:DisplayTo")
STATE_PROPERTIES = (properties.MARKER_PATH, properties.STATE_PATH)


class ReadResult:
    """What one read learned of one item. ``response_class`` / ``response_code`` / ``message_text`` as
    Exchange answered; for a Success also ``change_key``, ``is_draft``, the raw ``marker`` and ``state``
    values (None when absent), ``last_modified`` (aware datetime or None), ``subject``, ``to`` (list),
    ``parent_folder`` (the FolderId of its folder, or None)."""

    __slots__ = ("response_class", "response_code", "message_text", "change_key", "is_draft", "marker", "state",
                 "last_modified", "subject", "to", "parent_folder")

    def __init__(self, response_class, response_code, message_text=None, change_key=None, is_draft=True,
                 marker=None, state=None, last_modified=None, subject=None, to=None, parent_folder=None):
        self.response_class = response_class
        self.response_code = response_code
        self.message_text = message_text
        self.change_key = change_key
        self.is_draft = is_draft
        self.marker = marker
        self.state = state
        self.last_modified = last_modified
        self.subject = subject
        self.to = to
        self.parent_folder = parent_folder


class WriteResult:
    """The answer to a stamp, a release or a send for one item; ``change_key``: the item's new one."""

    __slots__ = ("response_class", "response_code", "message_text", "change_key")

    def __init__(self, response_class, response_code, message_text=None, change_key=None):
        self.response_class = response_class
        self.response_code = response_code
        self.message_text = message_text
        self.change_key = change_key


class FoundCopy:
    """A message found by marker in step 5: ``in_outbox``, ``is_draft``, raw ``marker`` and ``state``,
    ``subject``, ``to``."""

    __slots__ = ("in_outbox", "is_draft", "marker", "state", "subject", "to")

    def __init__(self, in_outbox, is_draft, marker, state=None, subject=None, to=None):
        self.in_outbox = in_outbox
        self.is_draft = is_draft
        self.marker = marker
        self.state = state
        self.subject = subject
        self.to = to


def split_display(text):
    """A To line as Exchange displays it (``A; B``) as a list of names."""
    return [name.strip() for name in (text or "").split(";") if name.strip()]


class ClientChannel:
    """What every backend's channel does the same way over its client (``EwsClient`` or ``GraphClient``)."""

    def __init__(self, client):
        self.client = client

    @property
    def server_time(self):
        return self.client.server_time

    @property
    def retry_log(self):
        """``(operation, reason, delay)`` per throttled attempt of this connection."""
        return self.client.retry_policy.attempts_log

    def end_by(self, ends_at):
        """No request, retry or wait of this connection runs past ``ends_at`` (``time.monotonic``)."""
        self.client.deadline = ends_at

    def close(self):
        self.client.close()


class EwsChannel(ClientChannel):
    """One EWS connection (an ``EwsClient``) and where sent messages go.

    ``save_copy`` / ``saved_item_folder`` / ``mailbox``: SendItem's
    SaveItemToFolder and SavedItemFolderId; the Outbox searched with the
    saved folder is ``mailbox``'s (the connecting mailbox when None).

    What its writes prove, for the protocol: every write over a claim is a
    compare-and-set on the ChangeKey (``stamps_compare_and_set``), and so is
    the send itself (``send_checks_key``).
    """

    send_checks_key = True
    stamps_compare_and_set = True

    def __init__(self, client, save_copy=True, saved_item_folder="sentitems", mailbox=None):
        super(EwsChannel, self).__init__(client)
        self.save_copy = save_copy
        self.mailbox = mailbox
        try:
            self.saved_folder = folder_id(saved_item_folder or "sentitems", mailbox, "saved_item_folder")
            self.outbox = folder_id("outbox", mailbox)
        except ValueError as exc:
            raise EwsConfigError("saved_item_folder: %s" % exc)
        self._own_drafts = None    # FolderId of the connecting mailbox's Drafts, read on first need
        self._get = GetItem(client)
        self._update = UpdateItem(client)
        self._send = SendItem(client)
        self._find = FindItem(client)

    def quirk_possible(self, ref, parent_folder):
        """Exchange's delegate quirks (docs) need a draft or a saved folder in another mailbox than the
        connecting one: a draft the read found in the connecting mailbox's Drafts (``parent_folder``), or that
        a lookup of that mailbox returned, sent with the copy saved there too, rules them out."""
        if self.mailbox is not None:
            return True
        if ref.unclaimed_draft and ref.mailbox is None:
            return False
        return not self.in_own_drafts(parent_folder)

    def tag(self, run_token):
        """Label this channel's requests with the run (``GraphChannel``: in client-request-id); EWS requests
        carry no such label."""

    def read(self, ids, full=True):
        """Step 1 (``full``) or 4: the items' ChangeKey, IsDraft and send properties (+ times, folder, subject, To)."""
        fields = READ_FIELDS if full else ("item:IsDraft",)
        results = []
        for message in self._get.call(ids, field_uris=fields, extended_paths=STATE_PROPERTIES):
            if message.response_class != "Success":
                results.append(ReadResult(message.response_class, message.response_code, message.message_text))
                continue
            element = first_item(message)
            extended = extended_properties(element)
            results.append(ReadResult(
                "Success", message.response_code, change_key=item_id(element)[1],
                is_draft=bool_field(element, "IsDraft") is not False,
                marker=extended.get(properties.MARKER), state=extended.get(properties.STATE),
                last_modified=parse_datetime(element, "LastModifiedTime"),
                subject=element.findtext(T + "Subject"), to=split_display(element.findtext(T + "DisplayTo")),
                parent_folder=_parent_folder(element)))
        return results

    def in_own_drafts(self, parent_folder):
        """Whether ``parent_folder`` (a read's) is the connecting mailbox's Drafts, where no delegate quirk is
        possible (docs: The delegate quirks). Its FolderId is read once per connection, when first needed."""
        if parent_folder is None:
            return False
        if self._own_drafts is None:
            self._own_drafts = GetFolder(self.client).folder_id(folder_id("drafts"))
        return parent_folder == self._own_drafts

    def write_state(self, changes):
        """Step 2 and the releases: ``(id, change_key, marker or None, state)`` per item, each a compare-and-set
        on its ChangeKey (UpdateItem with NeverOverwrite)."""
        messages = self._update.set_extended_properties(
            [(identifier, change_key, ([(properties.MARKER_PATH, marker)] if marker else [])
              + [(properties.STATE_PATH, state)]) for identifier, change_key, marker, state in changes])
        return [_written(message) for message in messages]

    def send(self, refs):
        """Step 3: one SendItem of ``(id, change_key)`` pairs."""
        messages = self._send.call(refs, self.save_copy, self.saved_folder)
        return [WriteResult(m.response_class, m.response_code, m.message_text) for m in messages]

    def find_copies(self, markers):
        """Step 5: the messages carrying one of ``markers`` in the Outbox and the saved folder, in one FindItem.

        The Outbox first: a message moves Drafts -> Outbox -> saved folder, so searching in that order finds
        one that is filed from one into the other while the search runs.
        """
        marker = restrictions.extended_field_uri(properties.MARKER_PATH)
        found = self._find.find(
            parent_folders=[self.outbox, self.saved_folder],
            additional_properties=[marker, restrictions.extended_field_uri(properties.STATE_PATH),
                                   restrictions.field_uri("item:IsDraft"), restrictions.field_uri("item:Subject"),
                                   restrictions.field_uri("item:DisplayTo")],
            restriction=restrictions.or_(*[restrictions.is_equal_to(marker, value) for value in markers]))
        return [FoundCopy(in_outbox=copy.folder is self.outbox,
                          is_draft=(copy.fields.get("IsDraft") or "true").lower() != "false",
                          marker=copy.extended.get(properties.MARKER), state=copy.extended.get(properties.STATE),
                          subject=copy.fields.get("Subject"), to=split_display(copy.fields.get("DisplayTo")))
                for copy in found.items]


def _parent_folder(element):
    parent = element.find(T + "ParentFolderId")
    return parent.get("Id") if parent is not None else None


def _written(message):
    element = first_item(message) if message.response_class == "Success" else None
    change_key = item_id(element)[1] if element is not None else None
    return WriteResult(message.response_class, message.response_code, message.message_text, change_key)
