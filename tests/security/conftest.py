# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The security suite: real ansible-playbook runs at -vvvv against the sandbox and a hostile server.

Run by ``make security`` (part of ``make test``, on both ansible-core legs):

    PYTHONPATH=build/collections .venv/bin/python -m pytest tests/security

Secrets hold template syntax, control characters and non-ASCII characters, and
each test searches the whole output of the run for every form of every secret
(``tests/unit/utils/leaks.py``).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ews_sandbox.testing import Sandbox

from ansible_collections.exchange.ews.tests.unit.utils import hostile_server as hostile
from ansible_collections.exchange.ews.tests.unit.utils.leaks import leaked_forms
from ansible_collections.exchange.ews.tests.utils.playbook_run import PlaybookRun

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")

# Each secret has a distinctive run of letters and digits that the leak search looks for in any escaping.
TEMPLATE_PASSWORD = "Pw-{{ 6*7 }}-{# c #}-{% raw %}-Tq8Wz3Rk-\u00e9"
UNICODE_PASSWORD = "\u00dcn\u00efc\u00f8d\u00e9-\u20ac-Mz5Bx2Cw"
TOKEN = "tok.{{ 6*7 }}.Rv6Yn1Dq"


class Secret:
    """A credential as a test hands it over (``env`` names the variable holding it) and checks for it."""

    def __init__(self, login, value, env):
        self.login = login
        self.value = value
        self.env = env

    def leaks(self, output):
        return leaked_forms(output, self.login, self.value)


@pytest.fixture(scope="session")
def marker(tmp_path_factory):
    """A file a template in a secret would create if anything templated it."""
    return tmp_path_factory.mktemp("marker") / "templated"


@pytest.fixture(scope="session")
def secrets(marker):
    pipe = "{{ lookup('ansible.builtin.pipe', 'touch %s') }}-Pp5Gd8Lx" % marker
    return {
        "template": Secret("tmpl", TEMPLATE_PASSWORD, "SECRET_TEMPLATE"),
        "pipe": Secret("pipe", pipe, "SECRET_PIPE"),
        "unicode": Secret("uni", UNICODE_PASSWORD, "SECRET_UNICODE"),
        "token": Secret(None, TOKEN, "SECRET_TOKEN"),
        "control": Secret("tmpl", TEMPLATE_PASSWORD + "\n", "SECRET_CONTROL"),
        "control_token": Secret(None, TOKEN + "\n", "SECRET_CONTROL_TOKEN"),
    }


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory, secrets):
    """A sandbox whose users have the hostile secrets as passwords (so a run that sends them literally works)."""
    users = [{"login": secret.login, "password": secret.value, "smtp": "%s@sandbox.test" % secret.login}
             for name, secret in secrets.items() if name in ("template", "pipe", "unicode")]
    users[0]["tokens"] = [TOKEN]
    users_file = tmp_path_factory.mktemp("users") / "users.yml"
    users_file.write_text(yaml.safe_dump({"users": users}, allow_unicode=True), encoding="utf-8")
    with Sandbox(users_file=users_file) as running:
        yield running


@pytest.fixture(scope="session")
def hostile_server():
    with hostile.HostileServer() as running:
        yield running


class Run(PlaybookRun):
    """One ansible-playbook run, searched for secrets."""

    def leaks(self, secrets):
        """{secret's variable: forms of it found in the output}, for the secrets that leaked."""
        found = dict((secret.env, secret.leaks(self.output)) for secret in secrets)
        return dict((name, forms) for name, forms in found.items() if forms)


@pytest.fixture
def playbook(tmp_path):
    """``playbook(text, env=None, secrets=())``: run the YAML ``text`` with ansible-playbook -vvvv.

    ``secrets`` are handed over as environment variables (``Secret.env``), the
    way AWX hands credentials over; ``env`` adds others (EWS_URL...).
    """
    def run(text, env=None, secrets=()):
        path = tmp_path / "playbook.yml"
        path.write_text(text, encoding="utf-8")
        # Only what the test gives: no EWS_* of the caller, no PYTHONPATH (Ansible finds the collection itself).
        environment = dict((name, value) for name, value in os.environ.items()
                           if not name.startswith("EWS_") and name != "PYTHONPATH")
        environment.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / "build" / "collections"))
        environment.update(ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
                           ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_RETRY_FILES_ENABLED="false")
        environment.update(dict((secret.env, secret.value) for secret in secrets))
        environment.update(env or {})
        completed = subprocess.run([ANSIBLE_PLAYBOOK, "-vvvv", str(path)], cwd=str(tmp_path), env=environment,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600, check=False)
        return Run(completed.returncode, completed.stdout.decode("utf-8", "replace"))
    return run
