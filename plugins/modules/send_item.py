#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: send_item
short_description: Send Exchange drafts exactly once through EWS SendItem or Microsoft Graph
version_added: 0.1.0
description:
  - Sends existing drafts, given by their EWS ItemIds (or Microsoft Graph message ids), with the EWS
    C(SendItem) operation, or Microsoft Graph's C(send) action with O(api=graph).
  - Each draft is sent at most once, even when the task is re-run, runs twice at the same
    time, or a response is lost. Before sending, the module stamps the draft with a marker
    (extended properties), sends it with a compare-and-set on its ChangeKey, then verifies.
    Ids it cannot account for are reported as V(missing), never silently treated as sent.
    See the collection's C(docs/exactly-once.md).
  - The number of requests per batch does not depend on the batch size. On the happy path it is two
    (stamp, send) for the entries the P(exchange.ews.draft_ids#lookup) lookup returns, three for plain ids,
    and one more only where a delegate quirk is possible.
  - On Microsoft Graph each step is JSON batching (C($batch), up to 20 requests each), every batch is read
    first, and the send is preceded by a read of the drafts' ChangeKeys, as Graph's send takes none; what
    this changes is in the collection's C(docs/exactly-once.md), "Graph".
  - Every run ends by O(deadline).
author: Exchange EWS collection maintainers (@exchange-ews)
extends_documentation_fragment:
  - exchange.ews.connection
  - exchange.ews.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Reads the drafts and reports what would be sent; writes nothing.
  diff_mode:
    support: full
    details: Lists the drafts sent (or, in check mode, that would be sent), by subject and recipients, up to 50.
options:
  item_ids:
    description:
      - The drafts to send. Each entry is an ItemId string, or a dictionary with C(id) and
        optional C(change_key) (other keys are ignored, so the output of the
        P(exchange.ews.draft_ids#lookup) lookup can be passed unchanged).
      - With a C(change_key), a draft edited since that key was read is not sent
        (status V(failed), C(ErrorStaleObject)). The module's own stamps change the key too; it
        remembers the keys its stamps produced, so only someone else's change fails the draft.
      - Duplicates are sent once and reported at each position. The same id with two different
        change keys is an error.
    type: list
    elements: raw
    required: true
  save_copy:
    description:
      - Save a copy of each sent message (C(SaveItemToFolder)).
      - With V(false) no copy exists, so a send whose response was lost cannot be proven later
        (status V(failed), C(EwsResponseLost), "may have been sent"), and a re-run reports the
        ids it sent earlier as V(missing) (which then does not fail the task, see O(fail_on)).
    type: bool
    default: true
  saved_item_folder:
    description:
      - Where the copy is saved, and where the module looks (with the Outbox) for copies that prove
        an earlier send.
      - A distinguished folder name (V(sentitems), V(drafts), V(inbox)...) or a FolderId.
      - Microsoft Graph files the copy in Sent Items only (O(api=graph) takes V(sentitems)).
    type: str
    default: sentitems
  mailbox:
    description:
      - SMTP address of the mailbox the drafts belong to, as in the P(exchange.ews.draft_ids#lookup)
        lookup - the mailbox that owns O(saved_item_folder) when it is a distinguished name, and whose
        Outbox holds messages in flight.
      - Set it to the principal's address when sending, as a delegate, drafts that live in the
        principal's mailbox. Without it Exchange answers Success but leaves the draft behind
        and saves no copy (a documented SendItem behaviour); the module reports V(sent), warns,
        and never sends that draft again.
      - Defaults to the authenticated (or impersonated) user's own mailbox.
      - On Microsoft Graph (O(api=graph)) the mailbox whose drafts are sent (default O(impersonate)); Graph
        files the copy in that mailbox's Sent Items, so the delegate behaviour above does not arise.
    type: str
    aliases: [saved_item_folder_mailbox]
  batch_size:
    description:
      - Ids handled per request (1 to 1000).
      - 100 keeps each request well under Exchange's default limits (request size, the
        throttling budgets, the 1,000 items of a FindItem page) while making round trips per id
        negligible.
    type: int
    default: 100
  concurrency:
    description:
      - How many batches run at the same time, each over its own connection (1 to 16). Only
        sends of more than one batch use more than one connection.
      - Exchange allows each account a number of concurrent EWS requests (C(EWSMaxConcurrency),
        27 by default on premises and in Exchange Online); the default stays well inside it, next to
        the other clients of the same account. When Exchange throttles (C(ErrorServerBusy), HTTP 503)
        the module runs one batch fewer at a time, down to one.
      - V(1) uses a single connection, batch after batch.
      - Microsoft Graph (O(api=graph)) runs one batch at a time, as each step of a batch is already JSON
        batching, which Graph runs up to four requests at once, its limit per mailbox (more are answered
        429). Throttled requests are sent again after C(Retry-After).
    type: int
    default: 4
  fail_on:
    description:
      - Which statuses fail the task.
      - By default V(failed) and V(missing) (an id that neither exists nor has a submitted copy, such as
        a wrong id, a deleted draft, or a send by other means); with O(save_copy=false) only
        V(failed), since no copy can prove an earlier send.
      - V([]) never fails the task for an item's status (request-level failures still do), so
        that a later task can inspect RV(results).
    type: list
    elements: str
    choices: [failed, missing, already_sent]
  pending_timeout:
    description:
      - Seconds a draft claimed by another run is waited for before this run takes it over.
      - The claim's age is measured on the server's clock (the item's last modification time
        against the server's C(Date) header), or by how long this run has watched it unchanged,
        whichever is longer, so clock skew between job hosts cannot make a run wait forever.
      - Only decides how long to wait, never whether a draft is sent twice; any value, V(0)
        included, is safe with any number of concurrent runs.
    type: int
    default: 120
  reread_limit:
    description:
      - How often a draft goes back to the read step after a lost response, a C(Warning) (not
        processed) or an item-level C(ErrorServerBusy), before it is reported as V(failed).
      - Conflicts with other runs and edits are not counted; O(deadline) bounds them.
    type: int
    default: 5
  deadline:
    description:
      - Seconds the whole task may take. Every request, retry and wait ends by then.
      - What is still unsettled at the deadline is reported V(failed) with its last ResponseCode
        (C(EwsDeadlineExceeded) when there was none), and "may have been sent" where that is true.
    type: int
    default: 900
notes:
  - Targets need Python 3.9 or later with C(zeep) and, for O(auth=ntlm), C(requests-ntlm).
    The task usually runs on the controller (with C(delegate_to=localhost)) or in an execution environment.
    App credentials need C(msal).
  - A message is sent by Exchange, not by this module; C(changed) means at least one draft was
    sent by this run (in check mode, would be sent).
seealso:
  - plugin: exchange.ews.draft_ids
    plugin_type: lookup
  - name: SendItem operation
    description: Microsoft's reference of the EWS operation.
    link: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/senditem-operation
"""

EXAMPLES = r"""
# The connection is configured once, as in the collection's README: ews_* variables and module_defaults.
- name: Send every draft of the weekly report, found by the lookup
  exchange.ews.send_item:
    item_ids: "{{ query('exchange.ews.draft_ids', subject='Weekly report') }}"

- name: Send drafts by id, alone or with the ChangeKey they were read with (a draft edited since is not sent)
  exchange.ews.send_item:
    item_ids:
      - "{{ purchase_order.id }}"
      - id: "{{ reviewed_draft.id }}"
        change_key: "{{ reviewed_draft.change_key }}"
  register: sent

- name: Show what happened to each draft
  ansible.builtin.debug:
    msg: "{{ item.id | truncate(20) }}: {{ item.status }}"
  loop: "{{ sent.results }}"

- name: As a delegate, send drafts from the principal's Drafts and keep the copy in the principal's Sent Items
  exchange.ews.send_item:
    username: "{{ delegate_username }}"
    password: "{{ delegate_password }}"
    item_ids: "{{ query('exchange.ews.draft_ids', mailbox=principal_mailbox, subject='Invoice',
                        username=delegate_username, password=delegate_password) }}"
    saved_item_folder: sentitems
    mailbox: "{{ principal_mailbox }}"

- name: With impersonation (the account has the ApplicationImpersonation role), for the lookup too
  exchange.ews.send_item:
    impersonate: alice@example.com
    item_ids: "{{ query('exchange.ews.draft_ids', subject='Welcome', impersonate='alice@example.com') }}"

- name: Preview what would be sent; nothing is sent
  exchange.ews.send_item:
    item_ids: "{{ draft_ids }}"
  check_mode: true

- name: Send without keeping a copy; ids gone from an earlier run are reported missing, not failed
  exchange.ews.send_item:
    item_ids: "{{ draft_ids }}"
    save_copy: false

- name: Never fail on an item's status; a later task inspects the results
  exchange.ews.send_item:
    item_ids: "{{ draft_ids }}"
    fail_on: []
  register: outcome

- name: Report the drafts that were not sent
  ansible.builtin.debug:
    msg: "{{ outcome.results | selectattr('status', 'in', ['failed', 'missing']) | list }}"
"""

RETURN = r"""
msg:
  description: A one-line summary, for example C(sent 998, already sent 2 of 1,000).
  returned: always
  type: str
  sample: sent 998, already sent 2 of 1,000
results:
  description:
    - One entry per O(item_ids) entry, in the same order.
    - Not returned when the task fails (a failure prints RV(counts) and the first five
      RV(failures) instead of the whole list); use O(fail_on) to inspect every result in a later task.
  returned: when the task does not fail
  type: list
  elements: dict
  contains:
    id:
      description: The ItemId as given.
      type: str
      sample: AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=
    status:
      description:
        - V(sent) by this run; V(already_sent) earlier (a previous or concurrent run, or another
          client); V(would_send) in check mode; V(missing) neither present nor provably sent;
          V(failed) not sent by this run (see RV(results[].response_code); the message says when
          it may nevertheless have gone out).
      type: str
      choices: [sent, already_sent, would_send, missing, failed]
      sample: sent
    response_class:
      description: C(Success), C(Warning) or C(Error), from the deciding answer.
      type: str
      sample: Success
    response_code:
      description:
        - EWS ResponseCode, for example C(NoError), C(ErrorItemNotFound), C(ErrorStaleObject), or
          one of the collection's own codes (C(EwsNotADraft), C(EwsResponseLost),
          C(EwsClaimedByAnotherRun), C(EwsDeadlineExceeded)); the user guide lists them all.
      type: str
      sample: NoError
    message_text:
      description: Exchange's message or the module's explanation, when there is one.
      type: str
      sample: null
    subject:
      description: The subject, as read before sending (null when the item could not be read).
      type: str
      sample: Weekly report
    to:
      description: The To line as Exchange displays it, one entry per recipient.
      type: list
      elements: str
      sample: [Team Reports]
counts:
  description: Number of results per status (every status is present).
  returned: always
  type: dict
  sample: {sent: 2, already_sent: 1, would_send: 0, missing: 0, failed: 0}
failures:
  description: The first five results whose status fails the task (see O(fail_on)).
  returned: when the task fails because of item statuses
  type: list
  elements: dict
  sample:
    - id: AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAB=
      status: failed
      response_class: Error
      response_code: ErrorStaleObject
      message_text: edited since its change_key was read (current ChangeKey differs); not sent
      subject: Invoice 4711
      to: [Bob Smith]
response_code:
  description:
    - When the task fails, the ResponseCode of the request-level failure that stopped the run
      (for example C(EwsAuthError), C(ErrorImpersonateUserDenied)), else of the first failing item.
  returned: when the task fails
  type: str
  sample: EwsAuthError
run_id:
  description:
    - The token this run wrote into the send state (C(ExchangeEwsSendState)) of the drafts it claimed,
      to tell in a mailbox or an audit which run sent what.
  returned: always
  type: str
  sample: 3f9c2a7d41e04b6b
server_version:
  description: The ServerVersionInfo header of Exchange's last answer, when it sent one.
  returned: when the server answered
  type: dict
  sample: {MajorVersion: 15, MinorVersion: 2, MajorBuildNumber: 1544, MinorBuildNumber: 4, Version: V2017_07_11}
"""

import time

from ansible_collections.exchange.ews.plugins.module_utils.ews_module import EwsModule
from ansible_collections.exchange.ews.plugins.module_utils.transport import HAS_ZEEP
from ansible_collections.exchange.ews.plugins.module_utils.validation import validate_folder, validate_smtp_address

# How many failing results a failed task shows (the rest are counted in counts), and drafts a diff lists.
FAILURES_SHOWN = 5
DIFF_LINES = 50
MAX_BATCH_SIZE = 1000
# Batches in flight at once, each over its own connection: well inside Exchange's default EWS
# concurrency budget (EWSMaxConcurrency, 27 per user on premises and in Exchange Online).
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 16

if HAS_ZEEP:
    from ansible_collections.exchange.ews.plugins.module_utils.ews_channel import EwsChannel
    from ansible_collections.exchange.ews.plugins.module_utils.graph_channel import GraphChannel
    from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import (
        STATUSES,
        ExactlyOnceSender,
        ItemRef,
    )


def main():
    # The deadline counts from here: connecting and authenticating are part of the task's time.
    started = time.monotonic()
    argument_spec = dict(
        item_ids=dict(type="list", elements="raw", required=True),
        save_copy=dict(type="bool", default=True),
        saved_item_folder=dict(type="str", default="sentitems"),
        mailbox=dict(type="str", aliases=["saved_item_folder_mailbox"]),
        batch_size=dict(type="int", default=100),
        concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
        fail_on=dict(type="list", elements="str", choices=["failed", "missing", "already_sent"]),
        pending_timeout=dict(type="int", default=120),
        reread_limit=dict(type="int", default=5),
        deadline=dict(type="int", default=900),
    )
    module = EwsModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not 1 <= params["batch_size"] <= MAX_BATCH_SIZE:
        module.fail_json(msg="batch_size must be between 1 and %d (got %d)" % (MAX_BATCH_SIZE, params["batch_size"]))
    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        module.fail_json(msg="concurrency must be between 1 and %d (got %d)" % (MAX_CONCURRENCY, params["concurrency"]))
    for name in ("pending_timeout", "reread_limit"):
        if params[name] < 0:
            module.fail_json(msg="%s must not be negative (got %d)" % (name, params[name]))
    if params["deadline"] < 1:
        module.fail_json(msg="deadline must be at least 1 second (got %d)" % params["deadline"])
    fail_on = params["fail_on"]
    if fail_on is None:
        fail_on = ["failed", "missing"] if params["save_copy"] else ["failed"]

    with module.reporting_failures():
        validate_folder(params["saved_item_folder"], "saved_item_folder")
        if params["mailbox"]:
            validate_smtp_address(params["mailbox"], "mailbox")
        refs = [ItemRef.from_raw(entry, index) for index, entry in enumerate(params["item_ids"])]

        backend = GraphChannel if module.api == "graph" else EwsChannel
        # Graph: one batch at a time (a $batch already takes the mailbox's four concurrent requests).
        concurrency = 1 if module.api == "graph" else params["concurrency"]

        def channel(client):
            return backend(client, save_copy=params["save_copy"], saved_item_folder=params["saved_item_folder"],
                           mailbox=params["mailbox"])

        with module.client() as client:
            sender = ExactlyOnceSender(
                channel(client), batch_size=params["batch_size"], concurrency=concurrency,
                channel_factory=lambda: channel(module.client()), pending_timeout=params["pending_timeout"],
                reread_limit=params["reread_limit"], deadline=params["deadline"], started=started,
                check_mode=module.check_mode)
            results = sender.send(refs)
            server_version = client.server_version_info

    for warning in sender.warnings:
        module.warn(warning)
    outcome = summarize(results, fail_on, sender.request_error, sender.may_have_sent)
    outcome["run_id"] = sender.run_token
    if module._diff:
        outcome["diff"] = diff_of(results)
    if server_version:
        outcome["server_version"] = server_version
    if outcome.get("failed"):
        module.fail_json(**outcome)
    module.exit_json(**outcome)


def summarize(results, fail_on, request_error, may_have_sent):
    """The module's result: a one-line ``msg``, ``counts``, and ``results`` or, when it fails, a bounded summary."""
    counts = dict((status, 0) for status in STATUSES)
    for result in results:
        counts[result["status"]] += 1
    parts = ["%s %s" % (status.replace("_", " "), "{:,}".format(counts[status]))
             for status in STATUSES if counts[status]]
    summary = "%s of %s" % (", ".join(parts) or "nothing", "{:,}".format(len(results)))
    # In check mode, as Ansible expects, changed tells whether a real run would send anything.
    outcome = dict(changed=counts["sent"] + counts["would_send"] > 0 or may_have_sent, counts=counts)
    failing = [r for r in results if r["status"] in fail_on]
    if request_error is None and not failing:
        outcome.update(msg=summary, results=results)
        return outcome
    outcome["failed"] = True
    if request_error is not None:
        # Once, at the top: every unsettled item would repeat the same failure.
        outcome.update(msg="%s; settled before it: %s" % (request_error, summary),
                       response_code=request_error.response_code or type(request_error).__name__)
        if request_error.http_status:
            outcome["http_status"] = request_error.http_status
        return outcome
    outcome["failures"] = failing[:FAILURES_SHOWN]
    first = failing[0]
    outcome.update(msg="%s; %d failing, first: item %s (%r): %s %s: %s" % (
        summary, len(failing), first["id"], first["subject"], first["status"], first["response_code"],
        first["message_text"]), response_code=first["response_code"])
    return outcome


def diff_of(results):
    """What the task did (or would do) to the drafts, one line per draft it sent (or would send), bounded."""
    changed = [r for r in results if r["status"] in ("sent", "would_send")]
    lines = ["%s (to: %s)" % (r["subject"] if r["subject"] is not None else r["id"], ", ".join(r["to"] or []))
             for r in changed[:DIFF_LINES]]
    if len(changed) > DIFF_LINES:
        lines.append("... and %d more" % (len(changed) - DIFF_LINES))
    return dict(before_header="drafts", after_header="sent", before="".join("draft  %s\n" % line for line in lines),
                after="".join("sent   %s\n" % line for line in lines))


if __name__ == "__main__":
    main()
