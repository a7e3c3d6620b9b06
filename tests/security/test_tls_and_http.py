# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""No certificate check and plain HTTP are visible choices, never silent (issue #10, case 7)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.exchange.ews.tests.unit.utils import hostile_server as hostile

PLAY = """
- name: TLS and plain HTTP
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/exchange.ews.ews:
      username: alice
      password: Not-Secret-4711
  tasks:
    - name: The lookup without certificate checks
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids', match_all=true, url='%(https)s', username='alice', password='Not-Secret-4711',
                       validate_certs=false) }}"
      ignore_errors: true

    - name: A module without certificate checks
      exchange.ews.send_item:
        url: %(https)s
        validate_certs: false
        item_ids: [AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=]
      register: unchecked
      ignore_errors: true

    - name: Plain HTTP without allow_http
      exchange.ews.draft:
        url: %(http)s
        key: http
      register: refused
      ignore_errors: true

    - name: Basic over plain HTTP even with allow_http
      exchange.ews.draft:
        url: %(http)s
        allow_http: true
        auth: basic
        key: http
      register: basic
      ignore_errors: true

    - name: NTLM over plain HTTP with allow_http
      exchange.ews.draft:
        url: %(http)s
        allow_http: true
        key: http
      register: allowed
      ignore_errors: true

    - name: Refused before any request, or warned
      ansible.builtin.assert:
        that:
          - refused.msg is search('is plain http://')
          - refused.msg is search('set allow_http=true')
          - basic.msg is search('sends the password in clear over http://')
          - allowed.response_code == 'ErrorInternalServerError'
          - "unchecked.warnings | select('search', 'validate_certs=false. the TLS certificate of 127.0.0.1') | length > 0"
          - "allowed.warnings | select('search', 'is plain http:// .allow_http=true.. requests to 127.0.0.1') | length > 0"
"""


@pytest.fixture(scope="module")
def http_server():
    with hostile.HostileServer(tls=False) as running:
        yield running


def test_no_certificate_check_and_plain_http_warn_or_are_refused(playbook, hostile_server, http_server):
    hostile_server.route("fault", hostile.fault("nope"))
    hostile_server.answer()
    http_server.answer(hostile.fault("nope"))
    run = playbook(PLAY % {"https": hostile_server.url_for("fault"), "http": http_server.url})
    assert run.rc == 0, run.output[-3000:]
    lookup_task = run.output.split("TASK [The lookup without certificate checks]")[1].split("TASK [")[0]
    assert "validate_certs=false: the TLS certificate of 127.0.0.1 is not checked" in lookup_task
    assert len(hostile_server.requests) == 2  # a SOAP fault is final: one request per task
    assert len(http_server.requests) == 1  # only the allowed NTLM task sent anything
