# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lookup's options: play variables still templated, nothing else, booleans strict (issue #10, cases 1, 7)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

PLAY = """
- name: Lookup options
  hosts: localhost
  gather_facts: false
  vars_files: [secret_vars.yml]
  tasks:
%s
"""


def test_play_variables_in_vars_sources_are_templated(playbook, sandbox, secrets, tmp_path):
    """``ews_password: "{{ vault_pw }}"`` works, and the value it names is sent as written (!unsafe)."""
    template = secrets["template"]
    (tmp_path / "secret_vars.yml").write_text("vault_pw: !unsafe '%s'\nvault_user: tmpl\n" % template.value,
                                              encoding="utf-8")
    sandbox.admin.seed("tmpl@sandbox.test", count=2, subject="vars-sourced")
    tasks = """
    - name: Connection options from play variables that are templates
      ansible.builtin.set_fact:
        found: "{{ query('exchange.ews.draft_ids', subject='vars-sourced') | length }}"
      vars:
        ews_url: "{{ '%(url)s' }}"
        ews_ca_path: "%(ca_path)s"
        ews_username: "{{ vault_user }}"
        ews_password: "{{ vault_pw }}"
        ews_validate_certs: "{{ 'yes' }}"

    - name: Found both
      ansible.builtin.assert:
        that: found | int == 2
""" % {"url": sandbox.url, "ca_path": sandbox.ca_path}
    run = playbook(PLAY % tasks, secrets=[template])
    assert run.rc == 0, run.output[-3000:]
    assert run.leaks([template]) == {}


def test_a_play_variable_that_fails_to_template_is_not_quoted(playbook, sandbox, secrets, tmp_path):
    template = secrets["template"]
    # Not !unsafe: "{#" opens a Jinja comment that never closes.
    (tmp_path / "secret_vars.yml").write_text("broken_pw: '%s {#'\n" % template.value.replace("'", "''"),
                                              encoding="utf-8")
    tasks = """
    - name: A password variable Jinja cannot read
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids', username='tmpl') }}"
      vars:
        ews_password: "{{ broken_pw }}"
      register: broken
      ignore_errors: true

    - name: Refused, naming the variable, not its value
      ansible.builtin.assert:
        that: broken.msg is search('the variable ews_password could not be templated')
"""
    run = playbook(PLAY % tasks, env={"EWS_URL": sandbox.url, "EWS_CA_PATH": sandbox.ca_path}, secrets=[template])
    assert run.rc == 0, run.output[-3000:]
    assert run.leaks([template]) == {}


def test_booleans_are_strict_from_every_source(playbook, sandbox, tmp_path):
    (tmp_path / "secret_vars.yml").write_text("{}\n", encoding="utf-8")
    tasks = """
    - name: From the environment
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids') }}"
      register: from_env
      ignore_errors: true

    - name: From a play variable
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids') }}"
      vars:
        ews_validate_certs: nope
      register: from_var
      ignore_errors: true

    - name: As an argument
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids', validate_certs='enabled', exactly_one='ture') }}"
      register: from_argument
      ignore_errors: true

    - name: The lookup's own boolean
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids', validate_certs=true, exactly_one='ture') }}"
      register: own
      ignore_errors: true

    - name: Each one an error naming the option, never a silent false
      ansible.builtin.assert:
        that:
          - "from_env.msg is search('validate_certs. .ture. is not a boolean')"
          - "from_var.msg is search('validate_certs. .nope. is not a boolean')"
          - "from_argument.msg is search('validate_certs. .enabled. is not a boolean')"
          - "own.msg is search('exactly_one. .ture. is not a boolean')"
"""
    env = {"EWS_URL": sandbox.url, "EWS_CA_PATH": sandbox.ca_path, "EWS_USERNAME": "tmpl",
           "EWS_PASSWORD": "irrelevant", "EWS_VALIDATE_CERTS": "ture"}
    since = sandbox.admin.requests(since=0)[-1]["seq"] if sandbox.admin.requests(since=0) else 0
    run = playbook(PLAY % tasks, env=env)
    assert run.rc == 0, run.output[-3000:]
    assert sandbox.admin.requests(since=since) == []
