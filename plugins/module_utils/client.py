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
        client.server_time           # the last answer's Date header: an aware UTC datetime, or None

``call(operation, **body)`` takes the request body as zeep keyword arguments
(the element names of ``ews_schema``), adds the SOAP headers
(RequestServerVersion, ExchangeImpersonation, MailboxCulture), retries what
``RetryPolicy`` allows, turns SOAP faults into ``EwsFault`` and returns the
list of ``responses.ResponseMessage`` in request order.

Answers are parsed here, not by zeep's own reader: a DTD or an entity is
refused, and so is anything that is not a well-formed SOAP answer. An answer
the client refuses after the request was written is ``EwsResponseLost`` (the
request may have been processed), never "nothing was sent". Server text that
reaches a message or a result (faults, MessageText) is redacted and cut to
``errors.EXCERPT_CHARS``.

The parsed schema is cached per process: building a client costs only the
``requests.Session`` and binding the service to the endpoint.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
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
    EwsConfigError,
    EwsFault,
    EwsResponseLost,
    EwsServerBusy,
    excerpt,
)
from ansible_collections.exchange.ews.plugins.module_utils.responses import parse_response_messages
from ansible_collections.exchange.ews.plugins.module_utils import oauth
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
    last ServerVersionInfo header as a dict, or None), ``server_time`` (the
    last answer's HTTP Date header as an aware UTC datetime, or None when
    absent or unparseable: the server's clock), ``request_count`` (HTTP
    requests made, retries included), ``deadline`` (see the property).
    """

    def __init__(self, settings, retry_policy=None, session=None, token_source=None):
        self.settings = settings
        self.retry_policy = retry_policy or RetryPolicy.from_settings(settings)
        # One source per run is best (the module's); a client made on its own gets its own.
        self.token_source = token_source if token_source is not None else oauth.token_source(settings)
        self.transport = EmbeddedSchemaTransport(session=session or build_session(settings, self.token_source),
                                                 timeout=settings.timeout, secrets=settings.secrets)
        self._zeep = zeep.Client(schema_document(), transport=self.transport, settings=_schema_settings())
        # The WSDL's service address is a placeholder: bind to the configured endpoint.
        self._service = self._zeep.create_service(ews_schema.BINDING_NAME, settings.url)
        self._header_elements = self._soap_headers()
        self.server_version_info = None
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
        Either way zeep renders the SOAP headers and reads the reply, which the client parsed.

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
        except (zeep.exceptions.Error, TypeError, ValueError) as exc:
            # Our own request did not match the schema (or held text XML cannot carry):
            # a bug or a bad option value. No request was made.
            raise EwsConfigError("request does not match the schema: %s" % excerpt(exc, self.settings.secrets),
                                 operation=name)
        return parent[0]

    def _envelope(self, request):
        envelope = etree.Element("{%s}Envelope" % SOAP_ENV_NS, nsmap={"soap": SOAP_ENV_NS})
        header = etree.SubElement(envelope, "{%s}Header" % SOAP_ENV_NS)
        for element in self._header_elements:
            header.append(copy.copy(element))
        etree.SubElement(envelope, "{%s}Body" % SOAP_ENV_NS).append(request)
        return envelope

    @property
    def server_time(self):
        return parse_http_date(self.transport.last_date)

    @property
    def deadline(self):
        """A ``time.monotonic()`` time no request, retry or wait of this client runs past, or None."""
        return self.transport.ends_at

    @deadline.setter
    def deadline(self, ends_at):
        self.transport.ends_at = ends_at
        self.retry_policy.deadline = ends_at
        if hasattr(self.token_source, "ends_at"):
            self.token_source.ends_at = ends_at

    def _post(self, operation, envelope):
        binding = self._service._binding
        soap_operation = binding.get(operation)
        self.transport.operation = operation
        self.request_count += 1
        http_headers = {"SOAPAction": '"%s"' % soap_operation.soapaction,
                        "Content-Type": "text/xml; charset=utf-8"}
        response = self.transport.post_xml(self.settings.url, envelope, http_headers)
        document = self._parse(operation, response)
        if document.find("soap-env:Body/soap-env:Fault", namespaces=binding.nsmap) is not None:
            try:
                binding.process_error(document, soap_operation)
            except zeep.exceptions.Fault as fault:
                raise self._fault_error(operation, fault)
        if response.status_code != 200:
            raise self._lost(operation, response, "HTTP %d without a SOAP fault" % response.status_code)
        try:
            result = soap_operation.process_reply(document)
            info = result.header.ServerVersion if result.header is not None else None
            messages = parse_response_messages(result.body.ResponseMessages._value_1 or [])
        except (zeep.exceptions.Error, AttributeError, TypeError, ValueError) as exc:
            raise self._lost(operation, response, "not an EWS %s response (%s)" % (operation, type(exc).__name__))
        if info is not None:
            self.server_version_info = dict((name, info[name]) for name in SERVER_VERSION_FIELDS)
        for message in messages:
            message.message_text = excerpt(message.message_text, self.settings.secrets)
            message.details = dict((name, excerpt(value, self.settings.secrets, 100))
                                   for name, value in message.details.items())
        return messages

    def _parse(self, operation, response):
        """The answer's root element; refused (a lost response) with a DTD, entities or malformed XML."""
        try:
            # No DTD, no entities, nothing from the network. huge_tree because a 1,000-item answer can
            # exceed libxml2's default limits; the transport's size limit bounds what is parsed.
            parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=True,
                                     remove_comments=True)
            root = etree.fromstring(response.content, parser)
        except etree.XMLSyntaxError as exc:
            raise self._lost(operation, response, "not well-formed XML (%s)"
                             % excerpt(str(exc), self.settings.secrets, 200))
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            raise self._lost(operation, response, "it declares a DTD, which the client never accepts")
        return root

    def _lost(self, operation, response, why):
        return EwsResponseLost("the answer could not be used: %s. The request may have been processed. "
                               "The answer began: %s" % (why, excerpt(response.content, self.settings.secrets, 200)),
                               operation=operation, http_status=response.status_code)

    def _fault_error(self, operation, fault):
        code, details = _fault_details(fault)
        code = excerpt(code, self.settings.secrets, 100)
        message = excerpt(fault.message or "SOAP fault", self.settings.secrets)
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


def parse_http_date(value):
    """An HTTP Date header as an aware UTC datetime, or None when absent or unparseable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # "-0000": UTC with no claim about local time
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


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
