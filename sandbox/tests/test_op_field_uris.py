"""FieldURI / IndexedFieldURI values: the schema knows every one Exchange knows and nothing else;
the operations answer a known URI the sandbox does not model without failing the request."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from ews_sandbox import validation
from ews_sandbox.errors import SchemaValidationError
from ews_sandbox.namespaces import qm, qt
from ews_sandbox.operations.properties import FIELDS, FIELDS_BY_URI, UNMODELLED_NOT_IN_FIND_ITEM

from ews_test_support import Env, item_ids, messages, parse

XS = "http://www.w3.org/2001/XMLSchema"
TYPES = etree.parse(str(Path(validation.__file__).parent / "schema" / "types.xsd"))


def enumeration(simple_type: str) -> list[str]:
    return TYPES.xpath("//xs:simpleType[@name=$name]//xs:enumeration/@value", namespaces={"xs": XS}, name=simple_type)


URIS = enumeration("UnindexedFieldURIType")
DICTIONARY_URIS = enumeration("DictionaryURIType")
PATHS = ([f'<t:FieldURI FieldURI="{uri}"/>' for uri in URIS]
         + [f'<t:IndexedFieldURI FieldURI="{uri}" FieldIndex="Business"/>' for uri in DICTIONARY_URIS])
DRAFTS = '<m:ParentFolderIds><t:DistinguishedFolderId Id="drafts"/></m:ParentFolderIds>'


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return Env(tmp_path_factory.mktemp("field-uris"))


def get_item(uri: str, item_id: str = "AAMkX") -> etree._Element:
    return parse(f'<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>'
                 f'<t:FieldURI FieldURI="{uri}"/></t:AdditionalProperties></m:ItemShape>'
                 f'<m:ItemIds><t:ItemId Id="{item_id}"/></m:ItemIds></m:GetItem>')


# -- the schema ---------------------------------------------------------------------------------

def test_the_enumeration_is_exchanges_not_a_pattern():
    assert len(URIS) == len(set(URIS)) > 350
    for uri in ("folder:DisplayName", "item:IsDraft", "message:IsRead", "meetingRequest:MeetingRequestType",
                "calendar:Start", "task:DueDate", "contacts:GivenName", "distributionlist:Members",
                "postitem:PostedTime", "conversation:ConversationId", "persona:DisplayName"):
        assert uri in URIS


@pytest.mark.parametrize("uri", ["message:IsDraft", "item:Isdraft", "item:IsRead", "message:Subject", "item:Nonsense"])
def test_a_wrong_field_uri_fails_schema_validation(uri):
    with pytest.raises(SchemaValidationError) as error:
        validation.validate_body(get_item(uri))
    assert error.value.code == "ErrorSchemaValidation"
    assert uri in error.value.violation


def test_the_real_field_uris_pass():
    for uri in URIS:
        validation.validate_body(get_item(uri))


def test_indexed_field_uris_are_enumerated_too():
    body = ('<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
            '<m:Restriction><t:Exists><t:IndexedFieldURI FieldURI="%s" FieldIndex="Business"/></t:Exists>'
            '</m:Restriction>' + DRAFTS + '</m:FindItem>')
    validation.validate_body(parse(body % "contacts:PhoneNumber"))
    with pytest.raises(SchemaValidationError, match="contacts:PhoneNumbers"):
        validation.validate_body(parse(body % "contacts:PhoneNumbers"))


def test_every_property_the_sandbox_models_is_a_real_uri():
    assert {f.uri for f in FIELDS if f.uri in FIELDS_BY_URI} <= set(URIS)
    assert UNMODELLED_NOT_IN_FIND_ITEM <= set(URIS)


def test_every_uri_exchangelib_can_send_is_listed():
    exchangelib = pytest.importorskip("exchangelib")
    from exchangelib.fields import FieldURIField, IndexedField

    classes = [getattr(exchangelib, name) for name in ("Message", "CalendarItem", "Contact", "DistributionList",
                                                         "Task", "PostItem", "Folder")]
    sent, indexed = set(), set()
    for cls in classes:
        for f in cls.FIELDS:
            if isinstance(f, IndexedField):
                indexed.add(f.field_uri)
            elif isinstance(f, FieldURIField) and f.field_uri and ":" in f.field_uri:
                sent.add(f.field_uri)
    assert sent - set(URIS) == set()
    # exchangelib's indexed fields send "<field_uri>" or "<field_uri>:<part>", e.g. contacts:PhysicalAddress:Street
    assert indexed
    for uri in indexed:
        assert uri in DICTIONARY_URIS or any(known.startswith(uri + ":") for known in DICTIONARY_URIS), uri


# -- operations answer every known URI --------------------------------------------------------

def run_all(env, operation: str, template: str, **values) -> dict:
    """ResponseCode -> count for the request ``template`` (with ``{path}``) run for every known path."""
    codes: dict = {}
    for path in PATHS:
        response = env.call(operation, template.format(path=path, **values))   # schema-valid, or it raises
        for _, code, _ in messages(response):
            codes[code] = codes.get(code, 0) + 1
    return codes


def test_get_item_leaves_unmodelled_properties_out(env):
    draft = env.draft(subject="Known")
    codes = run_all(env, "GetItem", '<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>'
                    '{path}</t:AdditionalProperties></m:ItemShape><m:ItemIds>{ids}</m:ItemIds></m:GetItem>',
                    ids=item_ids(draft))
    assert codes == {"NoError": len(PATHS)}
    (_, _, message), = messages(env.call("GetItem", """<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>
        <t:AdditionalProperties><t:FieldURI FieldURI="item:InReplyTo"/><t:FieldURI FieldURI="calendar:Start"/>
        <t:FieldURI FieldURI="item:Subject"/></t:AdditionalProperties></m:ItemShape>
        <m:ItemIds>%s</m:ItemIds></m:GetItem>""" % item_ids(draft)))
    item = message.find(qm("Items")).find(qt("Message"))
    assert [etree.QName(child).localname for child in item] == ["ItemId", "Subject"]


def test_find_item_shape_refuses_only_what_find_item_never_returns(env):
    env.draft()
    codes = run_all(env, "FindItem", '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
                    '<t:AdditionalProperties>{path}</t:AdditionalProperties></m:ItemShape>' + DRAFTS + '</m:FindItem>')
    refused = len(UNMODELLED_NOT_IN_FIND_ITEM) + sum(1 for f in FIELDS_BY_URI.values() if not f.in_find_item)
    assert codes == {"NoError": len(PATHS) - refused, "ErrorInvalidPropertyRequest": refused}


@pytest.mark.parametrize("expression", [
    '<t:IsEqualTo>{path}<t:FieldURIOrConstant><t:Constant Value="1"/></t:FieldURIOrConstant></t:IsEqualTo>',
    "<t:Exists>{path}</t:Exists>",
])
def test_restrictions_on_unmodelled_properties_are_item_errors(env, expression):
    codes = run_all(env, "FindItem", '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
                    "</m:ItemShape><m:Restriction>" + expression + "</m:Restriction>" + DRAFTS + "</m:FindItem>")
    assert set(codes) <= {"NoError", "ErrorInvalidPropertyRequest", "ErrorUnsupportedPathForQuery",
                          "ErrorInvalidValueForProperty"}
    assert codes["ErrorInvalidPropertyRequest"] == len(PATHS) - len(FIELDS_BY_URI)


def test_sorting_on_unmodelled_properties_is_an_item_error(env):
    codes = run_all(env, "FindItem", '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
                    '</m:ItemShape><m:SortOrder><t:FieldOrder Order="Ascending">{path}</t:FieldOrder></m:SortOrder>'
                    + DRAFTS + "</m:FindItem>")
    assert set(codes) <= {"NoError", "ErrorInvalidPropertyRequest", "ErrorUnsupportedPathForQuery"}
    assert codes["ErrorInvalidPropertyRequest"] == len(PATHS) - len(FIELDS_BY_URI)


def test_the_error_names_the_property(env):
    (_, code, message), = messages(env.call("FindItem", """<m:FindItem Traversal="Shallow">
        <m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>
        <m:Restriction><t:Exists><t:FieldURI FieldURI="item:ReminderIsSet"/></t:Exists></m:Restriction>%s
        </m:FindItem>""" % DRAFTS))
    assert code == "ErrorInvalidPropertyRequest"
    assert "item:ReminderIsSet" in message.findtext(qm("MessageText"))


def test_update_item_delete_of_any_known_property_is_answered(env):
    codes: dict = {}
    for path in PATHS:
        item_id, _ = env.draft()
        response = env.call("UpdateItem", f"""<m:UpdateItem ConflictResolution="AlwaysOverwrite" MessageDisposition="SaveOnly">
            <m:ItemChanges><t:ItemChange><t:ItemId Id="{item_id}"/><t:Updates>
              <t:DeleteItemField>{path}</t:DeleteItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>""")
        (_, code, _), = messages(response)
        codes[code] = codes.get(code, 0) + 1
    assert set(codes) == {"NoError", "ErrorInvalidPropertyRequest", "ErrorInvalidPropertyDelete"}


def test_is_read_cannot_be_deleted(env):
    item_id, _ = env.draft()
    (_, code, _), = messages(env.call("UpdateItem", f"""<m:UpdateItem ConflictResolution="AlwaysOverwrite"
        MessageDisposition="SaveOnly"><m:ItemChanges><t:ItemChange><t:ItemId Id="{item_id}"/><t:Updates>
        <t:DeleteItemField><t:FieldURI FieldURI="message:IsRead"/></t:DeleteItemField></t:Updates></t:ItemChange>
        </m:ItemChanges></m:UpdateItem>"""))
    assert code == "ErrorInvalidPropertyDelete"


def test_get_folder_answers_every_known_uri(env):
    codes = run_all(env, "GetFolder", '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape>'
                    '<t:AdditionalProperties>{path}</t:AdditionalProperties></m:FolderShape>'
                    '<m:FolderIds><t:DistinguishedFolderId Id="drafts"/></m:FolderIds></m:GetFolder>')
    assert codes == {"NoError": len(PATHS)}
