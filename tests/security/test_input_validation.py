# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input the modules and the lookup refuse before any request, saying what is wrong (issue #10, cases 6, 8)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

PLAY = """
- name: Refused input
  hosts: localhost
  gather_facts: false
  tasks:
    - name: draft with a recipient that is not an address
      exchange.ews.draft:
        key: refused
        to: [not an address]
      register: bad_to
      ignore_errors: true

    - name: draft with an empty key
      exchange.ews.draft:
        key: ""
      register: empty_key
      ignore_errors: true

    - name: draft with a control character in the subject
      exchange.ews.draft:
        key: refused
        subject: "bell \\a"
      register: control
      ignore_errors: true

    - name: send_item with a display name for the saved folder
      exchange.ews.send_item:
        item_ids: [AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=]
        saved_item_folder: Sent Items
      register: sent_items
      ignore_errors: true

    - name: send_item with a saved folder mailbox that is not an address
      exchange.ews.send_item:
        item_ids: [AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=]
        saved_item_folder_mailbox: alice
      register: saved_mailbox
      ignore_errors: true

    - name: a ca_path that does not exist
      exchange.ews.draft:
        key: refused
        ca_path: /nonexistent/ca.pem
      register: ca_path
      ignore_errors: true

    - name: draft_ids with an age too large for a date
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids', created_after='-99999999999d') }}"
      register: age
      ignore_errors: true

    - name: draft_ids with a folder display name
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids', folder='Sent Items') }}"
      register: folder
      ignore_errors: true

    - name: draft_ids with a mailbox that is not an address
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids', mailbox='alice smith') }}"
      register: mailbox
      ignore_errors: true

    - name: message with a header that would smuggle in another one
      exchange.ews.message:
        key: refused
        to: [bob@sandbox.test]
        headers:
          X-Ticket: "4711\\r\\nBcc: victim@example.org"
      register: header_injection
      ignore_errors: true

    - name: message with a header Exchange would not write
      exchange.ews.message:
        key: refused
        headers:
          Reply-To: someone@example.org
      register: not_an_x_header
      ignore_errors: true

    - name: message attaching a file that is not there
      exchange.ews.message:
        key: refused
        attachments:
          - path: /nonexistent/report.csv
      register: no_file
      ignore_errors: true

    - name: message whose HTML names an inline image it does not attach
      exchange.ews.message:
        key: refused
        body_type: html
        body: '<img src="cid:logo@example.com">'
        attachments:
          - name: notes.txt
            content: notes
      register: broken_image
      ignore_errors: true

    - name: message with an attachment bigger than the send limit
      exchange.ews.message:
        key: refused
        max_send_size_mb: 1
        attachments:
          - name: big.bin
            content: "{{ 'A' * 1200000 }}"
      register: too_big
      ignore_errors: true

    - name: Each refused, naming the option and the problem
      ansible.builtin.assert:
        that:
          - "bad_to.msg is search('to.0.. .not an address. is not an SMTP address')"
          - "empty_key.msg is search('key must not be empty')"
          - "control.msg is search('subject contains U.0007')"
          - "sent_items.msg is search('saved_item_folder. .Sent Items. is neither a distinguished folder name')"
          - "sent_items.msg is search('deleteditems, drafts, inbox')"
          - "saved_mailbox.msg is search('mailbox. .alice. is not an SMTP address')"
          - "ca_path.msg is search('ca_path /nonexistent/ca.pem does not exist')"
          - "age.msg is search('created_after. .-99999999999d. goes back more than 36500 days')"
          - "folder.msg is search('folder. .Sent Items. is neither a distinguished folder name')"
          - "mailbox.msg is search('mailbox. .alice smith. is not an SMTP address')"
          - "header_injection.msg is search('headers.X-Ticket contains a line break')"
          - "not_an_x_header.msg is search('headers: .Reply-To. is not an extra header name')"
          - "no_file.msg is search('attachments.0..path: cannot read /nonexistent/report.csv')"
          - "broken_image.msg is search('body: cid:logo@example.com names no attachment')"
          - "too_big.msg is search('more than max_send_size_mb 1')"
          - "too_big.msg is search('big.bin')"
"""


def test_bad_input_is_refused_before_any_request(playbook, sandbox, secrets):
    template = secrets["template"]
    since = sandbox.admin.requests(since=0)[-1]["seq"] if sandbox.admin.requests(since=0) else 0
    env = {"EWS_URL": sandbox.url, "EWS_CA_PATH": sandbox.ca_path, "EWS_USERNAME": "tmpl",
           "EWS_PASSWORD": template.value}
    run = playbook(PLAY, env=env, secrets=[template])
    assert run.rc == 0, run.output[-3000:]
    assert run.recap["ignored"] == 14
    assert sandbox.admin.requests(since=since) == []
    assert run.leaks([template]) == {}
