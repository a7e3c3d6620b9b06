# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyed messages over Microsoft Graph: the requests of ``messages.KeyedMessage`` (``GraphMessages``).

The same steps as ``ews_messages.EwsMessages``, in Graph's terms:

* the search by key is one ``$batch`` of three lists (Drafts, Outbox, Sent
  Items) run in that order (``dependsOn``: a message only moves forward), each
  filtered on the key's extended property;
* a message is read with its extended properties expanded, and its
  attachments listed, in one ``$batch``;
* it is created with ``POST .../mailFolders/drafts/messages`` (attachments in
  it when they fit), changed with ``PATCH`` and ``If-Match`` (a compare-and-set
  where Graph honours it), its attachments added (under 3 MB each: larger
  files need an upload session, which the collection does not do) and deleted
  one request each, and deleted with ``DELETE`` (into Deleted Items: Graph's
  v1.0 delete is not a hard delete);
* Graph cannot remove a single-value extended property, only overwrite it: a
  deferred send time no longer wanted becomes ``NO_DEFERRED`` (long past: sent
  at once, read back as none), an extra header no longer wanted an empty value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

from ansible_collections.exchange.ews.plugins.module_utils import message_decisions as decisions
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsFault, EwsResponseLost
from ansible_collections.exchange.ews.plugins.module_utils.graph_channel import (
    GraphChannel,
    expand,
    extended_id,
    extended_values,
    mailbox_for,
    user_path,
)
from ansible_collections.exchange.ews.plugins.module_utils.graph_client import API, GraphRequest
from ansible_collections.exchange.ews.plugins.module_utils.messages import (
    ATTACHMENTS_PATH,
    BODY_DIGEST_PATH,
    DEFERRED_SEND_TIME_PATH,
    HEADERS_PATH,
    KEY_PATH,
    MIB,
    NOT_FOUND,
    SEARCH_LIMIT,
    SENSITIVITIES,
    Current,
    MessageError,
    header_path,
    utc_text,
)
from ansible_collections.exchange.ews.plugins.module_utils.responses import parse_datetime_text
from ansible_collections.exchange.ews.plugins.module_utils.validation import rest_form

KEY_ID = extended_id(KEY_PATH)
BODY_DIGEST_ID = extended_id(BODY_DIGEST_PATH)
ATTACHMENTS_ID = extended_id(ATTACHMENTS_PATH)
HEADERS_ID = extended_id(HEADERS_PATH)
DEFERRED_ID = extended_id(DEFERRED_SEND_TIME_PATH)
# PidTagSensitivity: v1.0's message names no sensitivity; it is this property (0 normal ... 3 confidential).
SENSITIVITY_ID = "Integer 0x0036"
# A deferred send time long past: the message goes at once; read back as no deferred time.
NO_DEFERRED = "1970-01-01T00:00:00Z"
# The recipient options (messages.RECIPIENT_FIELDS) and Graph's names for them.
GRAPH_OPTIONS = {"to": "toRecipients", "cc": "ccRecipients", "bcc": "bccRecipients", "reply_to": "replyTo"}
SEARCH_SELECT = "isDraft,createdDateTime,sentDateTime,subject,internetMessageId,changeKey"
READ_SELECT = ("subject,importance,categories,sentDateTime,toRecipients,ccRecipients,bccRecipients,replyTo,from,"
               "isReadReceiptRequested,isDeliveryReceiptRequested,internetMessageId,changeKey")
READ_EXPAND = expand(BODY_DIGEST_ID, ATTACHMENTS_ID, HEADERS_ID, DEFERRED_ID, SENSITIVITY_ID)
FILE_ATTACHMENT = "#microsoft.graph.fileAttachment"


class GraphMessages:
    """The Graph requests of keyed messages in ``mailbox`` (None: the connection's ``impersonate``)."""

    # A request of Graph carries at most 4 MB; a file attachment in one request is under 3 MB.
    max_request_bytes = 4 * MIB
    max_attachment_bytes = 3 * MIB - 1
    # How a failed send is named in errors.
    api = API
    send_operation = "SendMessage"

    def __init__(self, client, mailbox=None):
        self.client = client
        self.mailbox = mailbox_for(client, mailbox)
        self._user = user_path(self.mailbox)

    @property
    def server_time(self):
        return self.client.server_time

    def channel(self):
        return GraphChannel(self.client, save_copy=True, mailbox=self.mailbox)

    def _message(self, identifier):
        return "%s/messages/%s" % (self._user, rest_form(identifier))

    # -- reading ------------------------------------------------------------------------------------

    def search(self, key):
        """What carries ``key`` in Drafts, Outbox and Sent Items, searched in that order in one ``$batch``."""
        condition = "singleValueExtendedProperties/any(ep: ep/id eq '%s' and ep/value eq '%s')" % (
            KEY_ID, key.replace("'", "''"))
        requests = [GraphRequest("GET", "%s/mailFolders/%s/messages" % (self._user, folder), {
            "$filter": condition, "$select": SEARCH_SELECT, "$top": str(SEARCH_LIMIT)})
            for folder in decisions.SEARCH_ORDER]
        answers = self.client.retry_policy.run(lambda: self.client.batch(requests, "ListMessages", sequential=True),
                                               "ListMessages")
        found = []
        for folder, answer in zip(decisions.SEARCH_ORDER, answers):
            body = _ok(answer, "the search by key")
            if body.get("@odata.nextLink"):
                # Graph may page before $top; a search that cannot see every carrier of the key must not elect one.
                raise MessageError("the search for key %r in %s answered %d messages and a next page (more than %d "
                                   "carry the key, or Graph paged early); the module elects a draft only from a "
                                   "complete answer" % (key, folder, len(body.get("value") or ()), SEARCH_LIMIT),
                                   operation="ListMessages", response_code="EwsAmbiguousKey", api=API)
            for message in body.get("value") or ():
                created = parse_datetime_text(message.get("createdDateTime"))
                if created is None:
                    raise MessageError("Graph returned no createdDateTime for message %s; the module orders drafts "
                                       "by it" % message.get("id"), operation="ListMessages",
                                       response_code="EwsNoCreationTime", api=API)
                found.append(decisions.Found(folder, message.get("isDraft") is not False, created, message.get("id"),
                                             message.get("changeKey"), {
                                                 "InternetMessageId": message.get("internetMessageId"),
                                                 "DateTimeSent": message.get("sentDateTime"),
                                                 "Subject": message.get("subject")}))
        return found

    def read(self, identifier, body=False, text_body=False):
        """The message ``identifier`` as ``Current`` (its body too when ``body``), or None when it is gone."""
        headers = {"Prefer": 'outlook.body-content-type="text"'} if body and text_body else {}
        message_answer, attachments_answer = self.client.batch([
            GraphRequest("GET", self._message(identifier), {"$select": READ_SELECT + (",body" if body else ""),
                                                            "$expand": READ_EXPAND}, headers=headers),
            GraphRequest("GET", self._message(identifier) + "/attachments",
                         {"$select": "name,contentType,size,contentId"})], "GetMessage")
        if message_answer.status == 404 or attachments_answer.status == 404:
            return None
        message = _ok(message_answer, "the message could not be read", identifier)
        listed = _ok(attachments_answer, "its attachments could not be listed", identifier).get("value") or ()
        extended = extended_values(message)
        deferred = extended.get(DEFERRED_ID.lower())
        sensitivity = extended.get(SENSITIVITY_ID.lower())
        content = message.get("body") if isinstance(message.get("body"), dict) else {}
        return Current(message.get("id"), message.get("changeKey"), dict(
            subject=message.get("subject"),
            body=content.get("content") if body else None,
            body_type={"html": "HTML", "text": "Text"}.get(str(content.get("contentType", "")).lower()),
            body_digest=extended.get(BODY_DIGEST_ID.lower()),
            attachments_record=extended.get(ATTACHMENTS_ID.lower()),
            headers_record=extended.get(HEADERS_ID.lower()),
            deferred=parse_datetime_text(deferred) if deferred and deferred != NO_DEFERRED else None,
            sender=_address(message.get("from")),
            importance=message.get("importance"),
            sensitivity=SENSITIVITIES[int(sensitivity)] if sensitivity in ("0", "1", "2", "3") else None,
            categories=message.get("categories") or [],
            read_receipt=message.get("isReadReceiptRequested") is True,
            delivery_receipt=message.get("isDeliveryReceiptRequested") is True,
            recipients=dict((option, [_address(r) for r in message.get(name) or ()])
                            for option, name in GRAPH_OPTIONS.items()),
            attachments=[(a.get("id"), a.get("name") or "", a.get("contentType"), a.get("size"), a.get("contentId"))
                         for a in listed if isinstance(a, dict)],
            internet_message_id=message.get("internetMessageId"),
            sent=parse_datetime_text(message.get("sentDateTime"))))

    def created(self, identifier):
        """The message's createdDateTime, or None when it is gone."""
        try:
            answer = self.client.call("GET", self._message(identifier), "GetMessage",
                                      params={"$select": "createdDateTime"})
        except EwsFault as error:
            if error.response_code == NOT_FOUND:
                return None
            raise
        created = parse_datetime_text((answer.body or {}).get("createdDateTime"))
        if created is None:
            raise MessageError("Graph's answer carries no createdDateTime for draft %s: the module needs it to order "
                               "concurrent runs" % identifier, response_code="EwsNoServerClock", api=API)
        return created

    # -- writing --------------------------------------------------------------------------------------

    def create(self, spec, with_attachments):
        """A new draft in Drafts with ``spec``'s content (its attachments too when ``with_attachments``, else an
        empty record of them); ``(id, change_key)``."""
        body, extended = _content(spec, spec.given(), new=True)
        extended.append(_property(KEY_ID, spec.key))
        if spec.attachments is not None:
            extended.append(_property(ATTACHMENTS_ID, json.dumps(spec.manifest() if with_attachments else {},
                                                                 sort_keys=True)))
            if with_attachments and spec.attachments:
                body["attachments"] = [_attachment(a) for a in spec.attachments]
        body["singleValueExtendedProperties"] = extended
        answer = self.client.call("POST", "%s/mailFolders/drafts/messages" % self._user, "CreateMessage", body=body)
        return answer.body.get("id"), answer.body.get("changeKey")

    def write(self, identifier, change_key, spec, names, removed_headers=(), record=None):
        """One PATCH (``If-Match`` on ``change_key``) bringing the options ``names`` to ``spec``'s content, emptying
        ``removed_headers`` and writing the attachments ``record`` when given; ``(id, change_key)``."""
        body, extended = _content(spec, names, new=False)
        extended.extend(_property(extended_id(header_path(name)), "") for name in removed_headers)
        if record is not None:
            extended.append(_property(ATTACHMENTS_ID, json.dumps(record, sort_keys=True)))
        if extended:
            body["singleValueExtendedProperties"] = extended
        answer = self.client.call("PATCH", self._message(identifier), "UpdateMessage", body=body,
                                  headers={"If-Match": 'W/"%s"' % change_key})
        return answer.body.get("id"), answer.body.get("changeKey")

    def add_attachments(self, identifier, _change_key, attachments):
        """One request per attachment (Graph takes one at a time), in one ``$batch``; the message's ChangeKey
        after them. Not a compare-and-set: Graph's add-attachment takes no If-Match."""
        path = self._message(identifier) + "/attachments"
        for answer in self.client.batch([GraphRequest("POST", path, body=_attachment(a)) for a in attachments],
                                        "AddAttachment", sequential=True):
            _ok(answer, "an attachment was not added", identifier)
        return self._change_key(identifier)

    def delete_attachments(self, identifier, _change_key, attachment_ids):
        """DELETE each attachment (those already gone are fine); the message's ChangeKey after them."""
        path = self._message(identifier) + "/attachments/"
        for answer in self.client.batch([GraphRequest("DELETE", path + attachment_id)
                                         for attachment_id in attachment_ids], "DeleteAttachment", sequential=True):
            if answer.status != 404:
                _ok(answer, "an attachment was not deleted", identifier)
        return self._change_key(identifier)

    def delete(self, identifier, change_key, hard=False):
        """DELETE the message (into Deleted Items; ``hard`` makes no difference on Graph v1.0), with If-Match on
        ``change_key``; False when it was already gone."""
        try:
            self.client.call("DELETE", self._message(identifier), "DeleteMessage",
                             headers={"If-Match": 'W/"%s"' % change_key})
        except EwsFault as error:
            if error.response_code == NOT_FOUND:
                return False
            raise
        return True

    def _change_key(self, identifier):
        answer = self.client.call("GET", self._message(identifier), "GetMessage", params={"$select": "changeKey"})
        return answer.body.get("changeKey")


def _ok(answer, what, identifier=None):
    """The JSON of a 2xx answer from a ``$batch``; otherwise the error it proves."""
    if answer.ok:
        return answer.body if isinstance(answer.body, dict) else {}
    lost = answer.lost or answer.status is None or answer.status >= 500 or not answer.code
    error = EwsResponseLost if lost else EwsFault
    raise error("%s: %s" % (what, answer.message or answer.code or "HTTP %s" % answer.status), api=API,
                response_code=answer.code if not lost else None, http_status=answer.status, item_id=identifier)


def _address(recipient):
    address = recipient.get("emailAddress") if isinstance(recipient, dict) else None
    return (address or {}).get("address") or ""


def _recipients(addresses):
    return [{"emailAddress": {"address": address}} for address in addresses or ()]


def _property(property_id, value):
    return {"id": property_id, "value": value}


def _attachment(attachment):
    entry = {"@odata.type": FILE_ATTACHMENT, "name": attachment.name, "contentType": attachment.content_type,
             "contentBytes": base64.b64encode(attachment.content).decode("ascii"),
             "isInline": attachment.content_id is not None}
    if attachment.content_id:
        entry["contentId"] = attachment.content_id
    return entry


def _content(spec, names, new):
    """``(message properties, extended properties)`` that bring a message to ``spec``'s content for the options in
    ``names``, attachments aside. ``new``: a message being created (nothing to clear)."""
    params = spec.params
    body, extended = {}, []
    for name in [name for name in names if name in spec.values and name != "attachments"]:
        if name == "subject":
            body["subject"] = params["subject"]
        elif name == "body":
            body["body"] = {"contentType": params["body_type"], "content": params["body"]}
            extended.append(_property(BODY_DIGEST_ID, spec.values["body"]))
        elif name in GRAPH_OPTIONS:
            if params[name] or not new:
                body[GRAPH_OPTIONS[name]] = _recipients(params[name])
        elif name == "from":
            body["from"] = {"emailAddress": {"address": spec.sender()}}
        elif name == "importance":
            body["importance"] = params["importance"]
        elif name == "sensitivity":
            extended.append(_property(SENSITIVITY_ID, str(SENSITIVITIES.index(params["sensitivity"]))))
        elif name == "categories":
            body["categories"] = list(params["categories"] or ())
        elif name in ("read_receipt", "delivery_receipt"):
            body["isReadReceiptRequested" if name == "read_receipt" else "isDeliveryReceiptRequested"] = params[name]
        elif name == "deliver_at":
            if spec.deliver_at or not new:
                extended.append(_property(DEFERRED_ID, utc_text(spec.deliver_at) if spec.deliver_at else NO_DEFERRED))
        elif name == "headers":
            extended.extend(_property(extended_id(header_path(header)), value)
                            for header, value in sorted(spec.headers.items()))
            extended.append(_property(HEADERS_ID, json.dumps(spec.headers, sort_keys=True)))
    return body, extended
