"""Request validation against the project's schema, and its absence before the schema exists."""

from __future__ import annotations

import logging

import pytest
from lxml import etree

from ews_sandbox import validation
from ews_sandbox.errors import SchemaValidationError
from ews_sandbox.namespaces import M

TINY_SCHEMA = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{M}"
    xmlns:m="{M}" elementFormDefault="qualified">
  <xs:element name="Ping"><xs:complexType><xs:sequence>
    <xs:element name="Count" type="xs:int"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""


@pytest.fixture
def tiny_schema(tmp_path, monkeypatch):
    (tmp_path / validation.ENTRY_SCHEMA).write_text(TINY_SCHEMA)
    monkeypatch.setattr(validation, "_compiled", validation._compile(tmp_path))


def ping(count: str) -> etree._Element:
    document = etree.fromstring(f'<s:Envelope xmlns:s="x" xmlns:m="{M}">\n<s:Body>\n'
                                f"<m:Ping><m:Count>{count}</m:Count></m:Ping></s:Body></s:Envelope>")
    return document[0][0]


def test_valid_body_passes(tiny_schema):
    validation.validate_body(ping("3"))


def test_violation_reports_the_line_in_the_whole_request(tiny_schema):
    with pytest.raises(SchemaValidationError) as error:
        validation.validate_body(ping("three"))
    assert error.value.line == 3
    assert "three" in error.value.violation
    assert error.value.code == "ErrorSchemaValidation"


def test_undeclared_body_element(tiny_schema):
    with pytest.raises(SchemaValidationError, match="Pong"):
        validation.validate_body(etree.fromstring(f'<m:Pong xmlns:m="{M}"/>'))


def test_undeclared_header_elements_are_ignored(tiny_schema):
    validation.validate_header(etree.fromstring('<t:TimeZoneContext xmlns:t="urn:x"/>'))


def test_without_a_schema_nothing_is_validated(tmp_path, monkeypatch, caplog):
    with caplog.at_level(logging.WARNING, logger="ews_sandbox.validation"):
        compiled = validation._compile(tmp_path)
    assert compiled.schema is None and "not validated" in caplog.text
    monkeypatch.setattr(validation, "_compiled", compiled)
    validation.validate_body(ping("three"))
