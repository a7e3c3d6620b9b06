"""SOAP 1.1 envelopes the way Exchange reads and writes them: request parsing, SOAP headers, responses, faults."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lxml import etree

from . import operations, validation
from .config import Directory, User
from .errors import EwsFault, ItemError, SchemaValidationError
from .namespaces import M, SOAP, T, XSI, qt

ERRORS_NS = "http://schemas.microsoft.com/exchange/services/2006/errors"
XSD = "http://www.w3.org/2001/XMLSchema"
WCF_ADDRESSING_NONE = "http://schemas.microsoft.com/ws/2005/05/addressing/none"

# RequestServerVersion values Exchange 2016 accepts (ExchangeVersionType). Server releases without a
# schema change of their own, such as Exchange2007_SP2, get ErrorInvalidServerVersion like any unknown value.
KNOWN_VERSIONS = frozenset({
    "Exchange2007", "Exchange2007_SP1", "Exchange2010", "Exchange2010_SP1", "Exchange2010_SP2",
    "Exchange2013", "Exchange2013_SP1", "Exchange2015", "Exchange2016", "V2015_10_05", "V2016_01_06",
    "V2016_04_13", "V2016_07_13", "V2016_10_10", "V2017_01_07", "V2017_04_14", "V2017_07_11",
})
# Without the header Exchange handles a request as the initial Exchange 2007 release.
DEFAULT_REQUEST_VERSION = "Exchange2007"
# Exchange 2016 CU23 (15.1.2507.6). It echoes the older Exchange200x/2010 request
# versions in ServerVersionInfo and reports its own schema version otherwise.
SERVER_BUILD = {"MajorVersion": "15", "MinorVersion": "1", "MajorBuildNumber": "2507", "MinorBuildNumber": "6"}
SERVER_SCHEMA_VERSION = "V2017_07_11"
ECHOED_VERSIONS = frozenset({"Exchange2007", "Exchange2007_SP1", "Exchange2010", "Exchange2010_SP1", "Exchange2010_SP2"})

SCHEMA_VALIDATION_MESSAGE = "The request failed schema validation."


class ActionNotSupported(EwsFault):
    """WCF's answer, in front of Exchange, for a body element no operation handles."""

    def __init__(self, operation: str):
        super().__init__(
            "ActionNotSupported",
            "The message with Action '%s/%s' cannot be processed at the receiver, due to a ContractFilter "
            "mismatch at the EndpointDispatcher. This may be because of either a contract mismatch (mismatched "
            "Actions between sender and receiver) or a binding/security mismatch between the sender and the "
            "receiver.  Check that sender and receiver have the same contract and the same binding (including "
            "security requirements), e.g. Message, Transport, None." % (M, operation))


@dataclass
class SoapRequest:
    operation: str                 # local name of the body element, e.g. "SendItem"
    body: etree._Element           # the m:<Operation> element
    server_version: str            # RequestServerVersion Version, or the default
    impersonate: str | None        # target of ExchangeImpersonation (an SMTP address, SID or principal name)
    culture: str | None


_parsers = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers must not be used by two threads at once.
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return parser


def parse_request(data: bytes) -> SoapRequest:
    """Parse and check a request envelope; raise EwsFault (mostly ErrorSchemaValidation) like Exchange."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise SchemaValidationError(exc.msg, line, column) from None
    if root.getroottree().docinfo.doctype:
        raise SchemaValidationError("For security reasons DTD is prohibited in this XML document.", 1, 1)
    if root.tag != "{%s}Envelope" % SOAP:
        raise _unexpected(root)

    header = body = None
    for child in root.iterchildren(etree.Element):
        if child.tag == "{%s}Header" % SOAP and header is None and body is None:
            header = child
        elif child.tag == "{%s}Body" % SOAP and body is None:
            body = child
        else:
            raise _unexpected(child)
    if body is None:
        raise SchemaValidationError("The element 'Envelope' in namespace '%s' is missing the element 'Body'." % SOAP,
                                    root.sourceline or 0, 0)
    children = list(body.iterchildren(etree.Element))
    if len(children) != 1:
        raise SchemaValidationError("The element 'Body' in namespace '%s' must hold exactly one operation element." % SOAP,
                                    body.sourceline or 0, 0)
    operation = children[0]
    if etree.QName(operation).namespace != M:
        raise _unexpected(operation)

    server_version, impersonate, culture = DEFAULT_REQUEST_VERSION, None, None
    headers = list(header.iterchildren(etree.Element)) if header is not None else []
    for element in headers:
        if element.tag == qt("RequestServerVersion"):
            # Checked before any header is schema-validated: an unknown version is ErrorInvalidServerVersion,
            # not a schema error, wherever the header stands.
            server_version = element.get("Version", "")
            if server_version not in KNOWN_VERSIONS:
                raise EwsFault("ErrorInvalidServerVersion", "The specified server version is invalid.")
    name = etree.QName(operation).localname
    if name not in operations.OPERATIONS:
        # WCF, in front of Exchange, turns the request away before any schema validation.
        raise ActionNotSupported(name)
    for element in headers:
        validation.validate_header(element)
        if element.tag == qt("ExchangeImpersonation"):
            impersonate = _impersonation_target(element)
        elif element.tag == qt("MailboxCulture"):
            culture = (element.text or "").strip() or None
    validation.validate_body(operation)
    return SoapRequest(name, operation, server_version, impersonate, culture)


def _impersonation_target(element: etree._Element) -> str:
    sid = element.find(qt("ConnectingSID"))
    for name in ("PrimarySmtpAddress", "SmtpAddress", "PrincipalName", "SID"):
        value = sid.findtext(qt(name)) if sid is not None else None
        if value and value.strip():
            return value.strip()
    raise EwsFault("ErrorInvalidExchangeImpersonationHeaderData",
                   "The ExchangeImpersonation SOAP header must contain a ConnectingSID with an identifier.")


def _unexpected(element: etree._Element) -> SchemaValidationError:
    name = etree.QName(element)
    return SchemaValidationError("The element '%s' in namespace '%s' is not expected." % (name.localname, name.namespace or ""),
                                 element.sourceline or 0, 0)


def effective_mailbox(request: SoapRequest, user: User, directory: Directory) -> str:
    """SMTP address of the mailbox the request acts as: the impersonated one, else the caller's."""
    if request.impersonate is None:
        return user.smtp
    if not directory.may_impersonate(user):
        raise EwsFault("ErrorImpersonateUserDenied", "The account does not have permission to impersonate the requested user.")
    target = directory.by_smtp(request.impersonate) or directory.by_login(request.impersonate)
    if target is None:
        raise EwsFault("ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.")
    return target.smtp


def dispatch(ctx, request: SoapRequest) -> etree._Element:
    """Run the operation; return its m:<Operation>Response element."""
    try:
        return operations.OPERATIONS[request.operation](ctx, request.body)
    except ItemError as exc:
        # An item-level error an operation did not turn into a response message aborts the request.
        raise EwsFault(exc.code, exc.message) from exc


def _envelope(server_version: str | None) -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element("{%s}Envelope" % SOAP, nsmap={"s": SOAP})
    header = etree.SubElement(envelope, "{%s}Header" % SOAP)
    info = etree.SubElement(header, qt("ServerVersionInfo"), nsmap={"h": T, "xsd": XSD, "xsi": XSI})
    for name, value in SERVER_BUILD.items():
        info.set(name, value)
    info.set("Version", server_version if server_version in ECHOED_VERSIONS else SERVER_SCHEMA_VERSION)
    body = etree.SubElement(envelope, "{%s}Body" % SOAP, nsmap={"xsi": XSI, "xsd": XSD})
    return envelope, body


def _serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def response_envelope(payload: etree._Element, server_version: str) -> bytes:
    envelope, body = _envelope(server_version)
    body.append(payload)
    return _serialize(envelope)


def fault_envelope(fault: EwsFault, server_version: str | None = None) -> bytes:
    """A SOAP fault shaped like Exchange's: ``a:<Code>`` faultcode, ``e:ResponseCode``/``e:Message`` detail.

    ``server_version`` is None when the request's own could not be read; the server's version is reported then.
    """
    envelope, body = _envelope(server_version)
    soap_fault = etree.SubElement(body, "{%s}Fault" % SOAP)
    code_ns = WCF_ADDRESSING_NONE if isinstance(fault, ActionNotSupported) else T
    faultcode = etree.SubElement(soap_fault, "faultcode", nsmap={"a": code_ns})
    faultcode.text = "a:" + fault.code
    faultstring = etree.SubElement(soap_fault, "faultstring")
    faultstring.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    faultstring.text = fault.message
    if isinstance(fault, ActionNotSupported):
        return _serialize(envelope)

    detail = etree.SubElement(soap_fault, "detail")
    etree.SubElement(detail, "{%s}ResponseCode" % ERRORS_NS, nsmap={"e": ERRORS_NS}).text = fault.code
    message = SCHEMA_VALIDATION_MESSAGE if isinstance(fault, SchemaValidationError) else fault.message
    etree.SubElement(detail, "{%s}Message" % ERRORS_NS, nsmap={"e": ERRORS_NS}).text = message
    if isinstance(fault, SchemaValidationError):
        message_xml = etree.SubElement(detail, qt("MessageXml"), nsmap={"t": T})
        etree.SubElement(message_xml, qt("LineNumber")).text = str(fault.line)
        etree.SubElement(message_xml, qt("LinePosition")).text = str(fault.position)
        etree.SubElement(message_xml, qt("Violation")).text = fault.violation
    elif fault.details:
        message_xml = etree.SubElement(detail, qt("MessageXml"), nsmap={"t": T})
        for name, value in fault.details.items():
            etree.SubElement(message_xml, qt("Value"), Name=name).text = str(value)
    return _serialize(envelope)


def count_items(operation: etree._Element) -> int:
    """How many items a request names or carries: its ItemIds and AttachmentIds plus the children of m:Items and
    m:Attachments."""
    ids = sum(1 for _ in operation.iter(qt("ItemId"), qt("AttachmentId")))
    carried = sum(len(container) for container in (operation.find("{%s}Items" % M), operation.find("{%s}Attachments" % M))
                  if container is not None)
    return ids + carried
