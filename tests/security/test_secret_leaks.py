# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret in the output of -vvvv runs, through send_item, draft and draft_ids (issue #10).

Against the sandbox, the secrets are the users' real passwords and token, so a run
that works also proves they were sent exactly as written (never templated). Against
the hostile server, every answer echoes them in every form.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.exchange.ews.tests.unit.utils import hostile_server as hostile
from ansible_collections.exchange.ews.tests.unit.utils.leaks import secret_echoes

PLAY = """
- name: Secrets through every plugin
  hosts: localhost
  gather_facts: false
  tasks:
%s
"""

# One round: a draft prepared, found and sent, then a failing send, with one way of handing over credentials.
# %(credentials)s are module options; %(lookup_credentials)s the lookup's keyword arguments.
ROUND = """
    - name: Round %(name)s
      module_defaults:
        group/exchange.ews.ews:
          auth: %(auth)s
%(credentials)s
      block:
        - name: Prepare a draft (%(name)s)
          exchange.ews.draft:
            key: leak-%(name)s
            subject: leak-%(name)s
            to: [%(login)s@sandbox.test]
          register: prepared

        - name: Send what the lookup finds (%(name)s)
          exchange.ews.send_item:
            item_ids: "{{ query('exchange.ews.draft_ids', subject='leak-%(name)s', auth='%(auth)s'%(lookup_credentials)s) }}"
          register: sent

        - name: A failing send shows its error (%(name)s)
          exchange.ews.send_item:
            item_ids: [AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=]
          register: failing
          ignore_errors: true

        - name: Everything worked, with the credentials as written (%(name)s)
          ansible.builtin.assert:
            that:
              - prepared is changed
              - sent.counts.sent == 1
              - failing is failed
"""


def round_block(name, login, auth, password_env=None, token_env=None, from_environment=False):
    """A ROUND whose credentials come from the named environment variables.

    ``from_environment``: the plugins read EWS_USERNAME / EWS_PASSWORD themselves
    (module fallbacks, the lookup's env: sources); otherwise they get the values as
    options, from ``lookup('env', ...)``.
    """
    credentials, lookup_credentials = [], []
    if not from_environment:
        for option, variable in (("username", None), ("password", password_env), ("access_token", token_env)):
            value = "'%s'" % login if option == "username" else "lookup('env', '%s')" % variable
            if option == "username" or variable:
                credentials.append('          %s: "{{ %s }}"' % (option, value))
                lookup_credentials.append(", %s=%s" % (option, value))
    return ROUND % dict(name=name, login=login, auth=auth, credentials="\n".join(credentials),
                        lookup_credentials="".join(lookup_credentials))


def sandbox_env(sandbox):
    return {"EWS_URL": sandbox.url, "EWS_CA_PATH": sandbox.ca_path}


def test_template_syntax_and_non_ascii_secrets_never_leak_and_are_sent_as_written(playbook, sandbox, secrets, marker):
    template, pipe, unicode_, token = (secrets[name] for name in ("template", "pipe", "unicode", "token"))
    rounds = [
        round_block("env-ntlm", "tmpl", "ntlm", from_environment=True),
        round_block("basic", "tmpl", "basic", password_env=template.env),
        round_block("oauth2", "tmpl", "oauth2", token_env=token.env),
        round_block("pipe-ntlm", "pipe", "ntlm", password_env=pipe.env),
        round_block("unicode-ntlm", "uni", "ntlm", password_env=unicode_.env),
        round_block("unicode-basic", "uni", "basic", password_env=unicode_.env),
    ]
    env = dict(sandbox_env(sandbox), EWS_USERNAME="tmpl", EWS_PASSWORD=template.value)
    run = playbook(PLAY % "".join(rounds), env=env, secrets=[template, pipe, unicode_, token])
    assert run.rc == 0, run.output[-3000:]
    assert run.recap["failed"] == 0 and run.recap["ignored"] == len(rounds)
    assert run.leaks([template, pipe, unicode_, token]) == {}
    assert not marker.exists(), "a template in a secret was evaluated"


def test_credentials_with_control_characters_fail_before_any_request(playbook, sandbox, secrets):
    control, control_token = secrets["control"], secrets["control_token"]
    tasks = """
    - name: Module with a password ending in a line break
      exchange.ews.draft:
        username: tmpl
        password: "{{ lookup('env', '%(password)s') }}"
        key: never
      register: module_password
      ignore_errors: true

    - name: Module with a token ending in a line break
      exchange.ews.send_item:
        auth: oauth2
        password: ""  # not the one in EWS_PASSWORD
        access_token: "{{ lookup('env', '%(token)s') }}"
        item_ids: [AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=]
      register: module_token
      ignore_errors: true

    - name: Lookup with the password from the environment
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids', match_all=true, username='tmpl') }}"
      register: lookup_password
      ignore_errors: true

    - name: Lookup with the token as an argument
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids', match_all=true, auth='oauth2', password='',
                                access_token=lookup('env', '%(token)s')) }}"
      register: lookup_token
      ignore_errors: true

    - name: Each refused, saying why
      ansible.builtin.assert:
        that:
          - module_password.msg is search('password contains a line break')
          - module_token.msg is search('access_token contains a line break')
          - lookup_password.msg is search('password contains a line break')
          - lookup_token.msg is search('access_token contains a line break')
""" % {"password": control.env, "token": control_token.env}
    since = sandbox.admin.requests(since=0)[-1]["seq"] if sandbox.admin.requests(since=0) else 0
    env = dict(sandbox_env(sandbox), EWS_PASSWORD=control.value)
    run = playbook(PLAY % tasks, env=env, secrets=[control, control_token])
    assert run.rc == 0, run.output[-3000:]
    assert run.recap["ignored"] == 4
    assert sandbox.admin.requests(since=since) == []
    assert run.leaks([control, control_token]) == {}


ECHO_ROUTES = ("fault", "html", "bytes", "message", "redirect")


def echoing_answers(username, password):
    """Answers that put every form of ``password`` where a client may quote it."""
    forms = secret_echoes(username, password)
    echoed = " | ".join(forms.values())
    return {
        "fault": hostile.fault("Access denied for " + echoed),
        "html": hostile.html(500, "Error " + echoed),
        "bytes": hostile.status(200, b"<oops>" + echoed.encode("utf-8") + password.encode("latin-1", "replace")),
        "message": hostile.soap(hostile.response_messages("GetItem", [
            hostile.error_message("GetItem", "ErrorAccessDenied", "no: " + echoed)])),
        "redirect": hostile.redirect("https://%s.evil.test/?pw=%s" % (forms["url-encoded"], forms["url-encoded"])),
    }


@pytest.mark.parametrize("auth", ["basic", "oauth2"])
def test_secrets_a_hostile_server_echoes_never_leak(playbook, hostile_server, secrets, auth):
    template, token = secrets["template"], secrets["token"]
    secret = template if auth == "basic" else token
    for route, answer in echoing_answers(secret.login, secret.value).items():
        hostile_server.route(route, answer)
    hostile_server.answer()  # forget earlier requests
    tasks = """
    - name: send_item against every echoing answer
      exchange.ews.send_item:
        url: "%(base)s/{{ item }}/EWS/Exchange.asmx"
        item_ids: [AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=]
      loop: %(routes)s
      ignore_errors: true

    - name: draft against every echoing answer
      exchange.ews.draft:
        url: "%(base)s/{{ item }}/EWS/Exchange.asmx"
        key: echo
      loop: %(routes)s
      ignore_errors: true

    - name: draft_ids against every echoing answer
      ansible.builtin.debug:
        msg: "{{ query('exchange.ews.draft_ids', match_all=true, url='%(base)s/' ~ item ~ '/EWS/Exchange.asmx') }}"
      loop: %(routes)s
      ignore_errors: true
""" % {"routes": list(ECHO_ROUTES), "base": hostile_server.url.rsplit("/EWS/", 1)[0]}
    env = {"EWS_CA_PATH": hostile_server.ca_path, "EWS_AUTH": auth}
    if auth == "basic":
        env.update(EWS_USERNAME=template.login, EWS_PASSWORD=template.value)
    else:
        env.update(EWS_ACCESS_TOKEN=token.value)
    run = playbook(PLAY % tasks, env=env, secrets=[secret])
    assert run.rc == 0 and run.recap["ignored"] == 3, run.output[-3000:]
    routes_hit = set(request.path.split("/")[1] for request in hostile_server.requests)
    assert routes_hit == set(ECHO_ROUTES)
    assert "********" in run.output  # the echo reached the output, masked
    assert run.leaks([secret]) == {}
