#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: send_item
short_description: Send Exchange drafts exactly once through EWS SendItem
version_added: 0.1.0
description:
  - Sends existing drafts, given by their EWS ItemIds, with the EWS C(SendItem) operation.
  - Each draft is sent at most once, even when the task is re-run, runs twice at the same
    time, or a response is lost. Before sending, the module stamps the draft with a marker
    (extended properties), sends it with a compare-and-set on its ChangeKey, then verifies.
    Ids it cannot account for are reported as V(missing), never silently treated as sent.
    See the collection's C(docs/exactly-once.md).
  - The number of requests per batch does not depend on the batch size (four on the happy path).
author: exchange.ews contributors (!UNKNOWN)
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
    support: none
options:
  item_ids:
    description:
      - The drafts to send. Each entry is an ItemId string, or a dictionary with C(id) and
        optional C(change_key) (other keys are ignored, so the output of the
        P(exchange.ews.draft_ids#lookup) lookup can be passed unchanged).
      - With a C(change_key), a draft edited since that key was read is not sent
        (status V(failed), C(ErrorStaleObject)).
      - Duplicates are sent once and reported at each position.
    type: list
    elements: raw
    required: true
  save_copy:
    description:
      - Save a copy of each sent message (C(SaveItemToFolder)).
      - With V(false) no copy exists, so an id whose send response was lost cannot be proven
        sent later; combine with O(missing=ok).
    type: bool
    default: true
  saved_item_folder:
    description:
      - Where the copy is saved, and where the module looks for copies that prove an earlier send.
      - A distinguished folder name (V(sentitems), V(drafts), V(inbox)...) or a FolderId.
    type: str
    default: sentitems
  saved_item_folder_mailbox:
    description:
      - SMTP address of the mailbox that owns O(saved_item_folder) when it is a distinguished name.
      - Set it to the principal's address when sending, as a delegate, drafts that live in the
        principal's mailbox. Without it Exchange answers Success but leaves the draft behind
        and saves no copy (a documented SendItem behaviour), and the module then stamps the draft
        as sent, never sends it again, and warns.
    type: str
  batch_size:
    description:
      - Ids handled per request.
      - 100 keeps each request well under Exchange's default limits (request size, the
        C(EWSMaxBatchSize)-style throttling budgets and the 250 items per FindItem page the
        protocol uses) while making round trips per id negligible.
    type: int
    default: 100
  missing:
    description:
      - What to do with an id that neither exists nor has a saved copy carrying its marker.
      - V(fail) fails the task (it could be a wrong id, a deleted draft or a send by other means).
      - V(ok) reports it as V(missing) without failing; use it with O(save_copy=false).
    type: str
    choices: [fail, ok]
    default: fail
  pending_timeout:
    description:
      - Seconds a draft claimed by another run (C(pending) stamp) is waited for before this run
        takes it over. The claim is only for reporting; two runs can never both send a draft,
        because the ChangeKey check makes the slower send fail.
    type: int
    default: 120
  conflict_retries:
    description:
      - How often a draft goes back to the read step after a conflict (C(ErrorIrresolvableConflict),
        C(ErrorStaleObject)) or a lost send response before it is reported as V(failed).
    type: int
    default: 3
notes:
  - Targets need Python 3.9 or later with C(zeep) and, for O(auth=ntlm), C(requests-ntlm).
    The task usually runs on the controller (with C(delegate_to=localhost)) or in an execution environment.
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
- name: Send every draft of the weekly report, found by the lookup
  exchange.ews.send_item:
    url: https://mail.example.com/EWS/Exchange.asmx
    username: EXAMPLE\svc-reports
    password: "{{ vault_ews_password }}"
    item_ids: "{{ query('exchange.ews.draft_ids', subject='Weekly report') }}"

- name: Connection options once for the whole play
  module_defaults:
    group/exchange.ews.ews:
      url: https://mail.example.com/EWS/Exchange.asmx
      username: EXAMPLE\svc-reports
      password: "{{ vault_ews_password }}"
  block:
    - name: Send two drafts by id
      exchange.ews.send_item:
        item_ids:
          - AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=
          - id: AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAB=
            change_key: CQAAABYAAAB4
      register: sent

    - name: Show what happened to each draft
      ansible.builtin.debug:
        msg: "{{ item.id | truncate(20) }}: {{ item.status }}"
      loop: "{{ sent.results }}"

- name: As a delegate (bob), send drafts from alice's Drafts and keep the copy in alice's Sent Items
  exchange.ews.send_item:
    username: EXAMPLE\bob
    password: "{{ vault_bob_password }}"
    item_ids: "{{ query('exchange.ews.draft_ids', mailbox='alice@example.com', subject='Invoice') }}"
    saved_item_folder: sentitems
    saved_item_folder_mailbox: alice@example.com

- name: With impersonation (the account has the ApplicationImpersonation role)
  exchange.ews.send_item:
    username: EXAMPLE\svc-mailer
    password: "{{ vault_svc_password }}"
    impersonate: alice@example.com
    item_ids: "{{ draft_ids }}"

- name: Send without keeping a copy; an id that cannot be accounted for is reported, not failed
  exchange.ews.send_item:
    item_ids: "{{ draft_ids }}"
    save_copy: false
    missing: ok

- name: Preview
  exchange.ews.send_item:
    item_ids: "{{ draft_ids }}"
  check_mode: true
"""

RETURN = r"""
results:
  description: One entry per O(item_ids) entry, in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The ItemId as given.
      type: str
    status:
      description:
        - V(sent) by this run; V(already_sent) earlier (a previous or concurrent run, or another
          client); V(would_send) in check mode; V(missing) neither present nor provably sent;
          V(failed) not sent, see RV(results[].response_code).
      type: str
      choices: [sent, already_sent, would_send, missing, failed]
    response_class:
      description: C(Success), C(Warning) or C(Error), from the deciding EWS response.
      type: str
    response_code:
      description: EWS ResponseCode, for example C(NoError), C(ErrorItemNotFound), C(ErrorStaleObject).
      type: str
    message_text:
      description: Exchange's message or the module's explanation, when there is one.
      type: str
  sample:
    - id: AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=
      status: sent
      response_class: Success
      response_code: NoError
      message_text: null
counts:
  description: Number of results per status (every status is present).
  returned: always
  type: dict
  sample: {sent: 2, already_sent: 1, would_send: 0, missing: 0, failed: 0}
server_version:
  description: The ServerVersionInfo header of Exchange's last answer, when it sent one.
  returned: when the server answered
  type: dict
  sample: {MajorVersion: 15, MinorVersion: 2, MajorBuildNumber: 1544, MinorBuildNumber: 4, Version: V2017_07_11}
"""

from ansible_collections.exchange.ews.plugins.module_utils.ews_module import EwsModule
from ansible_collections.exchange.ews.plugins.module_utils.transport import HAS_ZEEP
from ansible_collections.exchange.ews.plugins.module_utils.validation import validate_folder, validate_smtp_address

if HAS_ZEEP:
    from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import (
        STATUSES,
        ExactlyOnceSender,
        ItemRef,
    )


def main():
    argument_spec = dict(
        item_ids=dict(type="list", elements="raw", required=True),
        save_copy=dict(type="bool", default=True),
        saved_item_folder=dict(type="str", default="sentitems"),
        saved_item_folder_mailbox=dict(type="str"),
        batch_size=dict(type="int", default=100),
        missing=dict(type="str", default="fail", choices=["fail", "ok"]),
        pending_timeout=dict(type="int", default=120),
        conflict_retries=dict(type="int", default=3),
    )
    module = EwsModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["batch_size"] < 1 or params["pending_timeout"] < 0 or params["conflict_retries"] < 0:
        module.fail_json(msg="batch_size must be at least 1; pending_timeout and conflict_retries not negative")

    with module.reporting_failures():
        validate_folder(params["saved_item_folder"], "saved_item_folder")
        if params["saved_item_folder_mailbox"]:
            validate_smtp_address(params["saved_item_folder_mailbox"], "saved_item_folder_mailbox")
        refs = [ItemRef.from_raw(entry, index) for index, entry in enumerate(params["item_ids"])]
        with module.client() as client:
            sender = ExactlyOnceSender(
                client, save_copy=params["save_copy"], saved_item_folder=params["saved_item_folder"],
                saved_item_folder_mailbox=params["saved_item_folder_mailbox"], batch_size=params["batch_size"],
                pending_timeout=params["pending_timeout"], conflict_retries=params["conflict_retries"],
                check_mode=module.check_mode)
            results = sender.send(refs)
            server_version = client.server_version_info

    for warning in sender.warnings:
        module.warn(warning)
    counts = dict((status, 0) for status in STATUSES)
    for result in results:
        counts[result["status"]] += 1
    failing = counts["failed"] + (counts["missing"] if params["missing"] == "fail" else 0)
    # In check mode, as Ansible expects, changed tells whether a real run would send anything.
    outcome = dict(changed=counts["sent"] + counts["would_send"] > 0, results=results, counts=counts)
    if server_version:
        outcome["server_version"] = server_version
    if failing:
        module.fail_json(msg=_failure_message(results, params["missing"]), **outcome)
    module.exit_json(**outcome)


def _failure_message(results, missing):
    bad = [r for r in results if r["status"] == "failed" or (r["status"] == "missing" and missing == "fail")]
    first = bad[0]
    return "%d of %d item(s) not sent; first: item %s, status %s, ResponseCode %s: %s" % (
        len(bad), len(results), first["id"], first["status"], first["response_code"], first["message_text"])


if __name__ == "__main__":
    main()
