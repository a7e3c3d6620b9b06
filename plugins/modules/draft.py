#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: draft
author: exchange.ews contributors (!UNKNOWN)
version_added: 0.1.0
short_description: Create, update or delete an Exchange draft identified by a key
description:
  - Manages one draft message in the Drafts folder of a mailbox through Exchange Web Services.
  - The draft is identified by O(key), which the module stores on the draft as an extended property
    in the collection's own property set. A later run finds the draft by that key with one
    server-side C(FindItem) search, so re-running a play never creates a second draft.
  - With O(state=present) a missing draft is saved with C(CreateItem) (C(SaveOnly), nothing is sent);
    an existing draft is updated with C(UpdateItem), changing only the fields that differ.
  - Options that are not given are left as they are on an existing draft.
  - With O(state=present), when no draft carries O(key) but a message in Sent Items does, the draft
    was already sent (Exchange keeps the key on the saved copy). Nothing is created and RV(sent) is
    true, so a play that prepares and sends a message can run again without sending it twice.
    Without a saved copy (a send with C(save_copy=false)) a new draft is created.
  - With O(state=absent) the draft is moved to Deleted Items.
extends_documentation_fragment:
  - exchange.ews.connection
  - exchange.ews.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Reads the draft and reports what would be created, updated or deleted; writes nothing.
  diff_mode:
    support: full
options:
  state:
    description:
      - Whether the draft should exist.
    type: str
    choices: [present, absent]
    default: present
  key:
    description:
      - The caller's idempotency key for this draft, for example a ticket number or a job id.
      - Unique per mailbox; a key carried by more than one draft is an error that lists their ids.
    type: str
    required: true
  mailbox:
    description:
      - SMTP address of the mailbox whose Drafts folder holds the draft.
      - Set it to the principal's address to manage a draft in the principal's Drafts as a delegate
        (the delegate needs create rights there).
      - Defaults to the authenticated (or impersonated) user's own mailbox.
    type: str
  subject:
    description:
      - The subject.
    type: str
  body:
    description:
      - The body, in the format given by O(body_type).
      - Exchange rewrites HTML bodies when it stores them, so the module compares the body it last
        wrote (recorded as a SHA-256 digest on the draft) with O(body), not the stored text; an edit
        made to the body outside Ansible is not detected until O(body) changes.
    type: str
  body_type:
    description:
      - Format of O(body).
    type: str
    choices: [text, html]
    default: text
  to:
    description:
      - SMTP addresses of the To recipients. An empty list removes all of them.
      - Compared without regard to order or case.
    type: list
    elements: str
  cc:
    description:
      - SMTP addresses of the Cc recipients. An empty list removes all of them.
    type: list
    elements: str
  bcc:
    description:
      - SMTP addresses of the Bcc recipients. An empty list removes all of them.
    type: list
    elements: str
  importance:
    description:
      - The importance.
    type: str
    choices: [low, normal, high]
  categories:
    description:
      - The categories (compared without regard to order). An empty list removes all of them.
    type: list
    elements: str
notes:
  - Reading an existing draft costs one C(FindItem) and, only when O(to), O(cc) or O(bcc) is given,
    one C(GetItem) (C(FindItem) cannot return recipients). When there is no draft, one more
    C(FindItem) looks in Sent Items.
  - An update is a compare-and-set on the draft's ChangeKey (C(ConflictResolution=NeverOverwrite)).
    If the draft is edited between the read and the write, the task fails with
    C(ErrorIrresolvableConflict) instead of overwriting the edit.
  - Pass RV(id) and RV(change_key) to M(exchange.ews.send_item) as an entry of its
    O(exchange.ews.send_item#module:item_ids), or find drafts later with the
    P(exchange.ews.draft_ids#lookup) lookup.
seealso:
  - module: exchange.ews.send_item
  - plugin: exchange.ews.draft_ids
    plugin_type: lookup
requirements:
  - zeep
  - requests-ntlm (for O(auth=ntlm))
"""

EXAMPLES = r"""
- name: Prepare the weekly report as a draft (a re-run updates it, never duplicates it)
  exchange.ews.draft:
    url: https://mail.example.com/EWS/Exchange.asmx
    username: EXAMPLE\svc-reports
    password: "{{ ews_password }}"
    key: weekly-report-{{ ansible_date_time.date }}
    subject: Weekly report
    body: "{{ lookup('ansible.builtin.template', 'report.html.j2') }}"
    body_type: html
    to: [team@example.com]
    categories: [ansible]
  register: report

- name: Send it
  exchange.ews.send_item:
    url: https://mail.example.com/EWS/Exchange.asmx
    username: EXAMPLE\svc-reports
    password: "{{ ews_password }}"
    item_ids:
      - id: "{{ report.id }}"
        change_key: "{{ report.change_key }}"

- name: A draft in the principal's Drafts, prepared by a delegate
  exchange.ews.draft:
    url: https://mail.example.com/EWS/Exchange.asmx
    username: EXAMPLE\bob
    password: "{{ bob_password }}"
    mailbox: alice@example.com
    key: ticket-4711
    subject: Your ticket 4711
    to: [customer@example.org]
    importance: high

- name: Remove the draft again
  exchange.ews.draft:
    url: https://mail.example.com/EWS/Exchange.asmx
    username: EXAMPLE\bob
    password: "{{ bob_password }}"
    mailbox: alice@example.com
    key: ticket-4711
    state: absent
"""

RETURN = r"""
id:
  description:
    - ItemId of the draft; for O(state=absent), of the draft that was deleted.
    - Absent when there is no draft (nothing to delete, or a draft that check mode would create).
  returned: when a draft exists or was deleted
  type: str
change_key:
  description: ChangeKey of the draft after this task.
  returned: when O(state=present) and a draft exists
  type: str
sent:
  description:
    - True when no draft carries O(key) because the message was already sent (its copy in Sent
      Items carries the key); nothing was created.
  returned: when O(state=present) and the message was already sent
  type: bool
sent_copy_id:
  description: ItemId of the copy in Sent Items that carries O(key).
  returned: when RV(sent) is true
  type: str
changed_fields:
  description: The fields this task set or would set (all given ones when the draft is created).
  returned: always
  type: list
  elements: str
  sample: [subject, to]
"""

from ansible_collections.exchange.ews.plugins.module_utils.drafts import (
    BODY_TYPES,
    AmbiguousKeyError,
    DraftManager,
    validate_options,
)
from ansible_collections.exchange.ews.plugins.module_utils.ews_module import EwsModule


def main():
    module = EwsModule(
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present", "absent"]),
            key=dict(type="str", required=True, no_log=False),
            mailbox=dict(type="str"),
            subject=dict(type="str"),
            body=dict(type="str"),
            body_type=dict(type="str", default="text", choices=list(BODY_TYPES)),
            to=dict(type="list", elements="str"),
            cc=dict(type="list", elements="str"),
            bcc=dict(type="list", elements="str"),
            importance=dict(type="str", choices=["low", "normal", "high"]),
            categories=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    with module.reporting_failures():
        validate_options(module.params)
        with module.client() as client:
            manager = DraftManager(client, module.params, module.check_mode)
            try:
                result = manager.present() if module.params["state"] == "present" else manager.absent()
            except AmbiguousKeyError as error:
                module.fail_json(msg=str(error), ids=error.ids)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
