"""FindItem t:Restriction and t:SortOrder -> SQL over the store's ``items`` table.

Translating to SQL (rather than filtering in Python) keeps restricted FindItem
fast on large folders: an extended property test becomes an indexed
``seq IN (SELECT item_seq FROM extended_properties ...)``, and an ``Or`` of
equalities on one property becomes a single ``IN (...)``.
"""

from __future__ import annotations

from lxml import etree

from ..errors import ItemError
from ..namespaces import first_child, qt
from .properties import MESSAGE_FLAGS, MESSAGE_FLAGS_SQL, ExtendedPath, Field, find_path, normalize_datetime, parse_bool

UNSUPPORTED = ("ErrorUnsupportedQueryFilter", "The restriction contains a query filter that is not supported.")
UNSUPPORTED_PATH = ("ErrorUnsupportedPathForQuery", "The property path is not supported for this query.")
INVALID_VALUE = ("ErrorInvalidValueForProperty", "The value is invalid for property.")

_COMPARISONS = {
    "IsEqualTo": "=",
    "IsNotEqualTo": "=",   # negated below, so items without the property match too
    "IsGreaterThan": ">",
    "IsGreaterThanOrEqualTo": ">=",
    "IsLessThan": "<",
    "IsLessThanOrEqualTo": "<=",
}
_NUMERIC_TYPES = {"Short", "Integer", "Long", "Float", "Double", "Currency", "ApplicationTime"}


def _localname(element: etree._Element) -> str:
    return etree.QName(element).localname


def _where(path, template: str, params: list) -> tuple[str, list]:
    """Apply ``template`` (with ``{v}`` for the operand) to a field column or to an extended property value."""
    if isinstance(path, ExtendedPath) and path.key == MESSAGE_FLAGS:
        return template.format(v=MESSAGE_FLAGS_SQL), params
    if isinstance(path, ExtendedPath):
        return ("seq IN (SELECT item_seq FROM extended_properties WHERE prop_key = ? AND %s)"
                % template.format(v="value"), [path.key] + params)
    if not path.searchable or not path.sql:
        raise ItemError(*UNSUPPORTED_PATH)
    if path.kind == "strings":
        # A multi-valued property (Categories) matches when any one of its values does.
        return ("EXISTS (SELECT 1 FROM json_each(items.%s) AS v WHERE %s)" % (path.column, template.format(v="v.value")),
                params)
    return template.format(v=path.sql), params


def _constant(path, element: etree._Element):
    """The t:Constant operand, converted to how the store keeps that property."""
    operand = first_child(element, qt("FieldURIOrConstant"))
    constant = first_child(operand, qt("Constant")) if operand is not None else None
    if constant is None:
        raise ItemError(*UNSUPPORTED)   # field-to-field comparisons are not needed by any client we serve
    value = constant.get("Value", "")
    kind = path.kind if isinstance(path, Field) else None
    if kind == "bool" or (isinstance(path, ExtendedPath) and path.prop_type == "Boolean"):
        return 1 if parse_bool(value) else 0
    if kind == "datetime":
        try:
            return normalize_datetime(value)
        except ValueError:
            raise ItemError(*INVALID_VALUE) from None
    return value


def _comparison(name: str, element: etree._Element) -> tuple[str, list]:
    path = find_path(element)
    value = _constant(path, element)
    operator = _COMPARISONS[name]
    if isinstance(path, ExtendedPath) and path.prop_type in _NUMERIC_TYPES:
        template = "CAST({v} AS REAL) %s CAST(? AS REAL)" % operator
    elif isinstance(path, ExtendedPath) and path.prop_type == "Boolean":
        template = "(lower({v}) IN ('true', '1')) %s ?" % operator
    else:
        template = "{v} %s ? COLLATE NOCASE" % operator
    sql, params = _where(path, template, [value])
    if name == "IsNotEqualTo":
        return "NOT COALESCE((%s), 0)" % sql, params
    return sql, params


def _contains(element: etree._Element) -> tuple[str, list]:
    path = find_path(element)
    value = element.find(qt("Constant")).get("Value", "")
    mode = element.get("ContainmentMode", "Substring")
    comparison = element.get("ContainmentComparison", "Exact")
    ignore_case = "IgnoreCase" in comparison or "Loose" in comparison
    operand = "lower({v})" if ignore_case else "{v}"
    if ignore_case:
        value = value.lower()
    if mode in ("FullString", "ExactPhrase"):
        template, params = operand + " = ?", [value]
    elif mode == "Prefixed":
        template, params = "substr(%s, 1, ?) = ?" % operand, [len(value), value]
    elif mode == "PrefixOnWords":
        template, params = "(substr(%s, 1, ?) = ? OR instr(%s, ?) > 0)" % (operand, operand), [len(value), value, " " + value]
    else:
        template, params = "instr(%s, ?) > 0" % operand, [value]
    return _where(path, template, params)


def _exists(element: etree._Element) -> tuple[str, list]:
    path = find_path(element)
    if isinstance(path, ExtendedPath):
        return _where(path, "1", [])
    return _where(path, "({v} IS NOT NULL AND {v} NOT IN ('', '[]'))", [])


def _equalities_on_one_path(children: list[etree._Element]):
    """If every child is IsEqualTo(same path, constant), return (path, values): the Or becomes one IN (...)."""
    if not children or any(_localname(child) != "IsEqualTo" for child in children):
        return None
    paths = [find_path(child) for child in children]
    if any(path != paths[0] for path in paths):
        return None
    if isinstance(paths[0], ExtendedPath) and paths[0].prop_type in _NUMERIC_TYPES | {"Boolean"}:
        return None   # those compare by value, not text
    return paths[0], [_constant(paths[0], child) for child in children]


def to_sql(expression: etree._Element) -> tuple[str, list]:
    """A search expression element (IsEqualTo, And, Or, Not, Contains, Exists...) -> (SQL, params)."""
    name = _localname(expression)
    children = [child for child in expression if isinstance(child.tag, str)]
    if name == "Or":
        merged = _equalities_on_one_path(children)
        if merged:
            path, values = merged
            return _where(path, "{v} COLLATE NOCASE IN (%s)" % ",".join("?" * len(values)), values)
    if name in ("And", "Or"):
        parts = [to_sql(child) for child in children]
        joiner = " AND " if name == "And" else " OR "
        return "(" + joiner.join(sql for sql, _ in parts) + ")", [p for _, params in parts for p in params]
    if name == "Not":
        sql, params = to_sql(children[0])
        return "NOT COALESCE((%s), 0)" % sql, params
    if name in _COMPARISONS:
        return _comparison(name, expression)
    if name == "Contains":
        return _contains(expression)
    if name == "Exists":
        return _exists(expression)
    raise ItemError(*UNSUPPORTED)


def restriction_sql(restriction: etree._Element | None) -> tuple[str, list]:
    """m:Restriction -> (SQL, params); no restriction -> ("", [])."""
    if restriction is None:
        return "", []
    expressions = [child for child in restriction if isinstance(child.tag, str)]
    return to_sql(expressions[0]) if expressions else ("", [])


def order_sql(sort_order: etree._Element | None) -> str:
    """m:SortOrder -> ORDER BY clause (ties broken by insertion order, for stable paging)."""
    if sort_order is None:
        return ""
    clauses = []
    for field_order in sort_order.iter(qt("FieldOrder")):
        path = find_path(field_order)
        direction = "DESC" if field_order.get("Order", "Ascending") == "Descending" else "ASC"
        if isinstance(path, ExtendedPath) and path.key == MESSAGE_FLAGS:
            operand = MESSAGE_FLAGS_SQL
        elif isinstance(path, ExtendedPath):
            key = path.key.replace("'", "''")
            operand = "(SELECT value FROM extended_properties WHERE item_seq = items.seq AND prop_key = '%s')" % key
            operand = "CAST(%s AS REAL)" % operand if path.prop_type in _NUMERIC_TYPES else operand + " COLLATE NOCASE"
        elif path.searchable and path.sql:
            operand = path.sql + (" COLLATE NOCASE" if path.kind in ("text", "computed", "mailbox") else "")
        else:
            raise ItemError(*UNSUPPORTED_PATH)
        clauses.append("%s %s" % (operand, direction))
    clauses.append("seq %s" % ("DESC" if clauses and clauses[0].endswith("DESC") else "ASC"))
    return ", ".join(clauses)
