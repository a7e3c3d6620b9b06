"""OData query options on message collections: $select, $filter, $orderby, $top, $skip, $expand, $search, $count,
translated to SQL over the store's ``items`` table (like operations/restrictions.py for EWS), with Graph's refusals:
unknown properties, filters on recipients, and $orderby properties that $filter does not name first."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ..operations.properties import normalize_datetime
from .errors import GraphError, bad_request
from .messages import NAVIGATION, PROPERTIES, parse_extended_id

MAX_TOP = 1000          # user-list-messages: $top within the range of 1 and 1000
DEFAULT_TOP = 10
SEARCH_LIMIT = 1000     # a $search request returns up to 1,000 results
QUERY_OPTIONS = ("$select", "$filter", "$top", "$skip", "$orderby", "$expand", "$search", "$count", "$skiptoken")

INVALID_FILTER = ("BadRequest", "Invalid filter clause")
INVALID_NODES = ("ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes.")
TOO_COMPLEX = ("InefficientFilter", "The restriction or sort order is too complex for this operation.")

# $filter / $orderby paths (lower case) -> (SQL operand, kind)
_PATHS = {
    "subject": ("items.subject", "text"),
    "createddatetime": ("items.created", "datetime"),
    "lastmodifieddatetime": ("items.last_modified", "datetime"),
    "receiveddatetime": ("items.received", "datetime"),
    "sentdatetime": ("items.sent", "datetime"),
    "isdraft": ("items.is_draft", "bool"),
    "isread": ("items.is_read", "bool"),
    "hasattachments": ("0", "bool"),
    "importance": ("items.importance", "text"),
    "internetmessageid": ("items.internet_message_id", "text"),
    "from/emailaddress/address": ("json_extract(items.from_mailbox, '$.email')", "text"),
    "from/emailaddress/name": ("json_extract(items.from_mailbox, '$.name')", "text"),
    "sender/emailaddress/address": ("json_extract(items.sender_mailbox, '$.email')", "text"),
    "sender/emailaddress/name": ("json_extract(items.sender_mailbox, '$.name')", "text"),
}
_RECIPIENT_LISTS = ("torecipients", "ccrecipients", "bccrecipients", "replyto")
_OPERATORS = {"eq": "=", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_TOKEN = re.compile(r"""\s*(?:(?P<string>'(?:[^']|'')*')|(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?
                        (?:Z|[+-]\d{2}:\d{2}))|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w.]*)|(?P<symbol>[(),/:]))""",
                    re.VERBOSE)


@dataclass
class Query:
    select: tuple[str, ...] | None = None
    where: str = ""
    params: list = field(default_factory=list)
    order_by: str = ""
    top: int = DEFAULT_TOP
    skip: int = 0
    expand: tuple[str, ...] = ()        # single-value extended property ids to return
    search: list | None = None          # [(property or None, term)]
    count: bool = False
    raw: list = field(default_factory=list)   # the query's (name, value) pairs, for @odata.nextLink


def parse_query(query_string: str, collection: bool) -> Query:
    """The query options of a message request (a collection's or one message's); GraphError for what Graph refuses."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    options: dict[str, str] = {}
    for name, value in pairs:
        if not name.startswith("$"):
            continue                      # not a system query option: ignored, as OData does
        lowered = name.lower()
        if lowered not in QUERY_OPTIONS or (not collection and lowered not in ("$select", "$expand")):
            raise bad_request("BadRequest", f"The query parameter '{name}' is not supported.")
        if lowered in options:
            raise bad_request("BadRequest", f"Query option '{name}' was specified more than once, but it must be "
                              "specified at most once.")
        options[lowered] = value
    query = Query(raw=[(name, value) for name, value in pairs if name.lower() != "$skip"])
    if "$select" in options:
        query.select = _select(options["$select"])
    if "$expand" in options:
        query.expand = _expand(options["$expand"])
    if not collection:
        return query
    query.top = _integer("$top", options.get("$top"), DEFAULT_TOP)
    if not 1 <= query.top:
        raise bad_request("BadRequest", f"Invalid value '{options['$top']}' for $top query option found. The $top "
                          f"query option requires an integer value within the range of 1 and {MAX_TOP}.")
    query.top = min(query.top, MAX_TOP)
    query.skip = _integer("$skip", options.get("$skip"), 0)
    query.count = options.get("$count", "false").lower() == "true"
    if "$search" in options:
        for option in ("$filter", "$orderby", "$skip"):
            if option in options:
                raise bad_request("BadRequest", f"The query parameter '{option}' is not supported with '$search'.")
        query.search = _search(options["$search"])
        query.skip = _integer("$skiptoken", options.get("$skiptoken"), 0)
        return query
    if "$skiptoken" in options:
        raise bad_request("BadRequest", "The query parameter '$skiptoken' is not supported.")
    filter_paths: list[str] = []
    if "$filter" in options:
        query.where, query.params = _Filter(options["$filter"], filter_paths).parse()
    query.order_by = _order_by(options.get("$orderby"), filter_paths if "$filter" in options else None)
    return query


def _integer(option: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise bad_request("BadRequest", f"Invalid value '{value}' for {option} query option found. The {option} "
                          "query option requires a non-negative integer value.")
    return int(value)


def _unknown_property(name: str) -> GraphError:
    return bad_request("RequestBroker--ParseUri", f"Could not find a property named '{name}' on type "
                       "'microsoft.graph.message'.")


def _select(value: str) -> tuple[str, ...]:
    by_lower = {name.lower(): name for name in PROPERTIES}
    selected = []
    for name in (part.strip() for part in value.split(",")):
        if name.lower() == "id":
            continue                      # always there
        if name.lower() not in by_lower:
            raise _unknown_property(name)
        selected.append(by_lower[name.lower()])
    return tuple(dict.fromkeys(selected))


_EXPAND = re.compile(r"^singleValueExtendedProperties\(\$filter=(?P<filter>.+)\)$", re.IGNORECASE)
_EXPAND_ID = re.compile(r"^\s*id\s+eq\s+'(?P<id>(?:[^']|'')*)'\s*$", re.IGNORECASE)


def _expand(value: str) -> tuple[str, ...]:
    """$expand=singleValueExtendedProperties($filter=id eq '...' [or id eq '...']): the ids asked for. Expanding
    without the filter, or another navigation property, is refused: the filter is the documented way."""
    match = _EXPAND.match(value.strip())
    if match is None:
        name = value.split("(", 1)[0].strip()
        if name.lower() not in (n.lower() for n in NAVIGATION):
            raise _unknown_property(name)
        raise bad_request("ErrorNotSupportedBySandbox", f"The sandbox expands singleValueExtendedProperties"
                          f"($filter=id eq '...') only, not '{value}'.")
    ids = []
    for clause in re.split(r"\s+or\s+", match["filter"], flags=re.IGNORECASE):
        id_match = _EXPAND_ID.match(clause)
        if id_match is None:
            raise bad_request(*INVALID_FILTER)
        property_id = id_match["id"].replace("''", "'")
        parse_extended_id(property_id)
        ids.append(property_id)
    return tuple(ids)


def _order_by(value: str | None, filter_paths: list[str] | None) -> str:
    """ORDER BY for $orderby (default: received, newest first). With $filter, its properties must be the first
    ones $filter names, in the same order (Graph's InefficientFilter rule for messages)."""
    if not value:
        return "items.received DESC, items.seq DESC"
    clauses, paths = [], []
    for part in (p.strip() for p in value.split(",")):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise bad_request("BadRequest", f"Invalid $orderby clause '{part}'.")
        path = words[0].lower()
        if path not in _PATHS:
            raise _unknown_property(words[0])
        operand, kind = _PATHS[path]
        direction = "DESC" if len(words) == 2 and words[1].lower() == "desc" else "ASC"
        clauses.append(f"{operand}{' COLLATE NOCASE' if kind == 'text' else ''} {direction}")
        paths.append(path)
    if filter_paths is not None and filter_paths[:len(paths)] != paths:
        raise bad_request(*TOO_COMPLEX)
    return ", ".join(clauses + [f"items.seq {direction}"])


_SEARCH_TERM = re.compile(r'(?:(?P<property>\w+):)?(?:"(?P<quoted>[^"]*)"|(?P<word>\S+))')
SEARCH_PROPERTIES = ("from", "to", "cc", "bcc", "recipients", "participants", "subject", "body")


def _search(value: str) -> list:
    """$search="..." -> [(property or None, term)]; terms are ANDed. The value must be in double quotes."""
    value = value.strip()
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        raise bad_request("BadRequest", "Syntax error: the $search value must be enclosed in double quotes.")
    terms = []
    for match in _SEARCH_TERM.finditer(value[1:-1].replace('\\"', '"')):
        prop = (match["property"] or "").lower() or None
        if prop is not None and prop not in SEARCH_PROPERTIES:
            raise bad_request("ErrorNotSupportedBySandbox", f"The sandbox does not search the property '{prop}'.")
        terms.append((prop, (match["quoted"] if match["quoted"] is not None else match["word"]).lower()))
    return terms


class _Filter:
    """A recursive-descent parser of the $filter subset Graph takes on messages, straight to SQL."""

    def __init__(self, text: str, paths: list[str]):
        self.tokens = []
        position = 0
        while position < len(text.rstrip()):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise bad_request(*INVALID_FILTER)
            kind = match.lastgroup
            self.tokens.append((kind, match[kind]))
            position = match.end()
        self.position = 0
        self.paths = paths              # the properties named, in order of first appearance

    def parse(self) -> tuple[str, list]:
        sql, params = self._or()
        if self.position != len(self.tokens):
            raise bad_request(*INVALID_FILTER)
        return sql, params

    # -- tokens ---------------------------------------------------------------------------

    def _peek(self, offset: int = 0):
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else (None, None)

    def _take(self, kind=None, value=None):
        token = self._peek()
        if token[0] is None or (kind and token[0] != kind) or (value and str(token[1]).lower() != value):
            raise bad_request(*INVALID_FILTER)
        self.position += 1
        return token[1]

    def _is(self, value: str) -> bool:
        token = self._peek()
        return token[0] in ("name", "symbol") and token[1].lower() == value

    # -- grammar --------------------------------------------------------------------------

    def _or(self):
        return self._joined("or", self._and)

    def _and(self):
        return self._joined("and", self._unary)

    def _joined(self, keyword: str, operand):
        """operand (keyword operand)*, left to right."""
        sql, params = operand()
        while self._is(keyword):
            self._take()
            right, more = operand()
            sql, params = f"({sql} {keyword.upper()} {right})", params + more
        return sql, params

    def _unary(self):
        if self._is("not"):
            self._take()
            sql, params = self._unary()
            return f"NOT COALESCE(({sql}), 0)", params
        if self._is("("):
            self._take()
            result = self._or()
            self._take("symbol", ")")
            return result
        if self._peek()[0] == "name" and self._peek(1) == ("symbol", "(") and \
                self._peek()[1].lower() in ("contains", "startswith", "endswith"):
            return self._function()
        return self._comparison()

    def _path(self) -> str:
        parts = [self._take("name")]
        while self._is("/") and self._peek(1)[0] == "name" and self._peek(1)[1].lower() != "any":
            self._take()
            parts.append(self._take("name"))
        path = "/".join(parts)
        lowered = path.lower()
        if lowered.split("/")[0] in _RECIPIENT_LISTS or lowered.startswith(("body", "uniquebody")):
            raise bad_request(*INVALID_NODES)
        if lowered not in _PATHS and lowered not in ("categories", "singlevalueextendedproperties"):
            raise _unknown_property(parts[-1])
        if lowered not in self.paths:
            self.paths.append(lowered)
        return lowered

    def _literal(self, kind: str):
        token_kind, text = self._peek()
        self._take()
        if kind == "bool":
            if token_kind != "name" or text.lower() not in ("true", "false"):
                raise bad_request(*INVALID_FILTER)
            return 1 if text.lower() == "true" else 0
        if kind == "datetime":
            if token_kind != "datetime":
                raise bad_request(*INVALID_FILTER)
            return normalize_datetime(text)
        if token_kind != "string":
            raise bad_request(*INVALID_FILTER)
        return text[1:-1].replace("''", "'")

    def _comparison(self):
        path = self._path()
        if self._is("/"):
            return self._any(path)
        if path in ("categories", "singlevalueextendedproperties"):
            raise bad_request(*INVALID_NODES)
        operator = self._take("name").lower()
        if operator not in _OPERATORS:
            raise bad_request(*INVALID_FILTER)
        operand, kind = _PATHS[path]
        if self._is("null"):
            self._take()
            return f"{operand} IS {'NOT ' if operator == 'ne' else ''}NULL", []
        value = self._literal(kind)
        if kind == "text":
            return f"COALESCE({operand}, '') {_OPERATORS[operator]} ? COLLATE NOCASE", [value]
        return f"{operand} {_OPERATORS[operator]} ?", [value]

    def _function(self):
        name = self._take("name").lower()
        self._take("symbol", "(")
        path = self._path()
        self._take("symbol", ",")
        if name == "endswith" or _PATHS[path][1] != "text":
            raise bad_request(*INVALID_NODES)
        value = self._literal("text").lower()
        self._take("symbol", ")")
        return _text_function(name, f"lower(COALESCE({_PATHS[path][0]}, ''))", value)

    def _any(self, path: str):
        self._take("symbol", "/")
        self._take("name", "any")
        self._take("symbol", "(")
        variable = self._take("name")
        self._take("symbol", ":")
        if path == "categories":
            self._take("name", variable.lower())
            self._take("name", "eq")
            value = self._literal("text")
            self._take("symbol", ")")
            return "EXISTS (SELECT 1 FROM json_each(items.categories) AS c WHERE c.value = ? COLLATE NOCASE)", [value]
        if path != "singlevalueextendedproperties":
            raise bad_request(*INVALID_NODES)
        self._lambda_path(variable, "id")
        self._take("name", "eq")
        property_id = self._literal("text")
        key, _ = parse_extended_id(property_id)
        condition, params = "1", []
        if self._is("and"):
            self._take()
            condition, params = self._extended_value(variable)
        self._take("symbol", ")")
        return (f"items.seq IN (SELECT item_seq FROM extended_properties WHERE prop_key = ? AND {condition})",
                [key] + params)

    def _lambda_path(self, variable: str, name: str) -> None:
        self._take("name", variable.lower())
        self._take("symbol", "/")
        self._take("name", name)

    def _extended_value(self, variable: str):
        """The value test inside singleValueExtendedProperties/any(...): case-insensitive for strings, as documented."""
        if self._peek()[0] == "name" and self._peek()[1].lower() in ("contains", "startswith"):
            name = self._take().lower()
            self._take("symbol", "(")
            self._lambda_path(variable, "value")
            self._take("symbol", ",")
            value = self._literal("text").lower()
            self._take("symbol", ")")
            return _text_function(name, "lower(value)", value)
        if self._is("cast"):
            self._take()
            self._take("symbol", "(")
            self._lambda_path(variable, "value")
            self._take("symbol", ",")
            self._take("name")
            self._take("symbol", ")")
            operator = _OPERATORS.get(self._take("name").lower())
            number = self._take("number")
            if operator is None:
                raise bad_request(*INVALID_FILTER)
            return f"CAST(value AS REAL) {operator} ?", [float(number)]
        self._lambda_path(variable, "value")
        operator = self._take("name").lower()
        if operator not in ("eq", "ne"):
            raise bad_request(*INVALID_FILTER)
        return f"value {_OPERATORS[operator]} ? COLLATE NOCASE", [self._literal("text")]


def _text_function(name: str, operand: str, value: str) -> tuple[str, list]:
    if name == "contains":
        return f"instr({operand}, ?) > 0", [value]
    return f"substr({operand}, 1, ?) = ?", [len(value), value]
