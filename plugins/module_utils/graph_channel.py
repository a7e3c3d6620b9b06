# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exactly-once protocol's requests over Microsoft Graph: one ``GraphChannel`` per ``GraphClient``.

The same interface and results as ``ews_channel.EwsChannel`` (``ReadResult``,
``WriteResult``, ``FoundCopy``), so ``exactly_once.ExactlyOnceSender`` runs
unchanged. Each step is one round of JSON batching for the whole batch
(``GraphClient.batch``: ``$batch`` requests of at most 20); the marker and the
send state are the same extended properties as on EWS, addressed by Graph's
ids (``String {guid} Name ExchangeEwsSendMarker``).

What Graph lacks, and how the channel stands in (docs/exactly-once.md, "Graph"):

* **A send that checks the ChangeKey.** ``POST .../send`` takes none, so
  ``send`` reads each draft's ``changeKey`` first and sends only those still
  at the stamp's (the others answer ``ErrorStaleObject``, as SendItem would);
  an edit between that read and the send goes unnoticed
  (``send_checks_key`` is False).
* **A compare-and-set write, unless If-Match is honoured.** Stamps carry
  ``If-Match`` with the ChangeKey (a 412 is ``ErrorIrresolvableConflict``).
  Whether Graph honours it is learned once per client, from a request that
  can write nothing (``_PROBE``: a stale If-Match on a change Graph refuses
  anyway, 412 when honoured, 400 when ignored) riding along the first read;
  until then, and when ignored, ``stamps_compare_and_set`` is False.
* **Delegate quirks** do not exist: Graph files the sent copy in the draft's
  own mailbox (``quirk_possible`` is False).
* ``save_copy: false`` sets PidTagDeleteAfterSubmit (MS-OXOMSG: the message is
  deleted once sent) with the stamp; the copy always goes to Sent Items otherwise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import quote

from ansible_collections.exchange.ews.plugins.module_utils import properties
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError, EwsFault, EwsResponseLost
from ansible_collections.exchange.ews.plugins.module_utils.ews_channel import (
    ClientChannel, FoundCopy, ReadResult, WriteResult,
)
from ansible_collections.exchange.ews.plugins.module_utils.graph_client import API, GraphRequest
from ansible_collections.exchange.ews.plugins.module_utils.responses import parse_datetime_text
from ansible_collections.exchange.ews.plugins.module_utils.validation import rest_form, validate_smtp_address

NOT_FOUND = "ErrorItemNotFound"
CONFLICT = "ErrorIrresolvableConflict"
STALE = "ErrorStaleObject"
LOST = "EwsResponseLost"
NOT_SENT = "EwsNotSent"
# PidTagDeleteAfterSubmit ([MS-OXOMSG] 2.2.3.8): Exchange deletes the message once it has sent it.
DELETE_AFTER_SUBMIT_ID = "Boolean 0x0E01"
READ_FIELDS = "isDraft,lastModifiedDateTime,subject,toRecipients,changeKey"
# Markers per search request: each is one clause of the $filter, and the URL stays short; and per $batch, whose
# searches of the Outbox then of Sent Items must fit in one (at most 20 requests).
MARKERS_PER_SEARCH = 10
MARKERS_PER_BATCH = 100
SEARCH_LIMIT = 1000
# A PATCH Graph refuses whatever happens (changeKey is read-only), with an If-Match no message has: 412 when
# Graph honours If-Match (it is checked first), 400 when it ignores it. Either way nothing is written.
_PROBE_ETAG = 'W/"exchange-ews-if-match-probe"'
_PROBE_BODY = {"changeKey": "exchange-ews-if-match-probe"}


def extended_id(path):
    """Graph's id of an extended property given as an EWS ExtendedFieldURI dict (``properties.path``)."""
    if "PropertyTag" in path:
        return "%s %s" % (path["PropertyType"], path["PropertyTag"])
    if "PropertySetId" in path:
        return "%s {%s} Name %s" % (path["PropertyType"], path["PropertySetId"], path["PropertyName"])
    # The distinguished property sets the collection uses, by their GUIDs ([MS-OXPROPS] 1.3.2).
    guid = {"InternetHeaders": "00020386-0000-0000-C000-000000000046"}[path["DistinguishedPropertySetId"]]
    return "%s {%s} Name %s" % (path["PropertyType"], guid, path["PropertyName"])


MARKER_ID = extended_id(properties.MARKER_PATH)
STATE_ID = extended_id(properties.STATE_PATH)


def expand(*property_ids):
    """The $expand that returns these single-value extended properties (the only way Graph reads them)."""
    return "singleValueExtendedProperties($filter=%s)" % " or ".join("id eq '%s'" % i for i in property_ids)


def extended_values(message):
    """``{property id: value}`` of a message's expanded single-value extended properties (ids compared as Graph
    writes them back, which may differ in case: keys are lower-cased)."""
    values = {}
    for entry in message.get("singleValueExtendedProperties") or ():
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            values[entry["id"].lower()] = entry.get("value")
    return values


def recipient_names(recipients):
    """A recipient list as EWS's DisplayTo shows it: names, or addresses for recipients without one."""
    names = []
    for recipient in recipients or ():
        address = recipient.get("emailAddress") if isinstance(recipient, dict) else None
        if isinstance(address, dict):
            name = address.get("name") or address.get("address")
            if name:
                names.append(str(name))
    return names


def user_path(mailbox):
    return "/users/" + quote(mailbox, safe="@")


def mailbox_for(client, mailbox=None):
    """The mailbox Graph requests address: the module's ``mailbox``, else the connection's ``impersonate``."""
    mailbox = mailbox or client.settings.impersonate
    if not mailbox:
        raise EwsConfigError("api=graph needs the mailbox to work on: set impersonate (EWS_IMPERSONATE), the "
                             "mailbox the app acts on, or the module's mailbox option; an app token has no mailbox "
                             "of its own")
    return validate_smtp_address(mailbox, "mailbox")


class GraphChannel(ClientChannel):
    """One Graph client, the mailbox whose drafts it sends, and whether a copy is kept (see module docstring).

    ``mailbox``: the module's ``mailbox`` option (None: the connection's ``impersonate``); ``saved_item_folder``
    must be Sent Items (Graph files the copy there).
    """

    send_checks_key = False

    def __init__(self, client, save_copy=True, saved_item_folder="sentitems", mailbox=None):
        if (saved_item_folder or "sentitems").lower() != "sentitems":
            raise EwsConfigError("saved_item_folder %s: Microsoft Graph files the sent copy in Sent Items, and only "
                                 "there (api=graph takes sentitems, or save_copy false)" % saved_item_folder)
        super(GraphChannel, self).__init__(client)
        self.save_copy = save_copy
        self.mailbox = mailbox_for(client, mailbox)
        self._user = user_path(self.mailbox)

    @property
    def stamps_compare_and_set(self):
        """True once Graph was seen to honour If-Match on messages (``GraphClient.if_match_honoured``)."""
        return bool(getattr(self.client, "if_match_honoured", None))

    def quirk_possible(self, _ref, _parent_folder):
        return False

    def tag(self, run_token):
        """client-request-id of every request starts with the run token (Graph's logs and the sandbox's)."""
        self.client.correlation = run_token[:16].ljust(16, "0")

    def _message(self, identifier):
        return "%s/messages/%s" % (self._user, quote(rest_form(identifier), safe="=-_"))

    # -- step 1 (and 4): read --------------------------------------------------------------------

    def read(self, ids, full=True):
        select = READ_FIELDS if full else "isDraft,changeKey"
        requests = [GraphRequest("GET", self._message(identifier),
                                 {"$select": select, "$expand": expand(MARKER_ID, STATE_ID)}) for identifier in ids]
        probing = getattr(self.client, "if_match_honoured", None) is None and bool(ids)
        if probing:
            requests.append(GraphRequest("PATCH", self._message(ids[0]), body=_PROBE_BODY,
                                         headers={"If-Match": _PROBE_ETAG}))
        answers = self.client.batch(requests, "GetMessage")
        if probing:
            probe = answers.pop()
            if probe.status == 412:
                self.client.if_match_honoured = True
            elif probe.status == 400:
                self.client.if_match_honoured = False
        return [self._read_result(answer) for answer in answers]

    @staticmethod
    def _read_result(answer):
        if not answer.ok:
            return ReadResult(*_failure(answer, "read"))
        message = answer.body if isinstance(answer.body, dict) else {}
        extended = extended_values(message)
        return ReadResult("Success", "NoError", change_key=message.get("changeKey"),
                          is_draft=message.get("isDraft") is not False, marker=extended.get(MARKER_ID.lower()),
                          state=extended.get(STATE_ID.lower()),
                          last_modified=parse_datetime_text(message.get("lastModifiedDateTime")),
                          subject=message.get("subject"), to=recipient_names(message.get("toRecipients")))

    # -- step 2 and the releases: write the send state ------------------------------------------------

    def write_state(self, changes):
        """``(id, change_key, marker or None, state)`` per item: a PATCH with If-Match on the ChangeKey (a
        compare-and-set where Graph honours it). The stamp (with the marker) also says whether to keep a copy."""
        requests = []
        for identifier, change_key, marker, state in changes:
            values = [{"id": STATE_ID, "value": state}]
            if marker:
                values += [{"id": MARKER_ID, "value": marker},
                           {"id": DELETE_AFTER_SUBMIT_ID, "value": "false" if self.save_copy else "true"}]
            requests.append(GraphRequest("PATCH", self._message(identifier), body={"singleValueExtendedProperties": values},
                                         headers={"If-Match": 'W/"%s"' % change_key}))
        return [self._written(answer) for answer in self.client.batch(requests, "UpdateMessage")]

    @staticmethod
    def _written(answer):
        if answer.ok:
            body = answer.body if isinstance(answer.body, dict) else {}
            return WriteResult("Success", "NoError", change_key=body.get("changeKey"))
        return WriteResult(*_failure(answer, "write"))

    # -- step 3: send ---------------------------------------------------------------------------

    def send(self, refs):
        """``(id, change_key)`` pairs: each draft's ChangeKey read first, then one send of those still at it.

        Graph's send takes no ChangeKey; the read stands in for SendItem's check, up to the send itself.
        """
        checks = self.client.batch([GraphRequest("GET", self._message(identifier), {"$select": "changeKey,isDraft"})
                                    for identifier, _change_key in refs], "GetMessage")
        results, to_send = [None] * len(refs), []
        for index, ((identifier, change_key), check) in enumerate(zip(refs, checks)):
            body = check.body if check.ok and isinstance(check.body, dict) else {}
            if not check.ok:
                response_class, code, text = _failure(check, "read")
                # Whatever the read met, nothing was sent: a lost read is "not sent" here, not a lost send.
                results[index] = WriteResult(response_class, NOT_SENT if code == LOST else code, text)
            elif body.get("changeKey") != change_key:
                results[index] = WriteResult("Error", STALE, "changed since this run's stamp (read just before the "
                                             "send, as Graph's send takes no ChangeKey); not sent")
            else:
                to_send.append(index)
        answers = self.client.batch([GraphRequest("POST", self._message(refs[index][0]) + "/send")
                                     for index in to_send], "SendMessage") if to_send else []
        for index, answer in zip(to_send, answers):
            results[index] = (WriteResult("Success", "NoError") if answer.ok
                              else WriteResult(*_failure(answer, "send")))
        return results

    # -- step 5: copies by marker -----------------------------------------------------------------

    def find_copies(self, markers):
        """The messages carrying one of ``markers`` in the Outbox, then in Sent Items: one ``$batch`` whose searches
        run in that order (``dependsOn``; a message only moves forward, so one filed from one into the other
        during the search is found), for each ``MARKERS_PER_BATCH`` markers."""
        found = []
        for first in range(0, len(markers), MARKERS_PER_BATCH):
            group = markers[first:first + MARKERS_PER_BATCH]
            requests, folders = [], []
            for folder in ("outbox", "sentitems"):
                for start in range(0, len(group), MARKERS_PER_SEARCH):
                    clauses = ["singleValueExtendedProperties/any(ep: ep/id eq '%s' and ep/value eq '%s')"
                               % (MARKER_ID, marker) for marker in group[start:start + MARKERS_PER_SEARCH]]
                    requests.append(GraphRequest("GET", "%s/mailFolders/%s/messages" % (self._user, folder), {
                        "$filter": " or ".join(clauses), "$select": "isDraft,subject,toRecipients",
                        "$expand": expand(MARKER_ID, STATE_ID), "$top": str(SEARCH_LIMIT)}))
                    folders.append(folder)
            answers = self.client.retry_policy.run(
                lambda: self.client.batch(requests, "ListMessages", sequential=True), "ListMessages")
            for folder, answer in zip(folders, answers):
                for message in self._listed(answer):
                    extended = extended_values(message)
                    found.append(FoundCopy(in_outbox=folder == "outbox", is_draft=message.get("isDraft") is not False,
                                           marker=extended.get(MARKER_ID.lower()),
                                           state=extended.get(STATE_ID.lower()), subject=message.get("subject"),
                                           to=recipient_names(message.get("toRecipients"))))
        return found

    def _listed(self, answer):
        """The messages of a search's answer; a search that failed fails the step (as FindItem's would)."""
        if not answer.ok:
            error = EwsResponseLost if answer.lost or answer.status is None or answer.status >= 500 else EwsFault
            raise error("the search by marker failed: %s" % (answer.message or answer.code), operation="ListMessages",
                        api=API, response_code=answer.code, http_status=answer.status)
        body = answer.body if isinstance(answer.body, dict) else {}
        if body.get("@odata.nextLink"):
            raise EwsResponseLost("more than %d messages carry these markers; the search cannot account for them"
                                  % SEARCH_LIMIT, operation="ListMessages", api=API)
        return [message for message in body.get("value") or () if isinstance(message, dict)]


def _failure(answer, what):
    """``(ResponseClass, ResponseCode, text)`` of an answer other than 2xx, in the protocol's terms."""
    if answer.status is None:
        # The batch carrying it failed: lost, or not processed (its code then says why).
        return "Error", LOST if answer.lost else answer.code, answer.message
    if answer.status == 412:
        return "Error", CONFLICT, answer.message or "the ChangeKey in If-Match is not the message's any more"
    if answer.status == 404:
        return "Error", answer.code or NOT_FOUND, answer.message
    if answer.throttled:
        return "Error", answer.code or ("TooManyRequests" if answer.status == 429 else "ServiceUnavailable"), \
            answer.message
    if answer.status >= 500 or not answer.code:
        # No proof it was not processed: a 500 (or a body that is not Graph's error) after the request reached Graph.
        return "Error", LOST, "HTTP %d to the %s: %s" % (answer.status, what, answer.message or "no Graph error")
    return "Error", answer.code, answer.message
