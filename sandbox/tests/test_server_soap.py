"""Envelope handling: Exchange-shaped faults for bad XML, wrong namespaces, versions and impersonation."""

from __future__ import annotations

import pytest
from lxml import etree

from conftest import GET_DRAFTS, envelope, fault_of, post, session_for
from ews_sandbox.namespaces import M, SOAP, T

HTTPS_M = "https://schemas.microsoft.com/exchange/services/2006/messages"


def impersonating(smtp: str) -> str:
    return ('<t:RequestServerVersion Version="Exchange2016"/>'
            f"<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{smtp}</t:PrimarySmtpAddress>"
            "</t:ConnectingSID></t:ExchangeImpersonation>")


def test_success_carries_server_version_info(sandbox):
    response = post(session_for(sandbox), sandbox, envelope(GET_DRAFTS))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    info = etree.fromstring(response.content).find(f"{{{SOAP}}}Header/{{{T}}}ServerVersionInfo")
    assert info.get("MajorVersion") == "15" and info.get("MinorVersion") == "1"
    assert info.get("Version") == "V2017_07_11"


def test_older_request_versions_are_echoed(sandbox):
    response = post(session_for(sandbox), sandbox,
                    envelope(GET_DRAFTS, header='<t:RequestServerVersion Version="Exchange2010_SP2"/>'))
    info = etree.fromstring(response.content).find(f"{{{SOAP}}}Header/{{{T}}}ServerVersionInfo")
    assert info.get("Version") == "Exchange2010_SP2"


def test_https_namespace_of_the_documentation_is_a_schema_violation(sandbox):
    body = GET_DRAFTS.replace("<m:", "<x:").replace("</m:", "</x:").replace("<x:GetFolder>", f'<x:GetFolder xmlns:x="{HTTPS_M}">')
    response = post(session_for(sandbox), sandbox, envelope(body))
    assert response.status_code == 500
    fault = fault_of(response)
    assert fault["faultcode"] == "a:ErrorSchemaValidation"
    assert fault["faultstring"].startswith("The request failed schema validation: ")
    assert HTTPS_M in fault["faultstring"]
    assert fault["code"] == "ErrorSchemaValidation"
    assert fault["message"] == "The request failed schema validation."
    assert fault["message_xml"]["LineNumber"] == "4"
    assert fault["server_version"] is not None


def test_faultcode_prefix_is_bound_to_the_types_namespace(sandbox):
    response = post(session_for(sandbox), sandbox, envelope(GET_DRAFTS.replace("<m:GetFolder>", f'<m:GetFolder xmlns:m="{HTTPS_M}">')))
    faultcode = etree.fromstring(response.content).find(f".//{{{SOAP}}}Fault/faultcode")
    assert faultcode.nsmap["a"] == T


def test_malformed_xml_gives_line_and_position(sandbox):
    data = envelope(GET_DRAFTS).replace(b"</m:GetFolder>", b"</m:GetFolderX>")
    response = post(session_for(sandbox), sandbox, data)
    assert response.status_code == 500
    fault = fault_of(response)
    assert fault["code"] == "ErrorSchemaValidation"
    assert fault["message_xml"]["LineNumber"] == "4"
    assert int(fault["message_xml"]["LinePosition"]) > 0
    assert fault["message_xml"]["Violation"]


def test_entities_are_not_expanded(sandbox):
    data = (b'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + envelope(GET_DRAFTS).split(b"?>", 1)[1])
    response = post(session_for(sandbox), sandbox, data)
    assert fault_of(response)["code"] == "ErrorSchemaValidation"
    assert b"root:" not in response.content


def test_soap_12_envelope_is_rejected(sandbox):
    data = envelope(GET_DRAFTS).replace(SOAP.encode(), b"http://www.w3.org/2003/05/soap-envelope")
    assert fault_of(post(session_for(sandbox), sandbox, data))["code"] == "ErrorSchemaValidation"


def test_empty_body_is_rejected(sandbox):
    assert fault_of(post(session_for(sandbox), sandbox, envelope("")))["code"] == "ErrorSchemaValidation"


@pytest.mark.parametrize("version", ["Exchange2099", "Exchange2007_SP2", ""])
def test_unknown_request_server_version(sandbox, version):
    header = f'<t:RequestServerVersion Version="{version}"/>'
    response = post(session_for(sandbox), sandbox, envelope(GET_DRAFTS, header=header))
    assert response.status_code == 500
    fault = fault_of(response)
    assert fault["faultcode"] == "a:ErrorInvalidServerVersion"
    assert fault["message"] == "The specified server version is invalid."


def test_unknown_operation_gets_wcf_action_not_supported(sandbox):
    response = post(session_for(sandbox), sandbox, envelope("<m:GetUserAvailability/>"), "GetUserAvailability")
    assert response.status_code == 500
    fault = fault_of(response)
    assert fault["faultcode"] == "a:ActionNotSupported"
    assert f"{M}/GetUserAvailability" in fault["faultstring"]


def test_impersonation_without_the_right_is_denied(sandbox):
    response = post(session_for(sandbox, "alice"), sandbox, envelope(GET_DRAFTS, header=impersonating("bob@sandbox.test")))
    assert response.status_code == 500
    fault = fault_of(response)
    assert fault["faultcode"] == "a:ErrorImpersonateUserDenied"
    assert fault["code"] == "ErrorImpersonateUserDenied"


def test_impersonation_of_an_unknown_mailbox(sandbox):
    response = post(session_for(sandbox, "svc"), sandbox, envelope(GET_DRAFTS, header=impersonating("nobody@sandbox.test")))
    assert fault_of(response)["code"] == "ErrorNonExistentMailbox"


def test_impersonation_acts_as_the_target_mailbox(sandbox):
    response = post(session_for(sandbox, "svc"), sandbox, envelope(GET_DRAFTS, header=impersonating("Carol@Sandbox.Test")))
    assert response.status_code == 200, response.text
    entry = sandbox.admin.requests()[-1]
    assert (entry["user"], entry["mailbox"]) == ("svc", "carol@sandbox.test")


def test_request_log_counts_item_ids(sandbox):
    ids = "".join(f'<t:ItemId Id="AAMk{n}" ChangeKey="CQ"/>' for n in range(3))
    body = f'<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds>{ids}</m:ItemIds></m:GetItem>'
    post(session_for(sandbox), sandbox, envelope(body), "GetItem")
    entry = sandbox.admin.requests()[-1]
    assert (entry["operation"], entry["items"]) == ("GetItem", 3)


def test_schema_violation_names_line_and_position(sandbox):
    body = ('<m:GetFolder>\n<m:FolderShape><t:BaseShape>Everything</t:BaseShape></m:FolderShape>'
            '<m:FolderIds><t:DistinguishedFolderId Id="drafts"/></m:FolderIds></m:GetFolder>')
    response = post(session_for(sandbox), sandbox, envelope(body))
    assert response.status_code == 500
    fault = fault_of(response)
    assert fault["code"] == "ErrorSchemaValidation"
    assert "Everything" in fault["message_xml"]["Violation"]
    assert fault["message_xml"]["LineNumber"] == "5"
    assert fault["faultstring"] == "The request failed schema validation: " + fault["message_xml"]["Violation"]
