# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EwsModule: the argument spec, the checks before any request, warnings, and clean failures."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from ansible.module_utils import _internal as ansible_internal
from ansible.module_utils.testing import patch_module_args

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsFault
from ansible_collections.exchange.ews.plugins.module_utils.ews_module import EwsModule
from ansible_collections.exchange.ews.tests.unit.utils.leaks import leaked_forms

USERNAME = "alice"
PASSWORD = "Pw-{{ 6*7 }}-\u00e9-Hv5Kq2Zr"
CONNECTION = {"url": "https://ews.example.test/EWS/Exchange.asmx", "username": USERNAME, "password": PASSWORD}
OWN_OPTIONS = dict(key=dict(type="str", required=True, no_log=False), tags=dict(type="list", elements="str"))


def run(args, work=None):
    """The module's JSON output and exit code after building it with ``args`` and running ``work(module)``."""
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(SystemExit) as exited:
            module = EwsModule(argument_spec=OWN_OPTIONS)
            work(module)
    return exited.value.code


def output(capsys):
    text = capsys.readouterr().out
    return json.loads(text), text


def test_connection_and_own_options_are_both_parsed(capsys):
    def work(module):
        module.exit_json(key=module.params["key"], retries=module.params["retries"],
                         max_response_mb=module.params["max_response_mb"], host=module.connection.host)

    assert run({"key": "k1", "retries": 2}, work) == 0
    result = output(capsys)[0]
    observed = (result["key"], result["retries"], result["max_response_mb"], result["host"])
    assert observed == ("k1", 2, 16, "ews.example.test")


def test_partial_results_are_kept_when_a_later_step_fails(capsys):
    def work(module):
        module.fail_from(EwsFault("no", operation="SendItem", response_code="ErrorServerBusy"),
                         results=[{"id": "A", "status": "sent"}])

    assert run({"key": "k"}, work) == 1
    result = output(capsys)[0]
    assert result["failed"] and result["results"] == [{"id": "A", "status": "sent"}]
    assert result["response_code"] == "ErrorServerBusy" and "EWS SendItem failed" in result["msg"]


def test_any_exception_is_a_clean_failure_without_a_secret_or_a_traceback(capsys):
    basic = "Basic " + __import__("base64").b64encode(("%s:%s" % (USERNAME, PASSWORD)).encode()).decode()

    def work(module):
        with module.reporting_failures():
            raise RuntimeError("library said %r and %s" % (PASSWORD.encode("utf-8"), basic))

    assert run({"key": "k"}, work) == 1
    result, text = output(capsys)
    assert result["msg"].startswith("unexpected RuntimeError: library said")
    assert "exception" not in result and "Traceback" not in text
    assert leaked_forms(text, USERNAME, PASSWORD) == []


@pytest.mark.parametrize("args, fragment", [
    ({"key": "k", "tags": ["ok", "bell\x07"]}, "tags[1] contains U+0007"),
    ({"key": "k", "validate_certs": "ture"}, "validate_certs"),
    ({"key": "k", "password": PASSWORD + "\n"}, "password contains a line break"),
    ({"key": "k", "url": "http://ews.example.test/EWS/Exchange.asmx"}, "allow_http"),
])
def test_unusable_options_fail_before_any_request(capsys, args, fragment):
    assert run(args, lambda module: module.exit_json(reached=True)) == 1
    result, text = output(capsys)
    assert fragment in result["msg"] and "reached" not in result
    assert leaked_forms(text, USERNAME, PASSWORD) == []


def test_client_warnings_reach_the_task(capsys, monkeypatch):
    def work(module):
        with module.client():
            module.exit_json()

    # A module runs on the target. Once a test in this process imported controller code (the lookup), ansible-core
    # would send module warnings to the controller's display instead of the result.
    monkeypatch.setattr(ansible_internal, "is_controller", False, raising=False)
    assert run({"key": "k", "validate_certs": False}, work) == 0
    (warning,) = output(capsys)[0]["warnings"]
    text = json.dumps(warning)  # a string, or a structured warning on newer ansible-core
    assert "validate_certs=false" in text and "ews.example.test" in text
