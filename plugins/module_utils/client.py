# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``EwsClient``: the one object that speaks SOAP to Exchange.

Usage (services wrap this, plugins use services)::

    settings = ConnectionSettings.from_params(module.params)
    with EwsClient(settings) as client:
        messages = client.call("GetItem", ItemShape={"BaseShape": "IdOnly"},
                               ItemIds={"ItemId": [{"Id": item_id}]})
        client.server_version_info   # {"MajorVersion": 15, ..., "Version": "V2017_07_11"} or None

``call(operation, **body)`` takes the request body as zeep keyword arguments
(the element names of ``ews_schema``), adds the SOAP headers
(RequestServerVersion, ExchangeImpersonation, MailboxCulture), retries what
``RetryPolicy`` allows, turns SOAP faults into ``EwsFault`` and returns the
list of ``responses.ResponseMessage`` in request order.

The parsed schema is cached per process: building a client costs only the
``requests.Session`` and binding the service to the endpoint.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import email.utils

try:
    from lxml import etree
    import zeep
    import zeep.exceptions
    from zeep.wsdl import Document
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    pass

from ansible_collections.exchange.ews.plugins.module_utils import ews_schema
from ansible_collections.exchange.ews.plugins.module_utils.errors import (
    EwsError,
    EwsFault,
    EwsHttpStatusError,
    EwsResponseLost,
    EwsServerBusy,
    redact,
)
from ansible_collections.exchange.ews.plugins.module_utils.responses import parse_response_messages
from ansible_collections.exchange.ews.plugins.module_utils.retry import RetryPolicy
from ansible_collections.exchange.ews.plugins.module_utils.transport import (
    EmbeddedSchemaTransport,
    build_session,
)

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SERVER_VERSION_FIELDS = ("MajorVersion", "MinorVersion", "MajorBuildNumber", "MinorBuildNumber", "Version")

_DOCUMENT = None


def _schema_settings():
    # strict: reject documents that do not match the schema instead of guessing;
    # huge_tree: a 1,000-item response can exceed libxml2's default limits.
    return zeep.Settings(strict=True, xml_huge_tree=True, forbid_dtd=True, forbid_entities=True)


def schema_document():
    """The parsed embedded WSDL, parsed once per process."""
    global _DOCUMENT
    if _DOCUMENT is None:
        _DOCUMENT = Document(ews_schema.WSDL_URL, EmbeddedSchemaTransport(), settings=_schema_settings())
    return _DOCUMENT


class EwsClient:
    """A zeep client bound to ``settings.url`` with the connection's headers.

    Attributes: ``settings``, ``retry_policy``, ``server_version_info`` (the
    last ServerVersionInfo header as a dict, or None), ``request_count`` (HTTP
    requests made, retries included).
    """

    def __init__(self, settings, retry_policy=None, session=None):
        self.settings = settings
        self.retry_policy = retry_policy or RetryPolicy.from_settings(settings)
        self.transport = EmbeddedSchemaTransport(session=session or build_session(settings),
                                                 timeout=settings.timeout, secrets=settings.secrets)
        self._zeep = zeep.Client(schema_document(), transport=self.transport, settings=_schema_settings())
        # The WSDL's service address is a placeholder: bind to the configured endpoint.
        self._service = self._zeep.create_service(ews_schema.BINDING_NAME, settings.url)
        self._header_elements = self._soap_headers()
        self.server_version_info = None
        self.server_time = None
        self.request_count = 0

    def _soap_headers(self):
        """RequestServerVersion, ExchangeImpersonation, MailboxCulture, rendered once per client."""
        headers = [self._render(ews_schema.TYPES_NS, "RequestServerVersion",
                                {"Version": self.settings.server_version})]
        if self.settings.impersonate:
            headers.append(self._render(ews_schema.TYPES_NS, "ExchangeImpersonation", {
                "ConnectingSID": {"PrimarySmtpAddress": self.settings.impersonate}}))
        if self.settings.culture:
            headers.append(self._render(ews_schema.TYPES_NS, "MailboxCulture", self.settings.culture))
        return headers

    def call(self, operation, request=None, **body):
        """Run ``operation`` and return its ``ResponseMessage`` list, in request order.

        The request body is either zeep keyword arguments (``body``: element
        names of ``ews_schema``, validated and serialised by zeep) or
        ``request``, a ready ``m:<Operation>`` lxml element sent as is (the
        form for search restrictions, which zeep cannot serialise, and for
        hot paths where zeep's serialisation of long lists is the cost).
        Either way zeep renders the SOAP headers and parses the reply.

        Raises ``EwsFault`` (``EwsServerBusy`` once retries are exhausted),
        ``EwsTransportError`` subclasses, or ``EwsResponseLost`` when the
        request was sent but its outcome is unknown. Callers decide what a
        lost response means: reads may simply call again.
        """
        if request is None:
            request = self._render(ews_schema.MESSAGES_NS, operation, body)
        envelope = self._envelope(request)
        return self.retry_policy.run(lambda: self._post(operation, envelope), operation)

    def _render(self, namespace, name, value):
        """Serialise ``value`` as the schema's element ``{namespace}name`` with zeep."""
        element = self._zeep.get_element("{%s}%s" % (namespace, name))
        parent = etree.Element("parent")
        try:
            element.render(parent, element(**value) if isinstance(value, dict) else value)
        except (zeep.exceptions.Error, TypeError) as exc:
            # Our own request did not match the schema: a bug or a bad option value.
            raise EwsError("request does not match the schema: %s" % exc, operation=name)
        return parent[0]

    def _envelope(self, request):
        envelope = etree.Element("{%s}Envelope" % SOAP_ENV_NS, nsmap={"soap": SOAP_ENV_NS})
        header = etree.SubElement(envelope, "{%s}Header" % SOAP_ENV_NS)
        for element in self._header_elements:
            header.append(copy.copy(element))
        etree.SubElement(envelope, "{%s}Body" % SOAP_ENV_NS).append(request)
        return envelope

    def _post(self, operation, envelope):
        binding = self._service._binding
        soap_operation = binding.get(operation)
        self.transport.operation = operation
        self.request_count += 1
        http_headers = {"SOAPAction": '"%s"' % soap_operation.soapaction,
                        "Content-Type": "text/xml; charset=utf-8"}
        response = self.transport.post_xml(self.settings.url, envelope, http_headers)
        self.server_time = _http_date(response.headers.get("Date"))
        try:
            result = binding.process_reply(self._zeep, soap_operation, response)
        except zeep.exceptions.Fault as fault:
            raise self._fault_error(operation, fault)
        except zeep.exceptions.XMLSyntaxError as exc:
            # A truncated body after a 200 is a lost response, not a server statement.
            raise EwsResponseLost("response is not valid XML (%s)" % exc, operation=operation)
        except zeep.exceptions.TransportError as exc:
            raise EwsHttpStatusError(redact(str(exc), self.settings.secrets), operation=operation,
                                     http_status=getattr(exc, "status_code", None))
        info = result.header.ServerVersion if result.header is not None else None
        if info is not None:
            self.server_version_info = dict((name, info[name]) for name in SERVER_VERSION_FIELDS)
        return parse_response_messages(result.body.ResponseMessages._value_1 or [])

    def _fault_error(self, operation, fault):
        code, details = _fault_details(fault)
        message = redact(fault.message or "SOAP fault", self.settings.secrets)
        if code == "ErrorServerBusy":
            back_off = details.get("BackOffMilliseconds")
            return EwsServerBusy(message, back_off_ms=int(back_off) if back_off and back_off.isdigit() else None,
                                 operation=operation, response_code=code)
        return EwsFault(message, operation=operation, response_code=code)

    def close(self):
        self.transport.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _http_date(value):
    """An HTTP Date header as an aware UTC datetime, or None: the server's clock, for ageing claims."""
    try:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed is None or parsed.tzinfo is not None else None


def _fault_details(fault):
    """``(ResponseCode, {MessageXml name: value})`` from an Exchange SOAP fault."""
    code = None
    details = {}
    detail = fault.detail
    if detail is not None:
        for element in detail.iter(etree.Element):
            local = etree.QName(element).localname
            if local == "ResponseCode" and not code:
                code = (element.text or "").strip()
            elif local == "Value" and element.get("Name"):
                details[element.get("Name")] = (element.text or "").strip()
    if not code and fault.code:
        # faultcode like "a:ErrorSchemaValidation" when the detail has no ResponseCode
        code = str(fault.code).rsplit(":", 1)[-1]
    return code, details
