"""SOAP headers and FieldURIs are schema-validated like Exchange's: a malformed one is an ErrorSchemaValidation fault."""

from __future__ import annotations

import pytest

from conftest import GET_DRAFTS, envelope, fault_of, post, session_for
from ews_sandbox.namespaces import SOAP

VERSION = '<t:RequestServerVersion Version="Exchange2016"/>'


def impersonation(connecting_sid: str) -> str:
    return f"<t:ExchangeImpersonation><t:ConnectingSID>{connecting_sid}</t:ConnectingSID></t:ExchangeImpersonation>"


def get_item_asking_for(uri: str) -> str:
    return ('<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>'
            f'<t:FieldURI FieldURI="{uri}"/></t:AdditionalProperties></m:ItemShape>'
            '<m:ItemIds><t:ItemId Id="AAMkAAAA" ChangeKey="CQAAAA"/></m:ItemIds></m:GetItem>')


def assert_schema_fault(response, *fragments):
    assert response.status_code == 500, response.text
    fault = fault_of(response)
    assert fault["faultcode"] == "a:ErrorSchemaValidation"
    assert fault["code"] == "ErrorSchemaValidation"
    assert fault["message"] == "The request failed schema validation."
    for fragment in fragments:
        assert fragment in fault["message_xml"]["Violation"]
    assert int(fault["message_xml"]["LineNumber"]) > 0
    return fault


def test_wrong_field_uri_is_a_schema_violation(sandbox):
    response = post(session_for(sandbox), sandbox, envelope(get_item_asking_for("message:IsDraft")), "GetItem")
    assert_schema_fault(response, "FieldURI", "message:IsDraft")


def test_real_field_uri_passes(sandbox):
    response = post(session_for(sandbox), sandbox, envelope(get_item_asking_for("item:IsDraft")), "GetItem")
    assert response.status_code == 200, response.text
    assert b"ErrorInvalidIdMalformed" in response.content or b"ErrorItemNotFound" in response.content


@pytest.mark.parametrize("connecting_sid, fragment", [
    ("<t:EmailAddress>alice@sandbox.test</t:EmailAddress>", "EmailAddress"),          # not one of the four
    ("<t:SID>S-1-5-21-1</t:SID><t:PrimarySmtpAddress>alice@sandbox.test</t:PrimarySmtpAddress>",
     "PrimarySmtpAddress"),                                                             # a choice, not a sequence
    ("<t:PrimarySmtpAddress></t:PrimarySmtpAddress>", "PrimarySmtpAddress"),          # NonEmptyStringType
    ("", "ConnectingSID"),                                                              # no identifier at all
])
def test_malformed_exchange_impersonation_is_a_schema_violation(sandbox, connecting_sid, fragment):
    header = VERSION + impersonation(connecting_sid)
    assert_schema_fault(post(session_for(sandbox, "svc"), sandbox, envelope(GET_DRAFTS, header=header)), fragment)


def test_impersonation_without_connecting_sid_is_a_schema_violation(sandbox):
    header = VERSION + "<t:ExchangeImpersonation/>"
    assert_schema_fault(post(session_for(sandbox, "svc"), sandbox, envelope(GET_DRAFTS, header=header)), "ConnectingSID")


@pytest.mark.parametrize("connecting_sid", [
    "<t:PrimarySmtpAddress>alice@sandbox.test</t:PrimarySmtpAddress>",
    "<t:SmtpAddress>alice@sandbox.test</t:SmtpAddress>",
    "<t:PrincipalName>alice@sandbox.test</t:PrincipalName>",
])
def test_valid_exchange_impersonation_passes(sandbox, connecting_sid):
    header = VERSION + impersonation(connecting_sid)
    response = post(session_for(sandbox, "svc"), sandbox, envelope(GET_DRAFTS, header=header))
    assert response.status_code == 200, response.text
    entry = sandbox.admin.requests()[-1]
    assert (entry["user"], entry["mailbox"]) == ("svc", "alice@sandbox.test")


def test_a_sid_is_schema_valid_and_then_resolved(sandbox):
    header = VERSION + impersonation("<t:SID>S-1-5-21-0-0-0-1001</t:SID>")
    response = post(session_for(sandbox, "svc"), sandbox, envelope(GET_DRAFTS, header=header))
    assert fault_of(response)["code"] == "ErrorNonExistentMailbox"   # past validation: no user has that SID


def test_soap_attributes_on_headers_are_allowed(sandbox):
    header = (f'<t:RequestServerVersion xmlns:s="{SOAP}" s:mustUnderstand="1" Version="Exchange2016"/>'
              f'<t:ExchangeImpersonation xmlns:s="{SOAP}" s:mustUnderstand="0"><t:ConnectingSID>'
              "<t:PrimarySmtpAddress>alice@sandbox.test</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>")
    response = post(session_for(sandbox, "svc"), sandbox, envelope(GET_DRAFTS, header=header))
    assert response.status_code == 200, response.text


def test_unknown_header_attribute_is_a_schema_violation(sandbox):
    header = '<t:RequestServerVersion Version="Exchange2016" Build="15.1"/>'
    assert_schema_fault(post(session_for(sandbox), sandbox, envelope(GET_DRAFTS, header=header)), "Build")


@pytest.mark.parametrize("header, fragment", [
    ("<t:MailboxCulture>not a culture</t:MailboxCulture>", "MailboxCulture"),
    ("<t:DateTimePrecision>Minutes</t:DateTimePrecision>", "DateTimePrecision"),
    ("<t:TimeZoneContext/>", "TimeZoneContext"),
    ("<t:TimeZoneContext><t:TimeZone Id=\"UTC\"/></t:TimeZoneContext>", "TimeZone"),
    ("<t:ManagementRole><t:UserRoles/></t:ManagementRole>", "UserRoles"),
])
def test_other_malformed_headers_are_schema_violations(sandbox, header, fragment):
    assert_schema_fault(post(session_for(sandbox), sandbox, envelope(GET_DRAFTS, header=VERSION + header)), fragment)


@pytest.mark.parametrize("header", [
    "<t:MailboxCulture>de-DE</t:MailboxCulture>",
    "<t:DateTimePrecision>Milliseconds</t:DateTimePrecision>",
    '<t:TimeZoneContext><t:TimeZoneDefinition Id="W. Europe Standard Time"/></t:TimeZoneContext>',
    "<t:ManagementRole><t:UserRoles><t:Role>MailboxSearch</t:Role></t:UserRoles></t:ManagementRole>",
])
def test_other_valid_headers_pass(sandbox, header):
    response = post(session_for(sandbox), sandbox, envelope(GET_DRAFTS, header=VERSION + header))
    assert response.status_code == 200, response.text


def test_unknown_version_is_reported_before_any_header_is_validated(sandbox):
    header = impersonation("<t:EmailAddress>x</t:EmailAddress>") + '<t:RequestServerVersion Version="Exchange2007_SP2"/>'
    response = post(session_for(sandbox, "svc"), sandbox, envelope(GET_DRAFTS, header=header))
    assert fault_of(response)["code"] == "ErrorInvalidServerVersion"


def test_unknown_operation_is_turned_away_before_header_validation(sandbox):
    header = VERSION + "<t:DateTimePrecision>Minutes</t:DateTimePrecision>"
    response = post(session_for(sandbox), sandbox, envelope("<m:GetUserAvailability/>", header=header),
                    "GetUserAvailability")
    assert fault_of(response)["faultcode"] == "a:ActionNotSupported"
