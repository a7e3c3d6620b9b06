#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: message
author: Exchange EWS collection maintainers (@exchange-ews)
version_added: 0.1.0
short_description: Compose an Exchange mail and send it exactly once, with attachments
description:
  - Composes one mail message, identified by O(key), and sends it through Exchange Web Services
    B(exactly once per key), however often the task runs, also when runs crash, responses are lost or
    several jobs run the same task at the same time.
  - The key is stored on the message as an extended property in the collection's own property set.
    Exchange copies it to the message in the Outbox and to the copy saved in Sent Items, so one
    C(FindItem) over Drafts, Outbox and Sent Items finds the message by its key wherever it is.
  - With O(state=sent) (the default) a re-run finds the submitted message and changes nothing. A draft
    carrying the key is brought to the task's content and sent. When the key was already sent with other
    content, nothing is sent again; the task warns and shows the difference.
    See the collection's C(docs/exactly-once.md) (Keyed messages) for how concurrent runs agree on one draft.
  - The sent copy is the record of the send. The module always saves one, in Sent Items of the mailbox
    that sends (O(mailbox)). If that copy is deleted (by a user or a retention policy) and the Outbox no
    longer holds the message, a later run with the same key sends it again.
  - With O(state=draft) the message is kept as a draft (created, or updated where it differs) and never
    sent. C(exchange.ews.draft) is this module with O(state=draft) as its default, and never sends.
  - With O(state=absent) the draft carrying the key is deleted (moved to Deleted Items). Sent copies are
    never touched.
  - Options that are not given are left as they are on an existing draft.
extends_documentation_fragment:
  - exchange.ews.connection
  - exchange.ews.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Reads the message and reports what would be created, updated, sent or deleted; writes nothing.
  diff_mode:
    support: full
    details: Shows each given option before and after, the body as text (at most 2,000 characters) and the
      attachments by name, type and size.
options:
  key:
    description:
      - The caller's idempotency key, for example C(weekly-report-2024-19) or a ticket number. One key is
        one message, unique per mailbox.
      - Choose a key that names the message, not the run. A key derived from the current date differs
        between a job that runs before midnight and its retry after.
    type: str
    required: true
  state:
    description:
      - V(sent) sends the message once per key. V(draft) keeps it as a draft (never sent).
        V(absent) deletes the draft carrying the key.
      - V(present) is V(draft) (the value of the former C(exchange.ews.draft) module).
      - The default is V(sent), except for a task written as C(exchange.ews.draft), where it is V(draft)
        and V(sent) is refused.
    type: str
    choices: [sent, draft, absent, present]
  mailbox:
    description:
      - SMTP address of the mailbox whose Drafts, Outbox and Sent Items hold the message. The copy of the
        sent message is saved in its Sent Items.
      - Another person's mailbox sends B(on behalf of) that person, as their delegate (the connecting user
        needs create and send rights there). The message's From is that mailbox and its Sender the
        connecting user.
      - Defaults to the connecting (or impersonated) user's own mailbox.
    type: str
  subject:
    description: The subject.
    type: str
  body:
    description:
      - The body, in the format given by O(body_type).
      - Exchange rewrites HTML bodies when it stores them, so the module compares the body it last wrote
        (recorded as a digest on the message) with O(body), not the stored text; an edit made to the body
        outside Ansible is not detected until O(body) changes.
    type: str
  body_type:
    description: Format of O(body). Inline images are referenced from an V(html) body as C(cid:<content_id>).
    type: str
    choices: [text, html]
    default: text
  to:
    description:
      - SMTP addresses of the To recipients. An empty list removes all of them.
      - Compared without regard to order or case, as are O(cc), O(bcc) and O(reply_to).
    type: list
    elements: str
  cc:
    description: SMTP addresses of the Cc recipients. An empty list removes all of them.
    type: list
    elements: str
  bcc:
    description: SMTP addresses of the Bcc recipients (not shown to the others). An empty list removes all of them.
    type: list
    elements: str
  reply_to:
    description: SMTP addresses replies should go to (C(Reply-To)). An empty list removes all of them.
    type: list
    elements: str
  from:
    description:
      - B(Send As) another mailbox, such as a shared one. The message's From is this address, and no trace of
        the connecting user remains. The connecting user needs the Send As right on that mailbox; without
        it Exchange refuses the send (C(ErrorSendAsDenied)) and the task fails saying so.
      - To send on behalf of someone instead, set O(mailbox).
    type: str
  importance:
    description: The importance (C(Importance) and C(X-Priority) headers).
    type: str
    choices: [low, normal, high]
  sensitivity:
    description: The sensitivity (C(Sensitivity) header).
    type: str
    choices: [normal, personal, private, confidential]
  categories:
    description: Outlook categories (compared without regard to order). An empty list removes all of them.
    type: list
    elements: str
  read_receipt:
    description: Ask for a read receipt (C(Disposition-Notification-To)).
    type: bool
  delivery_receipt:
    description: Ask for a delivery receipt (C(Return-Receipt-To), and DSN where the next hop offers it).
    type: bool
  deliver_at:
    description:
      - B(Deferred delivery) time, ISO 8601 (C(2024-05-13T07:00:00Z); without an offset, UTC). Exchange holds
        the sent message in the Outbox until then; the task ends once it is submitted (RV(status=sent)).
      - An absolute time only, so that every run of the task asks for the same message; a time already
        past sends at once. An empty string removes it from a draft.
    type: str
  headers:
    description:
      - Extra internet headers, name to value. Names start with C(X-) (Exchange writes only those into the
        message) and hold letters, digits and C(-); values are one line of text.
      - The headers this module wrote before and that are no longer listed are removed.
    type: dict
  attachments:
    description:
      - File attachments, each a file on the host where the module runs (O(attachments[].path)) or
        O(attachments[].content) passed from the controller with a O(attachments[].name).
      - Names are unique, since an attachment is matched to the draft's by name. The module records a digest of
        each attachment it uploads on the draft, so a re-run with unchanged files uploads nothing; a changed
        file replaces its attachment and an attachment no longer listed is deleted. An empty list removes all
        attachments.
      - The sizes are checked before anything is uploaded, see O(max_send_size_mb) and O(max_request_size_mb).
    type: list
    elements: dict
    suboptions:
      path:
        description: A file on the host where the module runs (usually the controller, or an execution environment).
        type: path
      content:
        description: The content, passed from the controller; text, or base64 with O(attachments[].encoding=base64).
        type: str
      name:
        description: The file name recipients see. Required with O(attachments[].content); for a
          O(attachments[].path) the file's own name by default.
        type: str
      encoding:
        description: How O(attachments[].content) is given.
        type: str
        choices: [text, base64]
        default: text
      content_type:
        description: The MIME type, for example C(text/csv). Guessed from the name when not given
          (C(application/octet-stream) when it cannot be).
        type: str
      content_id:
        description:
          - Makes the attachment an B(inline) image, referenced from an HTML body as C(cid:<content_id>),
            for example C(logo@example.com) for C(<img src="cid:logo@example.com">).
          - An HTML body that references a C(cid:) no attachment carries is refused.
        type: str
  max_send_size_mb:
    description:
      - The largest message the sending mailbox may send, Exchange's C(MaxSendSize), in MB (1 MB = 1,048,576
        bytes). The default is Exchange Server's; Exchange Online's is 35 (configurable up to 150).
      - The message is measured as Exchange sends it, attachments in base64 (a third bigger than the files),
        and refused before any upload when it is bigger, naming the largest attachments.
    type: int
    default: 10
  max_request_size_mb:
    description:
      - The largest EWS request the server accepts, in MB (Exchange Server's C(maxAllowedContentLength) and
        C(maxReceivedMessageSize) on the EWS virtual directories, 64 MB by default). A bigger request is
        refused with HTTP 507.
      - Attachments are uploaded in as few requests as fit; one attachment no request can carry is refused
        before any upload, naming it.
    type: int
    default: 64
  deadline:
    description: Seconds the whole task may take. Every request, wait and retry ends by then.
    type: int
    default: 900
notes:
  - Requests of a first send, on the happy path, are three C(FindItem) by key, C(CreateItem), one C(GetItem)
    (the server's clock), the exactly-once stamp and C(SendItem), and one C(CreateAttachment) per request's
    worth of attachments when they do not fit in the C(CreateItem). The run waits about a second for the
    server's clock to pass its draft's creation time, which is what lets concurrent runs agree on one draft.
    A re-run of a sent message costs one C(FindItem) and one C(GetItem).
  - Every write to a draft is a compare-and-set on its ChangeKey (C(ConflictResolution=NeverOverwrite)).
    With O(state=draft), a draft edited between the read and the write fails the task with
    C(ErrorIrresolvableConflict) instead of overwriting the edit.
  - Find drafts for M(exchange.ews.send_item) with the P(exchange.ews.draft_ids#lookup) lookup.
seealso:
  - module: exchange.ews.send_item
  - plugin: exchange.ews.draft_ids
    plugin_type: lookup
  - name: Message size limits in Exchange Server
    description: MaxSendSize, and the client-specific limits of EWS.
    link: https://learn.microsoft.com/en-us/exchange/mail-flow/message-size-limits
requirements:
  - zeep
  - requests-ntlm (for O(auth=ntlm))
"""

EXAMPLES = r"""
# The connection is configured once, as in the collection's README: ews_* variables and module_defaults.
- name: Send the weekly report once, however often the job runs
  exchange.ews.message:
    key: weekly-report-{{ report_week }}
    subject: Weekly report {{ report_week }}
    to: [team@example.com]
    cc: [manager@example.com]
    importance: high
    body_type: html
    body: |
      <p>This week's numbers are attached.</p>
      <p><img src="cid:logo@example.com" alt="Example Ltd"></p>
    attachments:
      - path: "{{ reports_dir }}/week-{{ report_week }}.csv"
      - path: "{{ reports_dir }}/summary-{{ report_week }}.pdf"
      - path: "{{ reports_dir }}/logo.png"
        content_id: logo@example.com
  register: report

- name: Say what went out (a dry run sends nothing, so it has no Message-ID)
  ansible.builtin.debug:
    msg: "{{ report.status }}: {{ report.internet_message_id }} at {{ report.sent_at }}"
  when: report.sent

- name: Attach content made on the controller (text as is, binary as base64)
  exchange.ews.message:
    key: inventory-{{ '%Y-%m-%d' | strftime }}
    subject: Host inventory
    to: [ops@example.com]
    body: The inventory is attached.
    attachments:
      - name: inventory.csv
        content: "{{ lookup('ansible.builtin.template', 'inventory.csv.j2') }}"
      - name: diagram.png
        content: "{{ lookup('ansible.builtin.file', 'diagram.png.b64') }}"
        encoding: base64
        content_type: image/png

- name: Send As a shared mailbox (needs the Send As right on it)
  exchange.ews.message:
    key: notice-{{ change_id }}
    from: it-notices@example.com
    subject: Maintenance tonight
    body: The mail service restarts at 22:00.
    to: [all-staff@example.com]
    reply_to: [servicedesk@example.com]

- name: On behalf of a manager, from the manager's mailbox (the account is the manager's delegate)
  exchange.ews.message:
    key: board-pack-{{ quarter }}
    mailbox: manager@example.com
    subject: Board pack {{ quarter }}
    body: Please find the board pack attached.
    to: [board@example.com]
    attachments:
      - path: "{{ reports_dir }}/board-pack-{{ quarter }}.pdf"

- name: Receipts, sensitivity, categories and an extra header
  exchange.ews.message:
    key: contract-{{ contract_id }}
    subject: Your contract
    body: Your contract is attached.
    to: [customer@example.org]
    bcc: [archive@example.com]
    sensitivity: confidential
    categories: [Contracts]
    read_receipt: true
    delivery_receipt: true
    headers:
      X-Contract-Id: "{{ contract_id }}"
    attachments:
      - path: "{{ contracts_dir }}/{{ contract_id }}.pdf"

- name: Deferred delivery at 07:00 UTC on Monday (Exchange holds it in the Outbox until then)
  exchange.ews.message:
    key: monday-briefing-{{ monday }}
    subject: Monday briefing
    body: Good morning.
    to: [team@example.com]
    deliver_at: "{{ monday }}T07:00:00Z"

- name: Prepare a draft for review in Outlook; nothing is sent
  exchange.ews.message:
    key: newsletter-{{ issue }}
    state: draft
    subject: Newsletter {{ issue }}
    body: "{{ lookup('ansible.builtin.template', 'newsletter.html.j2') }}"
    body_type: html
    to: [subscribers@example.com]

- name: Send the reviewed draft (only the key is needed; its content is kept as it is)
  exchange.ews.message:
    key: newsletter-{{ issue }}

- name: Delete the draft instead (sent copies are never touched)
  exchange.ews.message:
    key: newsletter-{{ issue }}
    state: absent

- name: A bigger limit for a mailbox allowed to send 35 MB (Exchange Online's default MaxSendSize)
  exchange.ews.message:
    key: scans-{{ batch }}
    subject: Scans
    to: [records@example.com]
    max_send_size_mb: 35
    attachments:
      - path: "{{ scans_dir }}/batch-{{ batch }}.zip"
"""

RETURN = r"""
state:
  description: The state the task applied (V(present) is reported as V(draft)).
  returned: always
  type: str
  sample: sent
status:
  description:
    - What is true of the message after the task. V(sent) by this run (exactly one run of the key ever
      reports it); V(already_sent) earlier, by a concurrent run, or by another client (a submitted copy
      carries the key, and nothing was sent by this run); V(would_send) in check mode; V(draft) the draft
      exists (O(state=draft)); V(absent) no draft carries the key (O(state=absent)).
  returned: always
  type: str
  choices: [sent, already_sent, would_send, draft, absent]
  sample: sent
sent:
  description: True when the message has been sent, by this run or before (RV(status) is V(sent) or V(already_sent)).
  returned: always
  type: bool
  sample: true
id:
  description:
    - ItemId of the message the key names. With O(state=sent), the submitted copy (in the Outbox while
      Exchange delivers it, then in Sent Items), or in check mode the draft a run would send. With
      O(state=draft), the draft (not returned when there is none, as in check mode before it is created, or
      when the message was already sent). With O(state=absent), the draft that was deleted.
  returned: when there is such a message
  type: str
  sample: AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=
change_key:
  description: ChangeKey of RV(id) after the task.
  returned: when RV(id) is returned, except for O(state=absent)
  type: str
  sample: CQAAABYAAAB4dNn0wrMSSaUGsU2zJ4iLAAAAB4tn
sent_copy_id:
  description: ItemId of the submitted copy that carries the key (the Outbox's, or the one in Sent Items).
  returned: when RV(sent) is true
  type: str
  sample: AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAB=
internet_message_id:
  description: The C(Message-ID) the message went out with.
  returned: when RV(sent) is true
  type: str
  sample: <0f3c8e2a5b7d4c1e9a6f@mail.example.com>
sent_at:
  description: When the message was submitted, ISO 8601 UTC (Exchange's C(DateTimeSent)).
  returned: when RV(sent) is true
  type: str
  sample: "2024-05-13T07:00:04Z"
changed_fields:
  description:
    - The options this task set or would set, by their option names, in the order of the options (all
      given ones for a new message). Empty when nothing changed, and for a message already sent.
  returned: always
  type: list
  elements: str
  sample: [subject, body, to, attachments]
"""

from ansible_collections.exchange.ews.plugins.module_utils.ews_module import EwsModule
from ansible_collections.exchange.ews.plugins.module_utils.messages import (
    ARGUMENT_SPEC,
    AmbiguousKeyError,
    KeyedMessage,
    MessageSpec,
    resolve_state,
)
from ansible_collections.exchange.ews.plugins.module_utils.transport import HAS_ZEEP

if HAS_ZEEP:
    from ansible_collections.exchange.ews.plugins.module_utils.ews_messages import EwsMessages
    from ansible_collections.exchange.ews.plugins.module_utils.graph_messages import GraphMessages


def main():
    module = EwsModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    with module.reporting_failures():
        state = resolve_state(module.params["state"], module._name)
        spec = MessageSpec.from_params(module.params)
        with module.client() as client:
            backend = (GraphMessages if module.api == "graph" else EwsMessages)(client, spec.mailbox)
            keyed = KeyedMessage(backend, spec, check_mode=module.check_mode, diff=module._diff,
                                 deadline=module.params["deadline"])
            try:
                result = keyed.run(state)
            except AmbiguousKeyError as error:
                module.fail_from(error, ids=error.ids, state=state)
    for warning in keyed.warnings:
        module.warn(warning)
    result["state"] = state
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
