"""The message endpoints of Graph v1.0 under ``/users/{id | userPrincipalName}``: routing, access checks and the
operations (list, get, create, update, delete, send), over the same store, Outbox and submitter as EWS."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qsl, unquote, urlencode

from ..context import RequestContext
from ..delivery import send_marker
from ..errors import ItemError
from ..operations.send_item import send_stored
from ..operations.update_item import CONFLICT
from ..store import DISTINGUISHED_FOLDERS, Item, extended_key
from . import messages
from .errors import GraphError, access_denied, bad_request, not_found
from .ids import decode_attachment, decode_folder, decode_message_id
from .odata import SEARCH_LIMIT, Query, parse_query

READ_WRITE, SEND = "Mail.ReadWrite", "Mail.Send"
# Graph's well-known folder names the store has (Graph has no "root"; its other names are not modelled).
WELL_KNOWN_FOLDERS = tuple(name for name in DISTINGUISHED_FOLDERS if name != "root")
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
SERVER_VERSION = "V2017_07_11"
# HTTP status of the Exchange errors a send can end with (any other: 400).
SEND_ERROR_STATUS = {"ErrorSendAsDenied": 403, "ErrorAccessDenied": 403, "ErrorNonExistentMailbox": 404}
NOT_A_DRAFT = ("ErrorInvalidOperation", "Only a draft can be sent; this message is not a draft.")
# PidTagDeleteAfterSubmit ([MS-OXOMSG] 2.2.3.8): set to true, the message is deleted once sent, no copy filed.
DELETE_AFTER_SUBMIT = extended_key(property_tag="0x0E01")


@dataclass
class GraphRequest:
    method: str
    path: str                # under /v1.0, e.g. /users/alice@sandbox.test/messages
    query: str
    headers: dict            # lower-case names
    body: object             # the parsed JSON body, or None


@dataclass
class GraphResponse:
    status: int
    body: dict | None = None
    headers: tuple = ()


@dataclass
class Route:
    operation: str           # the request log's and the fault registry's name: ListMessages, SendMessage...
    mailbox: str             # the user's SMTP address (lower case)
    role: str                # the application permission it needs
    run: Callable[["MailContext"], GraphResponse]
    items: int               # for the latency model and the request log: 1 for one message, 0 for a list


@dataclass
class MailContext:
    service: object          # server.GraphService
    app: object              # the SandboxApp: store, directory, delivery, submitter
    caller: object           # identity.Caller
    mailbox: str
    request: GraphRequest
    base: str                # https://<host>:<port>/v1.0

    @property
    def store(self):
        return self.app.store

    def ews_context(self) -> RequestContext:
        """The EWS operations' context for code shared with them (sending): acting as the mailbox's owner."""
        app = self.app
        return RequestContext(user=self.caller.app, mailbox=self.mailbox, directory=app.directory, store=app.store,
                              delivery=app.delivery, submitter=app.submitter, server_version=SERVER_VERSION)


def user_object_id(smtp: str) -> str:
    """A user's object id in the sandbox's directory: stable, derived from the SMTP address."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "sandbox-user:" + smtp.lower()))


def _user(directory, reference: str) -> str:
    user = directory.by_smtp(reference)
    if user is None:
        user = next((u for u in directory.users if user_object_id(u.smtp) == reference.lower()), None)
    if user is None:
        raise not_found("ErrorInvalidUser", f"The requested user '{reference}' is invalid.")
    return user.smtp.lower()


def route(request: GraphRequest, directory) -> Route:
    """The operation a request names; GraphError for paths and methods Graph does not serve."""
    segments = [unquote(segment) for segment in request.path.strip("/").split("/")]
    lowered = [segment.lower() for segment in segments]
    if lowered[0] == "me":
        raise bad_request("BadRequest", "/me request is only valid with delegated authentication flow.")
    if lowered[0] != "users" or len(segments) < 3:
        raise bad_request("BadRequest", f"Resource not found for the segment '{segments[min(1, len(segments) - 1)]}'.")
    mailbox = _user(directory, segments[1])
    rest, lowered_rest, folder = segments[2:], lowered[2:], None
    if lowered_rest[0] == "mailfolders" and len(rest) >= 3 and lowered_rest[2] == "messages":
        folder, rest, lowered_rest = rest[1], rest[2:], lowered_rest[2:]
    if lowered_rest[0] != "messages":
        raise bad_request("BadRequest", f"Resource not found for the segment '{rest[0]}'.")
    method = request.method
    if len(rest) == 1:
        if method == "GET":
            return Route("ListMessages", mailbox, READ_WRITE, lambda ctx: list_messages(ctx, folder), 0)
        if method == "POST":
            return Route("CreateMessage", mailbox, READ_WRITE, lambda ctx: create_message(ctx, folder or "drafts"), 1)
    elif len(rest) == 2:
        message = rest[1]
        operations = {"GET": ("GetMessage", get_message), "PATCH": ("UpdateMessage", update_message),
                      "DELETE": ("DeleteMessage", delete_message)}
        if method in operations:
            name, run = operations[method]
            return Route(name, mailbox, READ_WRITE, lambda ctx: run(ctx, message), 1)
    elif len(rest) == 3 and lowered_rest[2] == "send":
        if method == "POST":
            return Route("SendMessage", mailbox, SEND, lambda ctx: send_message(ctx, rest[1]), 1)
    elif len(rest) == 3 and lowered_rest[2] == "attachments":
        if method == "GET":
            return Route("ListAttachments", mailbox, READ_WRITE, lambda ctx: list_attachments(ctx, rest[1]), 0)
        if method == "POST":
            return Route("AddAttachment", mailbox, READ_WRITE, lambda ctx: add_attachment(ctx, rest[1]), 1)
    elif len(rest) == 4 and lowered_rest[2] == "attachments":
        if method == "DELETE":
            return Route("DeleteAttachment", mailbox, READ_WRITE,
                         lambda ctx: delete_attachment(ctx, rest[1], rest[3]), 1)
    else:
        raise bad_request("BadRequest", f"Resource not found for the segment '{rest[-1]}'.")
    raise GraphError(405, "BadRequest", f"The HTTP method '{method}' is not allowed for the resource.")


def authorize(caller, route_: Route) -> None:
    """The app needs the operation's permission, and, if it is scoped to some mailboxes, this one among them."""
    if route_.role not in caller.roles:
        raise access_denied()
    if not caller.app.may_reach(route_.mailbox):
        raise access_denied("Access to OData is disabled.")


# -- resolution ------------------------------------------------------------------------------------

def _folder_uuid(ctx: MailContext, reference: str) -> str:
    if reference.lower() in WELL_KNOWN_FOLDERS:
        return ctx.store.distinguished_folder(ctx.mailbox, reference.lower())
    store_id = decode_folder(reference)
    folder = ctx.store.folder(store_id.uuid)
    if store_id.mailbox != ctx.mailbox or folder is None or folder.mailbox != ctx.mailbox:
        raise not_found()
    return folder.uuid


def _item(ctx: MailContext, reference: str) -> Item:
    store_id = decode_message_id(reference)
    if store_id.mailbox != ctx.mailbox:
        raise bad_request("ErrorInvalidMailboxItemId", "Item Id doesn't belong to the current mailbox.")
    item = ctx.store.get_item(store_id.uuid)
    if item is None or item.mailbox != ctx.mailbox:
        raise not_found()
    return item


def _body_type(ctx: MailContext) -> tuple[str, tuple]:
    """The body format the Prefer header asks for ("html" by default), and the Preference-Applied header."""
    prefer = ctx.request.headers.get("prefer", "")
    if 'outlook.body-content-type="text"' in prefer.replace("'", '"').lower():
        return "text", (("Preference-Applied", 'outlook.body-content-type="text"'),)
    if 'outlook.body-content-type="html"' in prefer.replace("'", '"').lower():
        return "html", (("Preference-Applied", 'outlook.body-content-type="html"'),)
    return "html", ()


def _message_response(ctx: MailContext, status: int, item: Item, query: Query | None = None) -> GraphResponse:
    content_type, preference = _body_type(ctx)
    body = {"@odata.context": f"{ctx.base}/$metadata#users('{ctx.mailbox}')/messages/$entity"}
    body.update(messages.to_json(item, query.select if query else None, query.expand if query else (), content_type))
    return GraphResponse(status, body, (("ETag", messages.etag(item)),) + preference)


def _check_if_match(ctx: MailContext, item: Item) -> None:
    """If-Match on a message write, when the sandbox is set to honour it (see settings.GraphSettings.if_match)."""
    wanted = ctx.request.headers.get("if-match")
    if wanted is None or ctx.service.settings.if_match != "honoured":
        return
    if wanted.strip() != "*" and messages.etag(item) not in [tag.strip() for tag in wanted.split(",")]:
        raise GraphError(412, *CONFLICT)


# -- operations -------------------------------------------------------------------------------------

def list_messages(ctx: MailContext, folder: str | None) -> GraphResponse:
    query = parse_query(ctx.request.query, collection=True)
    if folder is None:       # the whole mailbox: every folder
        folders = [ctx.store.distinguished_folder(ctx.mailbox, name) for name in WELL_KNOWN_FOLDERS]
    else:
        folders = [_folder_uuid(ctx, folder)]
    if query.search is not None:
        total, items = _search(ctx, folders, query)
    else:
        total, items = ctx.store.find_items(folders, query.where, query.params, query.order_by, query.skip, query.top,
                                            load_extended=bool(query.expand))
    content_type, preference = _body_type(ctx)
    path = ctx.request.path.split("?")[0]
    body = {"@odata.context": f"{ctx.base}/$metadata#users('{ctx.mailbox}')/messages"}
    if query.count:
        body["@odata.count"] = total
    body["value"] = [messages.to_json(item, query.select, query.expand, content_type) for item in items]
    if query.skip + len(items) < total:
        paging = "$skiptoken" if query.search is not None else "$skip"
        next_query = [(n, v) for n, v in query.raw if n.lower() != "$skiptoken"] + [(paging, query.skip + len(items))]
        body["@odata.nextLink"] = f"{ctx.base}{path}?{urlencode(next_query)}"
    return GraphResponse(200, body, preference)


def _search(ctx: MailContext, folders: list[str], query: Query) -> tuple[int, list[Item]]:
    """$search: every term (ANDed) matches the start of a word of one of its properties (from, subject and body by
    default), case-insensitively; newest sent first; at most 1,000 results, paged with $skiptoken."""
    _, candidates = ctx.store.find_items(folders, order_by="COALESCE(items.sent, items.created) DESC, items.seq DESC",
                                         load_extended=bool(query.expand))
    matches = [item for item in candidates if all(_search_matches(item, prop, term) for prop, term in query.search)]
    matches = matches[:SEARCH_LIMIT]
    return len(matches), matches[query.skip:query.skip + query.top]


def _mailbox_text(*mailboxes) -> list[str]:
    return [f"{mailbox.get('name') or ''} {mailbox['email']}" for mailbox in mailboxes if mailbox]


def _search_matches(item: Item, prop: str | None, term: str) -> bool:
    """Whether a word of the property (an address counts as a word, whole or by its parts) starts with ``term``."""
    fields = item.fields
    sender = _mailbox_text(fields["from_mailbox"])
    recipients = {column: _mailbox_text(*fields[column]) for column in ("to_recipients", "cc_recipients",
                                                                        "bcc_recipients")}
    everyone = [text for texts in recipients.values() for text in texts]
    texts = {None: [fields["subject"] or "", fields["body"] or ""] + sender, "subject": [fields["subject"] or ""],
             "body": [fields["body"] or ""], "from": sender, "to": recipients["to_recipients"],
             "cc": recipients["cc_recipients"], "bcc": recipients["bcc_recipients"], "recipients": everyone,
             "participants": sender + everyone}[prop]
    words = [word for text in texts for word in re.split(r"[\s@.<>,;]+", text.lower()) + text.lower().split()]
    return any(word.startswith(term) for word in words if word)


def get_message(ctx: MailContext, reference: str) -> GraphResponse:
    query = parse_query(ctx.request.query, collection=False)
    return _message_response(ctx, 200, _item(ctx, reference), query)


def create_message(ctx: MailContext, folder: str) -> GraphResponse:
    """201, the draft; file attachments may come inline (``attachments``), each under 3 MB."""
    fields, extended, attachments = messages.parse_message(ctx.request.body, creating=True)
    item = ctx.store.create_item(_folder_uuid(ctx, folder), dict(fields, is_draft=True), extended, attachments)
    return _message_response(ctx, 201, item)


def update_message(ctx: MailContext, reference: str) -> GraphResponse:
    with ctx.store.transaction():       # the If-Match check and the write are one step
        item = _item(ctx, reference)
        _check_if_match(ctx, item)
        fields, extended, _attachments = messages.parse_message(ctx.request.body, is_draft=item.fields["is_draft"])
        item = ctx.store.update_item(item, fields, extended)
    return _message_response(ctx, 200, item)


def delete_message(ctx: MailContext, reference: str) -> GraphResponse:
    """Into Deleted Items (a new id), or gone when already there; deleting a message in the Outbox withdraws it."""
    store = ctx.store
    with store.transaction():
        item = _item(ctx, reference)
        _check_if_match(ctx, item)
        deleted_items = store.distinguished_folder(ctx.mailbox, "deleteditems")
        if item.folder_uuid == deleted_items:
            store.delete_item(item)
        else:
            store.move_item(item, deleted_items)
    return GraphResponse(204)


def send_message(ctx: MailContext, reference: str) -> GraphResponse:
    """202: the draft is submitted (to the Outbox, a new id); the submitter delivers it and files it in Sent Items
    later, exactly as for EWS, or deletes it when PidTagDeleteAfterSubmit is true."""
    if ctx.request.body not in (None, {}):
        raise bad_request("RequestBodyRead", "The send action takes no request body.")
    store = ctx.store
    with store.transaction():
        item = _item(ctx, reference)
        if not item.fields["is_draft"]:
            raise bad_request(*NOT_A_DRAFT)
        deleted_after = item.extended.get(DELETE_AFTER_SUBMIT)
        try:
            send_stored(ctx.ews_context(), item, not (deleted_after and deleted_after[1].lower() in ("true", "1")),
                        None)
        except ItemError as error:
            raise GraphError(SEND_ERROR_STATUS.get(error.code, 400), error.code, error.message) from None
    ctx.service.sends.record(send_marker(item), ctx.request.headers.get("client-request-id"))
    return GraphResponse(202)


# -- attachments (file attachments under 3 MB: add-attachment, list-attachments, attachment-delete) ------------

def list_attachments(ctx: MailContext, reference: str) -> GraphResponse:
    """200, the message's file attachments (``$select`` names the properties: without it, contentBytes too)."""
    item = _item(ctx, reference)
    select = _select_attachment(ctx.request.query)
    attachments = ctx.store.attachments_with_content(item) if select is None or "contentBytes" in select \
        else item.attachments
    body = {"@odata.context": f"{ctx.base}/$metadata#users('{ctx.mailbox}')/messages('{reference}')/attachments",
            "value": [messages.attachment_json(item, attachment, select) for attachment in attachments]}
    return GraphResponse(200, body)


def _select_attachment(query: str) -> tuple[str, ...] | None:
    """The attachment properties ``$select`` names (None without it); another query option is refused."""
    options = {name.lower(): value for name, value in parse_qsl(query, keep_blank_values=True) if name.startswith("$")}
    if set(options) - {"$select"}:
        raise bad_request("BadRequest", f"The query parameter '{sorted(set(options) - {'$select'})[0]}' is not "
                          "supported.")
    if "$select" not in options:
        return None
    names = tuple(name.strip() for name in options["$select"].split(",") if name.strip())
    unknown = [name for name in names if name not in messages.ATTACHMENT_PROPERTIES]
    if unknown:
        raise bad_request("RequestBroker--ParseUri", f"Could not find a property named '{unknown[0]}' on type "
                          "'microsoft.graph.attachment'.")
    return names


def add_attachment(ctx: MailContext, reference: str) -> GraphResponse:
    """201, the attachment; the message gets a new ChangeKey. Only while it is a draft."""
    store = ctx.store
    with store.transaction():
        item = _item(ctx, reference)
        if not item.fields["is_draft"]:
            raise bad_request(*messages.NOT_DRAFT)
        [attachment] = store.add_attachments(item, [messages.parse_attachment(ctx.request.body)])
    return GraphResponse(201, dict({"@odata.context": f"{ctx.base}/$metadata#users('{ctx.mailbox}')/messages"
                                                     f"('{reference}')/attachments/$entity"},
                                   **messages.attachment_json(item, attachment, messages.ATTACHMENT_PROPERTIES[:-1])))


def delete_attachment(ctx: MailContext, reference: str, attachment_reference: str) -> GraphResponse:
    """204; the message gets a new ChangeKey. An attachment of another message, or gone, is 404."""
    store = ctx.store
    with store.transaction():
        item = _item(ctx, reference)
        owner, attachment_uuid = decode_attachment(attachment_reference)
        if owner.uuid != item.uuid or not any(a.uuid == attachment_uuid for a in item.attachments):
            raise not_found()
        if not item.fields["is_draft"]:
            raise bad_request(*messages.NOT_DRAFT)
        store.delete_attachment(item, attachment_uuid)
    return GraphResponse(204)
