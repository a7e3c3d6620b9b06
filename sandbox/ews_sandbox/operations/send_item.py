"""SendItem: send drafts already in the store, one response message per ItemId, in order.

Sending submits: the draft moves to its mailbox's Outbox (a new ItemId; IsDraft false), and the
submitter (submission.py) delivers it and files the copy later, as Exchange's transport does.

A request holds the store's write transaction from reading its items to the last send, and
each item is sent in its own savepoint, so two concurrent requests for the same id can
never both send it, and an item's failure undoes only its own writes.

The seed's two delegate quirks are modelled when ``store.delegate_quirks`` is on:
1. a delegate sends a draft from the principal's Drafts saving to Sent Items
   without naming the principal's mailbox: sent, no copy saved, the draft stays;
2. a delegate sends a draft from their own Drafts saving to the principal's
   Sent Items: sent, no copy anywhere, the draft stays.
A draft left behind is no longer a draft (IsDraft false) and has a new ChangeKey; what is
sent is a copy that goes through the Outbox and is deleted once delivered.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from lxml import etree

from ..context import RequestContext
from ..errors import ItemError
from ..ids import decode_item_id
from ..mime import build_mime
from ..namespaces import qm, qt
from ..store import Folder, Item, extended_key, utc_now
from .lookup import saved_item_folder, ITEM_NOT_FOUND, prefetch_items, resolve_folder, take_item
from .properties import is_message, parse_bool
from .responses import OperationResponse

STALE = ("ErrorStaleObject", "The change key passed in the request does not match the current change key for the item.")
NOT_A_MESSAGE = ("ErrorInvalidItemForOperationSendItem", "The item type is not valid for the SendItem operation.")
NO_RECIPIENTS = ("ErrorInvalidRecipients", "At least one recipient isn't valid., A message can't be sent because it contains no recipients.")
SAVE_SETTINGS = ("ErrorInvalidSendItemSaveSettings", "SavedItemFolderId is not allowed when SaveItemToFolder is false.")
SEND_AS_DENIED = ("ErrorSendAsDenied", "The account that submitted this request may neither send as nor on behalf of "
                  "the mailbox in From.")
# Exchange documents no EWS code for this (MAPI answers MAPI_E_SUBMITTED): the sandbox refuses a second submission.
ALREADY_SUBMITTED = ("ErrorInvalidOperation", "The message has already been submitted for sending.")
MESSAGE_TOO_LARGE = ("ErrorMessageSizeExceeded", "The message exceeds the maximum supported size.")
# PidTagDeferredSendTime: the submitted message stays in the Outbox until then ([MS-OXOMSG] 2.2.3.4).
DEFERRED_SEND_TIME = extended_key(property_tag="0x3FEF")
# What the MIME of a message can add to its content: base64 (4/3 and line breaks) plus headers and part headers.
# Below this bound the message is surely within the send limit and is not built just to be measured.
MIME_GROWTH, MIME_HEADROOM_BYTES = 1.4, 64 * 1024


def _check_send_size(ctx: RequestContext, item: Item, changes: dict) -> None:
    """ErrorMessageSizeExceeded when ``item`` with the ``changes`` sending makes (sent_fields), as it would go out
    (MIME), is over the send limit (MaxSendSize). The changes touch no content: only a message near the limit is
    built, with them, to be measured."""
    limit = ctx.limits.max_send_bytes
    content = (len((item.fields["body"] or "").encode()) + len((item.fields["subject"] or "").encode())
               + sum(a.size for a in item.attachments))
    headroom = MIME_HEADROOM_BYTES + 1024 * (len(item.attachments) + len(item.recipients()))
    if content * MIME_GROWTH + headroom < limit:
        return
    sent = replace(item, fields={**item.fields, **changes})
    if len(build_mime(sent, ctx.store.attachments_with_content(sent))) > limit:
        raise ItemError(*MESSAGE_TOO_LARGE)


def _deferred_until(item: Item) -> float | None:
    """The epoch time in PidTagDeferredSendTime (stored in UTC form), if the message has one."""
    deferred = item.extended.get(DEFERRED_SEND_TIME)
    return datetime.fromisoformat(deferred[1].replace("Z", "+00:00")).timestamp() if deferred else None


def sent_fields(ctx: RequestContext, item: Item) -> dict:
    """What sending changes on the message: no longer a draft, sent now, From and Sender set.

    From is the message's own From, else the mailbox it is in. Sending as oneself or with the send_as right on
    From leaves no trace of who sent it (Sender = From); with the send right (send on behalf) Sender is the
    sending mailbox. Send As wins when a delegate has both, as in Exchange. Any other From: ErrorSendAsDenied.
    """
    from_mailbox = item.fields.get("from_mailbox") or {"name": item.mailbox, "email": item.mailbox}
    address = from_mailbox["email"].lower()
    if address == ctx.mailbox.lower():
        sender = from_mailbox
    else:
        rights = ctx.directory.rights_of(ctx.mailbox, on=address)
        if "send_as" in rights:
            sender = from_mailbox
        elif "send" in rights:
            sender = {"name": ctx.mailbox, "email": ctx.mailbox}
        else:
            raise ItemError(*SEND_AS_DENIED)
    return {"is_draft": False, "sent": utc_now(), "from_mailbox": from_mailbox, "sender_mailbox": sender}


def _left_behind_by_quirk(ctx: RequestContext, item: Item, folder_element, target: Folder) -> bool:
    """True when one of the seed's delegate quirks applies: Success, but no copy saved and the draft stays."""
    if not ctx.store.delegate_quirks:
        return False
    me = ctx.mailbox.lower()
    if item.mailbox != me:
        # Quirk 1: principal's draft, Sent Items named without the principal's mailbox (or not named at all).
        in_principal_drafts = item.folder_uuid == ctx.store.distinguished_folder(item.mailbox, "drafts")
        unqualified = folder_element is None or (
            folder_element.tag == qt("DistinguishedFolderId") and folder_element.get("Id") == "sentitems"
            and folder_element.find(qt("Mailbox")) is None)
        return in_principal_drafts and unqualified
    # Quirk 2: own draft, saved copy asked for in another mailbox.
    in_own_drafts = item.folder_uuid == ctx.store.distinguished_folder(me, "drafts")
    return in_own_drafts and target.mailbox != me


def send_stored(ctx: RequestContext, item: Item, save: bool, folder_element) -> None:
    """Submit a stored message: move it to its Outbox for the submitter, which later delivers it and files it in
    the saved folder or deletes it (a quirk leaves the draft behind and submits a copy).

    Runs inside the caller's transaction; raises ItemError for an Error response message.
    """
    if not is_message(item):
        raise ItemError(*NOT_A_MESSAGE)
    if item.submitted:
        raise ItemError(*ALREADY_SUBMITTED)
    if not item.recipients():
        raise ItemError(*NO_RECIPIENTS)
    store = ctx.store
    target = None
    if save:
        target = (resolve_folder(ctx, folder_element, "create") if folder_element is not None
                  else store.folder(store.distinguished_folder(ctx.mailbox, "sentitems")))
    changes = sent_fields(ctx, item)
    _check_send_size(ctx, item, changes)
    outbox = store.distinguished_folder(item.mailbox, "outbox")
    not_before = _deferred_until(item)
    if save and _left_behind_by_quirk(ctx, item, folder_element, target):
        store.update_item(item, changes)
        ctx.submitter.submit(store.copy_item(item, outbox), ctx.mailbox, None, not_before)
        return
    # The message itself moves, so its copy keeps every extended property.
    store.move_item(item, outbox, changes)
    ctx.submitter.submit(item, ctx.mailbox, target.uuid if save else None, not_before)


def send_one(ctx: RequestContext, item_id: etree._Element, save: bool, folder_element,
             prefetched: dict | None = None) -> None:
    """Send one draft atomically: its existence and ChangeKey are checked in the send's own transaction
    (a savepoint of the request's transaction; ``prefetched`` items were read inside that transaction)."""
    if not save and folder_element is not None:
        raise ItemError(*SAVE_SETTINGS)
    item_uuid = decode_item_id(item_id.get("Id")).uuid
    with ctx.store.item_transaction():
        item = take_item(ctx, item_uuid, prefetched)
        if item is None:
            raise ItemError(*ITEM_NOT_FOUND)
        ctx.check_access(item.mailbox, "send")
        # SendItem needs the current ChangeKey: a missing or empty one is stale too (ItemId reference).
        if item_id.get("ChangeKey") != item.change_key:
            raise ItemError(*STALE)
        send_stored(ctx, item, save, folder_element)


def handle(ctx: RequestContext, request: etree._Element) -> etree._Element:
    response = OperationResponse("SendItem")
    save = parse_bool(request.get("SaveItemToFolder"))
    folder_element = saved_item_folder(request)
    item_ids = [item_id for item_id in request.find(qm("ItemIds")) if isinstance(item_id.tag, str)]
    # One write transaction for the request, one savepoint per item (send_one).
    with ctx.store.request_transaction():
        prefetched = prefetch_items(ctx, item_ids)
        for item_id in response.each_item(ctx, item_ids):
            try:
                send_one(ctx, item_id, save, folder_element, prefetched)
            except ItemError as error:
                response.item_error(error)
            else:
                response.success()
    return response.element
