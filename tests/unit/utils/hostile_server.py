# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local HTTP(S) server that answers EWS requests the way a hostile or broken server would.

    with HostileServer() as server:                 # HTTPS with its own CA (server.ca_path)
        server.answer(gzip_bomb(1 << 30))           # every request gets this answer
        server.answer(redirect("http://127.0.0.2:8/"), soap(body))  # in turn, the last repeats
        server.route("bomb", gzip_bomb(1 << 30))    # requests to server.url_for("bomb") get this one
        ... point a client at server.url ...
        server.requests                             # what arrived: [Request(method, path, headers, body)]

An answer is a function ``answer(request, stream)`` that writes raw bytes to the
client's socket, so it can send anything: trickles, truncated bodies, lies in the
headers. The builders below make the ones the security tests need. The server
closes the connection after each answer.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import re
import socketserver
import ssl
import tempfile
import threading
import time
import zlib

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
CHUNK = 1 << 16


class Request:
    """One request as it arrived: ``method``, ``path``, ``headers`` (lower-cased names), ``body`` (bytes)."""

    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body


class _Handler(socketserver.StreamRequestHandler):

    def handle(self):
        if self.server.tls_context is not None:
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                return
        request = _read_request(self.rfile)
        if request is None:
            return
        answer = self.server.owner.next_answer(request)
        try:
            answer(request, self.wfile)
            self.wfile.flush()
        except (OSError, ssl.SSLError):
            pass  # the client gave up, which is what several answers are for


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner, address, tls_context):
        self.owner = owner
        self.tls_context = tls_context
        socketserver.ThreadingTCPServer.__init__(self, address, _Handler)

    def get_request(self):
        sock, address = self.socket.accept()
        if self.tls_context is not None:
            # The handshake runs in the handler's thread, so a stalled client blocks no one.
            sock = self.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address


def _read_request(rfile):
    line = rfile.readline(65537)
    if not line:
        return None
    method, path = line.decode("latin-1").split(" ")[:2]
    headers = {}
    while True:
        line = rfile.readline(65537)
        if line in (b"\r\n", b"\n", b""):
            break
        name, value = (line.decode("latin-1").split(":", 1) + [""])[:2]
        headers[name.strip().lower()] = value.strip()
    body = rfile.read(int(headers.get("content-length", 0) or 0))
    return Request(method, path, headers, body)


class HostileServer:
    """The server, on 127.0.0.1 (or ``host``) and a free port; HTTPS unless ``tls=False``."""

    def __init__(self, tls=True, host="127.0.0.1"):
        self.tls = tls
        self.host = host
        self.requests = []
        self._answers = []
        self._routes = {}
        self._lock = threading.Lock()
        self._tmp = None
        self.ca_path = None
        self._server = None
        self._thread = None

    @property
    def url(self):
        scheme = "https" if self.tls else "http"
        return "%s://%s:%d/EWS/Exchange.asmx" % (scheme, self.host, self._server.server_address[1])

    def url_for(self, route):
        """The endpoint URL whose requests get the answer of ``route`` (see ``route``)."""
        return self.url.replace("/EWS/", "/%s/EWS/" % route)

    def route(self, name, answer):
        """Answer every request to ``url_for(name)`` with ``answer``, whatever ``answer()`` scripted."""
        with self._lock:
            self._routes[name] = answer

    def answer(self, *answers):
        """Answer the next requests with ``answers`` in turn; the last one repeats."""
        with self._lock:
            self._answers = list(answers)
            del self.requests[:]

    def next_answer(self, request):
        with self._lock:
            self.requests.append(request)
            route = request.path.split("/")[1]
            if route in self._routes:
                return self._routes[route]
            if not self._answers:
                return status(500, b"no answer scripted", "text/plain")
            return self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]

    def __enter__(self):
        context = None
        if self.tls:
            import trustme  # only the HTTPS form needs it

            ca = trustme.CA()
            self._tmp = tempfile.TemporaryDirectory(prefix="hostile-server-")
            self.ca_path = os.path.join(self._tmp.name, "ca.pem")
            ca.cert_pem.write_to_path(self.ca_path)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(self.host, "localhost").configure_cert(context)
        self._server = _Server(self, (self.host, 0), context)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        if self._tmp is not None:
            self._tmp.cleanup()


# --- answers ------------------------------------------------------------------------------------

def _head(code, headers):
    lines = ["HTTP/1.1 %d %s" % (code, _REASONS.get(code, "Status"))]
    lines.extend("%s: %s" % item for item in headers)
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect",
            308: "Permanent Redirect", 401: "Unauthorized", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}


def status(code, body=b"", content_type="text/xml; charset=utf-8", headers=()):
    """A complete answer with ``body`` (bytes or text) and a correct Content-Length."""
    if not isinstance(body, bytes):
        body = body.encode("utf-8")

    def answer(request, stream):
        stream.write(_head(code, [("Content-Type", content_type), ("Content-Length", str(len(body)))]
                           + list(headers)) + body)
    return answer


def soap(body_xml, code=200, headers=()):
    """A SOAP envelope around ``body_xml`` (text inside s:Body)."""
    return status(code, envelope(body_xml), headers=headers)


def envelope(body_xml, prolog=""):
    return ('<?xml version="1.0" encoding="utf-8"?>%s<s:Envelope xmlns:s="%s"><s:Header/><s:Body>%s</s:Body>'
            '</s:Envelope>' % (prolog, SOAP_ENV, body_xml))


def fault(text, code="ErrorInternalServerError"):
    """An Exchange SOAP fault (HTTP 500) whose faultstring is ``text``."""
    return soap('<s:Fault><faultcode xmlns:a="%s">a:%s</faultcode><faultstring>%s</faultstring><detail>'
                '<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">%s'
                '</e:ResponseCode></detail></s:Fault>' % (T, code, xml_text(text), code), code=500)


def xml_text(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def response_messages(operation, messages):
    """The body of an ``<operation>Response`` with the given ResponseMessage XML fragments."""
    return ('<m:%sResponse xmlns:m="%s" xmlns:t="%s"><m:ResponseMessages>%s</m:ResponseMessages>'
            '</m:%sResponse>' % (operation, M, T, "".join(messages), operation))


def error_message(operation, code, text):
    return ('<m:%sResponseMessage ResponseClass="Error"><m:MessageText>%s</m:MessageText>'
            '<m:ResponseCode>%s</m:ResponseCode></m:%sResponseMessage>' % (operation, xml_text(text), code,
                                                                           operation))


def find_item_message(item_ids, last, next_offset=None, total=None, subject=""):
    """One FindItemResponseMessage with these ids."""
    items = "".join('<t:Message><t:ItemId Id="%s" ChangeKey="CQAAAA=="/><t:Subject>%s</t:Subject></t:Message>'
                    % (item_id, xml_text(subject)) for item_id in item_ids)
    offset = "" if next_offset is None else ' IndexedPagingOffset="%d"' % next_offset
    return ('<m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
            '<m:RootFolder TotalItemsInView="%d" IncludesLastItemInRange="%s"%s><t:Items>%s</t:Items>'
            '</m:RootFolder></m:FindItemResponseMessage>'
            % (len(item_ids) if total is None else total, "true" if last else "false", offset, items))


def endless_paging(page_size=10):
    """FindItem pages with new ids every time and IncludesLastItemInRange="false", for ever."""
    def answer(request, stream):
        offset = int(re.search(rb'Offset="(\d+)"', request.body).group(1))
        ids = [_fake_id(offset + index) for index in range(page_size)]
        message = find_item_message(ids, last=False, next_offset=offset + page_size, total=offset + 2 * page_size)
        soap(response_messages("FindItem", [message]))(request, stream)
    return answer


def _fake_id(number):
    return base64.b64encode(("fake-item-%012d" % number).encode("ascii")).decode("ascii")


def gzip_bomb(size):
    """A 200 answer whose gzip body inflates to ``size`` bytes of zeros (about size/1000 on the wire)."""
    compressed = _gzip_zeros(size)

    def answer(request, stream):
        stream.write(_head(200, [("Content-Type", "text/xml; charset=utf-8"), ("Content-Encoding", "gzip"),
                                 ("Content-Length", str(len(compressed)))]))
        stream.write(compressed)
    return answer


_BOMBS = {}


def _gzip_zeros(size):
    if size not in _BOMBS:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        block = b"\0" * (1 << 20)
        parts = []
        for start in range(0, size, len(block)):
            parts.append(compressor.compress(block[:min(len(block), size - start)]))
        parts.append(compressor.flush())
        _BOMBS[size] = b"".join(parts)
    return _BOMBS[size]


def huge_body(size):
    """A 200 text/xml answer of ``size`` bytes (the start of an envelope, then padding), sent in chunks."""
    def answer(request, stream):
        stream.write(_head(200, [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(size))]))
        start = envelope("").encode()[:60]
        stream.write(start)
        block = b" " * CHUNK
        left = size - len(start)
        while left > 0:
            stream.write(block[:min(left, CHUNK)])
            left -= CHUNK
    return answer


def trickle(interval=0.2, chunked=False):
    """Headers, then a byte every ``interval`` seconds, for ever (or until the client leaves)."""
    def answer(request, stream):
        headers = [("Content-Type", "text/xml; charset=utf-8")]
        headers.append(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", "100000000"))
        stream.write(_head(200, headers))
        stream.flush()
        while True:
            stream.write(b"1\r\n \r\n" if chunked else b" ")
            stream.flush()
            time.sleep(interval)
    return answer


def truncated_xml(cut=120):
    """A well-formed HTTP answer whose XML stops after ``cut`` bytes of a real response."""
    body = envelope(response_messages("GetItem", [error_message("GetItem", "ErrorItemNotFound", "x")])).encode()
    return status(200, body[:cut])


def dropped(after=b"<?xml"):
    """Headers promising a long body, a few bytes of it, then the connection closes."""
    def answer(request, stream):
        stream.write(_head(200, [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", "5000")]) + after)
    return answer


def redirect(location, code=307):
    return status(code, b"", "text/html", headers=[("Location", location)])


def with_dtd(kind):
    """A SOAP answer carrying a DTD: ``doctype``, ``xxe`` (external entity) or ``billion_laughs``."""
    entities = {
        "doctype": '<!DOCTYPE s:Envelope>',
        "xxe": '<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        "billion_laughs": '<!DOCTYPE s:Envelope [<!ENTITY l0 "lol">' + "".join(
            '<!ENTITY l%d "%s">' % (n, ("&l%d;" % (n - 1)) * 10) for n in range(1, 10)) + ']>',
    }
    reference = {"doctype": "", "xxe": "&xxe;", "billion_laughs": "&l9;"}[kind]
    body = response_messages("GetItem", [error_message("GetItem", "ErrorItemNotFound", "x")])
    body = body.replace("<m:MessageText>x", "<m:MessageText>x" + reference)
    return status(200, envelope(body, prolog=entities[kind]))


def html(code, title, extra=""):
    return status(code, "<html><head><title>%s</title></head><body>%s</body></html>" % (title, extra),
                  "text/html")
