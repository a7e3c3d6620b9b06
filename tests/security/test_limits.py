# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a server can make a run do is bounded (issue #10, case 4), measured on real module processes.

Done when: under a gzip bomb and a 200 MB body, each module's peak RSS stays under
200 MB and it fails within 10 s. The modules run through ansible-playbook with an
interpreter wrapper that measures the module's own process (``os.wait4``).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import sys
import time

import pytest

from ansible_collections.exchange.ews.tests.unit.utils import hostile_server as hostile

MB = 1024 * 1024
MEASURE = """#!%(python)s
import json, os, subprocess, sys, time
started = time.monotonic()
child = subprocess.Popen([%(python)r] + sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
with open(%(log)r, "a") as log:
    log.write(json.dumps({"module": os.path.basename(sys.argv[-1]), "peak_rss_mb": usage.ru_maxrss / 1024.0,
                          "seconds": time.monotonic() - started}) + "\\n")
sys.exit(child.returncode)
"""

PLAY = """
- name: Modules against answers that would exhaust them
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: %(measure)s
  module_defaults:
    group/exchange.ews.ews:
      username: alice
      password: irrelevant
      auth: basic
      ca_path: %(ca_path)s
      timeout: 20
  tasks:
    - name: send_item
      exchange.ews.send_item:
        url: "%(base)s/{{ item }}/EWS/Exchange.asmx"
        item_ids: [AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=]
      loop: [bomb, huge]
      register: send_item
      ignore_errors: true

    - name: message
      exchange.ews.message:
        url: "%(base)s/{{ item }}/EWS/Exchange.asmx"
        key: limits
      loop: [bomb, huge]
      register: message
      ignore_errors: true

    - name: Each failed on the size limit
      ansible.builtin.assert:
        that: "(send_item.results + message.results) | map(attribute='msg') | select('search', 'larger than max_response_mb')
               | list | length == 4"
"""


@pytest.fixture(scope="module")
def bloated_server(hostile_server):
    hostile_server.route("bomb", hostile.gzip_bomb(1536 * MB))  # about 1.5 MB on the wire
    hostile_server.route("huge", hostile.huge_body(200 * MB))
    return hostile_server


def test_modules_stay_small_and_quick_under_a_gzip_bomb_and_a_200_mb_body(playbook, bloated_server, tmp_path):
    log = tmp_path / "measurements.jsonl"
    measure = tmp_path / "measure.py"
    measure.write_text(MEASURE % {"python": sys.executable, "log": str(log)}, encoding="utf-8")
    measure.chmod(0o755)
    run = playbook(PLAY % {"measure": measure, "ca_path": bloated_server.ca_path,
                           "base": bloated_server.url.rsplit("/EWS/", 1)[0]})
    assert run.rc == 0, run.output[-3000:]
    measured = [json.loads(line) for line in log.read_text().splitlines()]
    modules = [entry for entry in measured if entry["module"].startswith(("AnsiballZ_send_item", "AnsiballZ_message"))]
    assert len(modules) == 4, measured
    for entry in modules:
        assert entry["peak_rss_mb"] < 200, entry
        assert entry["seconds"] < 10, entry


LOOKUP_PLAY = """
- name: The lookup against endless answers
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Against %(route)s
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids', match_all=true, url='%(url)s', auth='basic', username='alice', password='not-the-point',
                       ca_path='%(ca_path)s', timeout=3) }}"
      register: looked_up
      ignore_errors: true

    - name: It failed, saying why
      ansible.builtin.assert:
        that: looked_up.msg is search(%(why)r)
"""


@pytest.mark.parametrize("route, answer, why", [
    ("bomb", hostile.gzip_bomb(1536 * MB), "larger than max_response_mb"),
    ("trickle", hostile.trickle(interval=0.1), "no complete answer within the timeout of 3"),
    ("paging", hostile.endless_paging(page_size=100), "more than the 1000 returned without max_items"),
], ids=["gzip-bomb", "trickle", "endless-paging"])
def test_the_lookup_ends_within_bounds(playbook, hostile_server, route, answer, why):
    hostile_server.route(route, answer)
    hostile_server.answer()
    started = time.monotonic()
    run = playbook(LOOKUP_PLAY % {"route": route, "url": hostile_server.url_for(route), "why": why,
                                  "ca_path": hostile_server.ca_path})
    assert run.rc == 0, run.output[-3000:]
    assert time.monotonic() - started < 30
    assert len(hostile_server.requests) <= 11  # a lost read is repeated once; paging stops after 1,000 items
