"""Validation of request elements against the project's own EWS schema (``schema/messages.xsd``).

The schema is compiled once, on first use, and shared. lxml validators keep their
error log on the instance, so validation runs under a lock; it takes microseconds
and never dominates a request.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .errors import SchemaValidationError

log = logging.getLogger(__name__)

SCHEMA_DIR = Path(__file__).parent / "schema"
ENTRY_SCHEMA = "messages.xsd"
XS = "http://www.w3.org/2001/XMLSchema"


@dataclass(frozen=True)
class _Compiled:
    schema: etree.XMLSchema | None
    global_elements: frozenset[str]  # Clark names of the top-level element declarations


_compiled: _Compiled | None = None
_load_lock = threading.Lock()
_validate_lock = threading.Lock()


def _load() -> _Compiled:
    global _compiled
    if _compiled is None:
        with _load_lock:
            if _compiled is None:
                _compiled = _compile(SCHEMA_DIR)
    return _compiled


def _compile(schema_dir: Path) -> _Compiled:
    entry = schema_dir / ENTRY_SCHEMA
    if not entry.exists():
        log.warning("no EWS schema at %s: requests are not validated", entry)
        return _Compiled(None, frozenset())
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    schema = etree.XMLSchema(etree.parse(str(entry), parser))
    names = set()
    for xsd in schema_dir.glob("*.xsd"):
        root = etree.parse(str(xsd), parser).getroot()
        target = root.get("targetNamespace", "")
        names.update("{%s}%s" % (target, el.get("name")) for el in root.iterchildren("{%s}element" % XS))
    return _Compiled(schema, frozenset(names))


def preload() -> None:
    """Compile the schema now (at server start) rather than on the first request."""
    _load()


def validate_body(element: etree._Element) -> None:
    """Validate the operation element of the SOAP body; raise SchemaValidationError like Exchange."""
    compiled = _load()
    if compiled.schema is None:
        return
    if element.tag not in compiled.global_elements:
        raise SchemaValidationError(
            "The element '%s' in namespace '%s' is not expected." % (etree.QName(element).localname, etree.QName(element).namespace),
            element.sourceline or 0, 0)
    _validate(compiled.schema, element)


def validate_header(element: etree._Element) -> None:
    """Validate a SOAP header element the schema declares; others are ignored, as Exchange ignores them."""
    compiled = _load()
    if compiled.schema is not None and element.tag in compiled.global_elements:
        _validate(compiled.schema, element)


def _validate(schema: etree.XMLSchema, element: etree._Element) -> None:
    with _validate_lock:
        if schema.validate(element):
            return
        error = next(iter(schema.error_log))  # the first violation, as Exchange reports it
    raise SchemaValidationError(error.message, error.line, error.column)
