# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ConnectionSettings: every option checked before any request, credentials never quoted."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import errors
from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings

PASSWORD = "Pässw0rd-{{ 6*7 }}-Kx93Lq"
TOKEN = "eyJhbGciOi.Zm9vYmFy.Qw8Er5Ty"


def settings(**overrides):
    params = {"url": "https://ews.example.test/EWS/Exchange.asmx", "username": "alice", "password": PASSWORD}
    params.update(overrides)
    return ConnectionSettings.from_params(params)


def refusal(**overrides):
    with pytest.raises(errors.EwsConfigError) as caught:
        settings(**overrides)
    return str(caught.value)


@pytest.mark.parametrize("overrides, fragment", [
    ({"url": None}, "url"),
    ({"auth": "oauth2"}, "access_token"),
    ({"password": None}, "username and password"),
    ({"server_version": "Exchange2003"}, "server_version"),
    ({"culture": "en_US"}, "culture must be a language tag"),
    ({"culture": "en-US\n"}, "culture must be a language tag"),
    ({"validate_certs": "ture"}, "validate_certs: 'ture' is not a boolean"),
    ({"validate_certs": "enabled"}, "validate_certs: 'enabled' is not a boolean"),
    ({"allow_http": "nope"}, "allow_http: 'nope' is not a boolean"),
    ({"timeout": "inf"}, "timeout must be a finite number"),
    ({"timeout": "soon"}, "timeout must be a number"),
    ({"timeout": 0}, "timeout must be more than 0"),
    ({"max_response_mb": 0}, "max_response_mb must be between 1 and 2048"),
    ({"retries": "many"}, "retries must be a number"),
    ({"impersonate": "Alice Smith"}, "impersonate: 'Alice Smith' is not an SMTP address"),
    ({"ca_path": "/nonexistent/ca.pem"}, "ca_path /nonexistent/ca.pem does not exist"),
    ({"url": "ftp://ews.example.test/"}, "url must be https://"),
    ({"url": "https:///EWS/Exchange.asmx"}, "url must be https://"),
    ({"url": "https://ews.example.test\x00/EWS"}, "url contains a control character"),
])
def test_settings_refused(overrides, fragment):
    assert fragment in refusal(**overrides)


@pytest.mark.parametrize("overrides", [
    {"password": PASSWORD + "\n"},
    {"auth": "oauth2", "access_token": TOKEN + "\n"},
    {"auth": "oauth2", "access_token": TOKEN + "\x1b[0m"},
    {"password": "\t" + PASSWORD},
])
def test_credentials_with_control_characters_are_refused_and_never_quoted(overrides):
    message = refusal(**overrides)
    assert "Kx93Lq" not in message and "Qw8Er5Ty" not in message
    assert "line break" in message or "control character" in message


def test_credentials_in_the_url_are_refused_and_not_quoted():
    message = refusal(url="https://alice:%s@ews.example.test/EWS/Exchange.asmx" % PASSWORD)
    assert "must not carry credentials" in message and "Kx93Lq" not in message


def test_plain_http_needs_allow_http():
    assert "Use https://, or set allow_http=true" in refusal(url="http://ews.example.test/EWS/Exchange.asmx")


@pytest.mark.parametrize("overrides, what", [
    ({"auth": "basic"}, "password"),
    ({"auth": "oauth2", "access_token": TOKEN}, "token"),
])
def test_basic_and_bearer_are_refused_over_http_even_when_allowed(overrides, what):
    message = refusal(url="http://ews.example.test/EWS/Exchange.asmx", allow_http=True, **overrides)
    assert "sends the %s in clear over http://" % what in message


def test_ntlm_over_allowed_http_warns_every_time_naming_the_host():
    connection = settings(url="http://ews.example.test/EWS/Exchange.asmx", allow_http="yes")
    assert connection.warnings == ("url http://ews.example.test/EWS/Exchange.asmx is plain http:// (allow_http=true): "
                                   "requests to ews.example.test and their answers travel unencrypted",)


def test_no_certificate_check_warns_naming_the_host():
    (warning,) = settings(validate_certs="false").warnings
    assert "validate_certs=false" in warning and "ews.example.test" in warning
    assert settings().warnings == ()


def test_secrets_hold_every_form_of_each_credential():
    forms = settings(auth="basic").secrets
    basic = base64.b64encode(("alice:" + PASSWORD).encode("utf-8")).decode("ascii")
    for form in (PASSWORD, "P%C3%A4ssw0rd-%7B%7B%206%2A7%20%7D%7D-Kx93Lq", basic, "P\\xc3\\xa4ssw0rd-{{ 6*7 }}-Kx93Lq",
                 "P\\u00e4ssw0rd-{{ 6*7 }}-Kx93Lq", "P\\xe4ssw0rd-{{ 6*7 }}-Kx93Lq"):
        assert form in forms
    assert TOKEN in settings(auth="oauth2", access_token=TOKEN).secrets


def test_settings_repr_hides_secrets():
    assert "Kx93Lq" not in repr(settings())
