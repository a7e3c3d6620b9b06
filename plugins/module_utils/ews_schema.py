# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WSDL and XSD subset of Exchange Web Services that this collection uses.

Written by us (not copied from Exchange's Services.wsdl) and kept as Python
strings because AnsiballZ ships only Python modules to the target. The
documents are served from memory by ``transport.EmbeddedSchemaTransport``;
their locations use the reserved ``.invalid`` domain so that nothing could
ever be fetched from the network even by mistake.

What the subset models, and why:

* Request bodies of GetItem, UpdateItem, SendItem, FindItem, CreateItem,
  DeleteItem and GetFolder are typed, so zeep validates a request given as
  keyword values (``EwsClient.call(operation, **body)``). The services build
  their requests as lxml elements instead (``services/common.py``); for
  CreateAttachment and DeleteAttachment, which only they send, the subset
  declares the request elements loosely (the binding needs them) and the
  Exchange schema's order is kept by the services.
* Where Exchange's schema uses a choice repeated without bound (the items of
  ``ItemIds``, ``Updates``, ``Items``), the subset uses a sequence of
  repeated elements: every document it accepts is valid for Exchange, and
  zeep serialises it from plain keyword lists.
* Search expressions (``Restriction``) are an abstract element with a
  substitution group in Exchange's schema, which zeep cannot serialise; the
  subset accepts any element of the types namespace there, and callers pass
  lxml elements built by ``restrictions.py``.
* Response messages are left unparsed by zeep (``xsd:any``,
  ``processContents="skip"``): ``responses.py`` reads them with lxml, which
  keeps a 1,000-item response cheap and lets every operation share one parser.
* Headers: RequestServerVersion, ExchangeImpersonation, MailboxCulture in;
  ServerVersionInfo out.

The ``wsdl:service`` address is a placeholder: ``client.EwsClient`` binds the
service to the configured endpoint at run time.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MESSAGES_NS = "http://schemas.microsoft.com/exchange/services/2006/messages"
TYPES_NS = "http://schemas.microsoft.com/exchange/services/2006/types"
SOAP_ACTION_PREFIX = MESSAGES_NS + "/"
# Prefix map and Clark-notation prefixes ("{ns}") for building and reading EWS XML with lxml.
NSMAP = {"m": MESSAGES_NS, "t": TYPES_NS}
M = "{%s}" % MESSAGES_NS
T = "{%s}" % TYPES_NS

_BASE = "https://schemas.exchange-ews.invalid/"
WSDL_URL = _BASE + "services.wsdl"
TYPES_URL = _BASE + "types.xsd"
MESSAGES_URL = _BASE + "messages.xsd"

# Values of RequestServerVersion/@Version the schema accepts (ExchangeVersionType).
SERVER_VERSIONS = (
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2016",
)
DEFAULT_SERVER_VERSION = "Exchange2013_SP1"

OPERATIONS = ("GetItem", "UpdateItem", "SendItem", "FindItem", "CreateItem",
              "DeleteItem", "GetFolder", "CreateAttachment", "DeleteAttachment")

TYPES_XSD = """<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
           targetNamespace="http://schemas.microsoft.com/exchange/services/2006/types"
           elementFormDefault="qualified">

  <!-- Headers -->
  <xs:simpleType name="ExchangeVersionType">
    <xs:restriction base="xs:string">
%(versions)s
    </xs:restriction>
  </xs:simpleType>
  <xs:element name="RequestServerVersion">
    <xs:complexType>
      <xs:attribute name="Version" type="t:ExchangeVersionType" use="required"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="ServerVersionInfo">
    <xs:complexType>
      <xs:attribute name="MajorVersion" type="xs:int"/>
      <xs:attribute name="MinorVersion" type="xs:int"/>
      <xs:attribute name="MajorBuildNumber" type="xs:int"/>
      <xs:attribute name="MinorBuildNumber" type="xs:int"/>
      <xs:attribute name="Version" type="xs:string"/>
    </xs:complexType>
  </xs:element>
  <xs:complexType name="ConnectingSIDType">
    <xs:choice>
      <xs:element name="PrincipalName" type="xs:string"/>
      <xs:element name="SID" type="xs:string"/>
      <xs:element name="PrimarySmtpAddress" type="xs:string"/>
      <xs:element name="SmtpAddress" type="xs:string"/>
    </xs:choice>
  </xs:complexType>
  <xs:element name="ExchangeImpersonation">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="ConnectingSID" type="t:ConnectingSIDType"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:element name="MailboxCulture" type="xs:string"/>

  <!-- Ids -->
  <xs:complexType name="ItemIdType">
    <xs:attribute name="Id" type="xs:string" use="required"/>
    <xs:attribute name="ChangeKey" type="xs:string" use="optional"/>
  </xs:complexType>
  <xs:complexType name="FolderIdType">
    <xs:attribute name="Id" type="xs:string" use="required"/>
    <xs:attribute name="ChangeKey" type="xs:string" use="optional"/>
  </xs:complexType>
  <xs:complexType name="EmailAddressType">
    <xs:sequence>
      <xs:element name="Name" type="xs:string" minOccurs="0"/>
      <xs:element name="EmailAddress" type="xs:string" minOccurs="0"/>
      <xs:element name="RoutingType" type="xs:string" minOccurs="0"/>
      <xs:element name="MailboxType" type="xs:string" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="DistinguishedFolderIdType">
    <xs:sequence>
      <xs:element name="Mailbox" type="t:EmailAddressType" minOccurs="0"/>
    </xs:sequence>
    <xs:attribute name="Id" type="xs:string" use="required"/>
    <xs:attribute name="ChangeKey" type="xs:string" use="optional"/>
  </xs:complexType>
  <xs:complexType name="TargetFolderIdType">
    <xs:choice>
      <xs:element name="FolderId" type="t:FolderIdType"/>
      <xs:element name="DistinguishedFolderId" type="t:DistinguishedFolderIdType"/>
    </xs:choice>
  </xs:complexType>
  <xs:complexType name="NonEmptyArrayOfBaseItemIdsType">
    <xs:sequence>
      <xs:element name="ItemId" type="t:ItemIdType" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="NonEmptyArrayOfBaseFolderIdsType">
    <xs:sequence>
      <xs:element name="FolderId" type="t:FolderIdType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="DistinguishedFolderId" type="t:DistinguishedFolderIdType"
                  minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <!-- Property paths -->
  <xs:complexType name="PathToUnindexedFieldType">
    <xs:attribute name="FieldURI" type="xs:string" use="required"/>
  </xs:complexType>
  <xs:complexType name="PathToIndexedFieldType">
    <xs:attribute name="FieldURI" type="xs:string" use="required"/>
    <xs:attribute name="FieldIndex" type="xs:string" use="required"/>
  </xs:complexType>
  <xs:complexType name="PathToExtendedFieldType">
    <xs:attribute name="DistinguishedPropertySetId" type="xs:string" use="optional"/>
    <xs:attribute name="PropertySetId" type="xs:string" use="optional"/>
    <xs:attribute name="PropertyTag" type="xs:string" use="optional"/>
    <xs:attribute name="PropertyName" type="xs:string" use="optional"/>
    <xs:attribute name="PropertyId" type="xs:int" use="optional"/>
    <xs:attribute name="PropertyType" type="xs:string" use="required"/>
  </xs:complexType>
  <xs:complexType name="NonEmptyArrayOfPathsToElementType">
    <xs:sequence>
      <xs:element name="FieldURI" type="t:PathToUnindexedFieldType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="IndexedFieldURI" type="t:PathToIndexedFieldType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="ExtendedFieldURI" type="t:PathToExtendedFieldType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <!-- Shapes -->
  <xs:simpleType name="DefaultShapeNamesType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="IdOnly"/>
      <xs:enumeration value="Default"/>
      <xs:enumeration value="AllProperties"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:complexType name="ItemResponseShapeType">
    <xs:sequence>
      <xs:element name="BaseShape" type="t:DefaultShapeNamesType"/>
      <xs:element name="IncludeMimeContent" type="xs:boolean" minOccurs="0"/>
      <xs:element name="BodyType" type="xs:string" minOccurs="0"/>
      <xs:element name="AdditionalProperties" type="t:NonEmptyArrayOfPathsToElementType" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="FolderResponseShapeType">
    <xs:sequence>
      <xs:element name="BaseShape" type="t:DefaultShapeNamesType"/>
      <xs:element name="AdditionalProperties" type="t:NonEmptyArrayOfPathsToElementType" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <!-- Items (the writable subset, in Exchange's element order) -->
  <xs:complexType name="NonEmptyArrayOfPropertyValuesType">
    <xs:sequence>
      <xs:element name="Value" type="xs:string" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="ExtendedPropertyType">
    <xs:sequence>
      <xs:element name="ExtendedFieldURI" type="t:PathToExtendedFieldType"/>
      <xs:choice>
        <xs:element name="Value" type="xs:string"/>
        <xs:element name="Values" type="t:NonEmptyArrayOfPropertyValuesType"/>
      </xs:choice>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="BodyType">
    <xs:simpleContent>
      <xs:extension base="xs:string">
        <xs:attribute name="BodyType" type="xs:string" use="required"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="ArrayOfStringsType">
    <xs:sequence>
      <xs:element name="String" type="xs:string" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="ArrayOfRecipientsType">
    <xs:sequence>
      <xs:element name="Mailbox" type="t:EmailAddressType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="SingleRecipientType">
    <xs:sequence>
      <xs:element name="Mailbox" type="t:EmailAddressType"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="ItemType">
    <xs:sequence>
      <xs:element name="ItemId" type="t:ItemIdType" minOccurs="0"/>
      <xs:element name="ItemClass" type="xs:string" minOccurs="0"/>
      <xs:element name="Subject" type="xs:string" minOccurs="0"/>
      <xs:element name="Sensitivity" type="xs:string" minOccurs="0"/>
      <xs:element name="Body" type="t:BodyType" minOccurs="0"/>
      <xs:element name="Categories" type="t:ArrayOfStringsType" minOccurs="0"/>
      <xs:element name="Importance" type="xs:string" minOccurs="0"/>
      <xs:element name="ExtendedProperty" type="t:ExtendedPropertyType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="MessageType">
    <xs:complexContent>
      <xs:extension base="t:ItemType">
        <xs:sequence>
          <xs:element name="Sender" type="t:SingleRecipientType" minOccurs="0"/>
          <xs:element name="ToRecipients" type="t:ArrayOfRecipientsType" minOccurs="0"/>
          <xs:element name="CcRecipients" type="t:ArrayOfRecipientsType" minOccurs="0"/>
          <xs:element name="BccRecipients" type="t:ArrayOfRecipientsType" minOccurs="0"/>
          <xs:element name="IsReadReceiptRequested" type="xs:boolean" minOccurs="0"/>
          <xs:element name="IsDeliveryReceiptRequested" type="xs:boolean" minOccurs="0"/>
          <xs:element name="From" type="t:SingleRecipientType" minOccurs="0"/>
          <xs:element name="ReplyTo" type="t:ArrayOfRecipientsType" minOccurs="0"/>
        </xs:sequence>
      </xs:extension>
    </xs:complexContent>
  </xs:complexType>
  <xs:complexType name="NonEmptyArrayOfAllItemsType">
    <xs:sequence>
      <xs:element name="Item" type="t:ItemType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="Message" type="t:MessageType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <!-- UpdateItem changes -->
  <xs:complexType name="SetItemFieldType">
    <xs:sequence>
      <xs:choice>
        <xs:element name="FieldURI" type="t:PathToUnindexedFieldType"/>
        <xs:element name="IndexedFieldURI" type="t:PathToIndexedFieldType"/>
        <xs:element name="ExtendedFieldURI" type="t:PathToExtendedFieldType"/>
      </xs:choice>
      <xs:choice>
        <xs:element name="Item" type="t:ItemType"/>
        <xs:element name="Message" type="t:MessageType"/>
      </xs:choice>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="DeleteItemFieldType">
    <xs:choice>
      <xs:element name="FieldURI" type="t:PathToUnindexedFieldType"/>
      <xs:element name="IndexedFieldURI" type="t:PathToIndexedFieldType"/>
      <xs:element name="ExtendedFieldURI" type="t:PathToExtendedFieldType"/>
    </xs:choice>
  </xs:complexType>
  <xs:complexType name="NonEmptyArrayOfItemChangeDescriptionsType">
    <xs:sequence>
      <xs:element name="SetItemField" type="t:SetItemFieldType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="DeleteItemField" type="t:DeleteItemFieldType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="ItemChangeType">
    <xs:sequence>
      <xs:element name="ItemId" type="t:ItemIdType"/>
      <xs:element name="Updates" type="t:NonEmptyArrayOfItemChangeDescriptionsType"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="NonEmptyArrayOfItemChangesType">
    <xs:sequence>
      <xs:element name="ItemChange" type="t:ItemChangeType" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <!-- FindItem -->
  <xs:complexType name="RestrictionType">
    <xs:sequence>
      <xs:any namespace="http://schemas.microsoft.com/exchange/services/2006/types"
              processContents="skip"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="NonEmptyArrayOfFieldOrdersType">
    <xs:sequence>
      <xs:any namespace="http://schemas.microsoft.com/exchange/services/2006/types"
              processContents="skip" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="IndexedPageViewType">
    <xs:attribute name="MaxEntriesReturned" type="xs:int" use="optional"/>
    <xs:attribute name="Offset" type="xs:int" use="required"/>
    <xs:attribute name="BasePoint" type="xs:string" use="required"/>
  </xs:complexType>
</xs:schema>
""" % {"versions": "\n".join('      <xs:enumeration value="%s"/>' % v for v in SERVER_VERSIONS)}

MESSAGES_XSD = """<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
           xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
           targetNamespace="http://schemas.microsoft.com/exchange/services/2006/messages"
           elementFormDefault="qualified">
  <xs:import namespace="http://schemas.microsoft.com/exchange/services/2006/types"
             schemaLocation="%(types)s"/>

  <xs:element name="GetItem">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="ItemShape" type="t:ItemResponseShapeType"/>
        <xs:element name="ItemIds" type="t:NonEmptyArrayOfBaseItemIdsType"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>

  <xs:element name="UpdateItem">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="SavedItemFolderId" type="t:TargetFolderIdType" minOccurs="0"/>
        <xs:element name="ItemChanges" type="t:NonEmptyArrayOfItemChangesType"/>
      </xs:sequence>
      <xs:attribute name="ConflictResolution" type="xs:string" use="required"/>
      <xs:attribute name="MessageDisposition" type="xs:string" use="optional"/>
      <xs:attribute name="SuppressReadReceipts" type="xs:boolean" use="optional"/>
    </xs:complexType>
  </xs:element>

  <xs:element name="SendItem">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="ItemIds" type="t:NonEmptyArrayOfBaseItemIdsType"/>
        <xs:element name="SavedItemFolderId" type="t:TargetFolderIdType" minOccurs="0"/>
      </xs:sequence>
      <xs:attribute name="SaveItemToFolder" type="xs:boolean" use="required"/>
    </xs:complexType>
  </xs:element>

  <xs:element name="FindItem">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="ItemShape" type="t:ItemResponseShapeType"/>
        <xs:element name="IndexedPageItemView" type="t:IndexedPageViewType" minOccurs="0"/>
        <xs:element name="Restriction" type="t:RestrictionType" minOccurs="0"/>
        <xs:element name="SortOrder" type="t:NonEmptyArrayOfFieldOrdersType" minOccurs="0"/>
        <xs:element name="ParentFolderIds" type="t:NonEmptyArrayOfBaseFolderIdsType"/>
      </xs:sequence>
      <xs:attribute name="Traversal" type="xs:string" use="required"/>
    </xs:complexType>
  </xs:element>

  <xs:element name="CreateItem">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="SavedItemFolderId" type="t:TargetFolderIdType" minOccurs="0"/>
        <xs:element name="Items" type="t:NonEmptyArrayOfAllItemsType"/>
      </xs:sequence>
      <xs:attribute name="MessageDisposition" type="xs:string" use="optional"/>
    </xs:complexType>
  </xs:element>

  <xs:element name="DeleteItem">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="ItemIds" type="t:NonEmptyArrayOfBaseItemIdsType"/>
      </xs:sequence>
      <xs:attribute name="DeleteType" type="xs:string" use="required"/>
      <xs:attribute name="SendMeetingCancellations" type="xs:string" use="optional"/>
      <xs:attribute name="AffectedTaskOccurrences" type="xs:string" use="optional"/>
      <xs:attribute name="SuppressReadReceipts" type="xs:boolean" use="optional"/>
    </xs:complexType>
  </xs:element>

  <xs:element name="GetFolder">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="FolderShape" type="t:FolderResponseShapeType"/>
        <xs:element name="FolderIds" type="t:NonEmptyArrayOfBaseFolderIdsType"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>

  <!-- Built as lxml by services/create_attachment.py and delete_attachment.py, never by zeep. -->
  <xs:complexType name="AnyTypesContentType">
    <xs:sequence>
      <xs:any namespace="http://schemas.microsoft.com/exchange/services/2006/types"
              processContents="skip" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:element name="CreateAttachment">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="ParentItemId" type="t:ItemIdType"/>
        <xs:element name="Attachments" type="m:AnyTypesContentType"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:element name="DeleteAttachment">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="AttachmentIds" type="m:AnyTypesContentType"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>

  <!-- Every response: its ResponseMessages are left to responses.py (lxml). -->
  <xs:complexType name="ArrayOfResponseMessagesType">
    <xs:sequence>
      <xs:any namespace="##targetNamespace" processContents="skip"
              minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="BaseResponseMessageType">
    <xs:sequence>
      <xs:element name="ResponseMessages" type="m:ArrayOfResponseMessagesType"/>
    </xs:sequence>
  </xs:complexType>
%(responses)s
</xs:schema>
""" % {
    "types": TYPES_URL,
    "responses": "\n".join(
        '  <xs:element name="%sResponse" type="m:BaseResponseMessageType"/>' % op for op in OPERATIONS),
}

_WSDL_MESSAGES = """
  <wsdl:message name="%(op)sSoapIn">
    <wsdl:part name="request" element="m:%(op)s"/>
    <wsdl:part name="Impersonation" element="t:ExchangeImpersonation"/>
    <wsdl:part name="MailboxCulture" element="t:MailboxCulture"/>
    <wsdl:part name="RequestVersion" element="t:RequestServerVersion"/>
  </wsdl:message>
  <wsdl:message name="%(op)sSoapOut">
    <wsdl:part name="%(op)sResult" element="m:%(op)sResponse"/>
    <wsdl:part name="ServerVersion" element="t:ServerVersionInfo"/>
  </wsdl:message>"""

_WSDL_PORT_OPERATION = """
    <wsdl:operation name="%(op)s">
      <wsdl:input message="tns:%(op)sSoapIn"/>
      <wsdl:output message="tns:%(op)sSoapOut"/>
    </wsdl:operation>"""

_WSDL_BINDING_OPERATION = """
    <wsdl:operation name="%(op)s">
      <soap:operation soapAction="%(action)s%(op)s"/>
      <wsdl:input>
        <soap:header message="tns:%(op)sSoapIn" part="Impersonation" use="literal"/>
        <soap:header message="tns:%(op)sSoapIn" part="MailboxCulture" use="literal"/>
        <soap:header message="tns:%(op)sSoapIn" part="RequestVersion" use="literal"/>
        <soap:body parts="request" use="literal"/>
      </wsdl:input>
      <wsdl:output>
        <soap:body parts="%(op)sResult" use="literal"/>
        <soap:header message="tns:%(op)sSoapOut" part="ServerVersion" use="literal"/>
      </wsdl:output>
    </wsdl:operation>"""


def _per_operation(template):
    return "".join(template % {"op": op, "action": SOAP_ACTION_PREFIX} for op in OPERATIONS)


SERVICE_NAME = "ExchangeServices"
BINDING_NAME = "{%s}ExchangeServiceBinding" % MESSAGES_NS

WSDL = """<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
                  xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
                  xmlns:xs="http://www.w3.org/2001/XMLSchema"
                  xmlns:tns="http://schemas.microsoft.com/exchange/services/2006/messages"
                  xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
                  xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
                  targetNamespace="http://schemas.microsoft.com/exchange/services/2006/messages">
  <wsdl:types>
    <xs:schema targetNamespace="http://schemas.microsoft.com/exchange/services/2006/messages">
      <xs:import namespace="http://schemas.microsoft.com/exchange/services/2006/messages"
                 schemaLocation="%(messages)s"/>
    </xs:schema>
  </wsdl:types>
%(messages_parts)s
  <wsdl:portType name="ExchangeServicePortType">%(port_operations)s
  </wsdl:portType>
  <wsdl:binding name="ExchangeServiceBinding" type="tns:ExchangeServicePortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>%(binding_operations)s
  </wsdl:binding>
  <wsdl:service name="%(service)s">
    <wsdl:port name="ExchangeServicePort" binding="tns:ExchangeServiceBinding">
      <soap:address location="https://exchange.invalid/EWS/Exchange.asmx"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
""" % {
    "messages": MESSAGES_URL,
    "messages_parts": _per_operation(_WSDL_MESSAGES),
    "port_operations": _per_operation(_WSDL_PORT_OPERATION),
    "binding_operations": _per_operation(_WSDL_BINDING_OPERATION),
    "service": SERVICE_NAME,
}

# What the embedded-schema transport serves, by location.
DOCUMENTS = {
    WSDL_URL: WSDL.encode("utf-8"),
    TYPES_URL: TYPES_XSD.encode("utf-8"),
    MESSAGES_URL: MESSAGES_XSD.encode("utf-8"),
}
