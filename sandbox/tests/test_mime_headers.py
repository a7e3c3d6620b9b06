"""The MIME writer's header shortcut: a header written without folding has the bytes compat32 folding gives it."""

from __future__ import annotations

import random
import string
from email.errors import HeaderParseError
from email.header import Header
from email.policy import compat32

import pytest

from ews_sandbox.mime import WIRE

FOLDING = compat32.clone(linesep="\r\n")
NAMES = ("To", "Subject", "Message-ID", "X-A-Header-Name-Long-Enough-To-Move-The-Fold-Point")


def _values():
    edge_cases = ["", " ", "a", " a", "a ", "a  b", "a\tb", "a\rb", "a\nb", "a\nSubject: b", "=?utf-8?q?x?=",
                  "x" * 60, "x" * 66, "x" * 67, "x" * 68, "x" * 76, "word " * 16, "a;b,c d", "Zoë", "\x00", "\x7f"]
    rng = random.Random(13)
    alphabet = string.ascii_letters + string.digits + "   ;,=<>@\"()'.:-_\t"
    return edge_cases + ["".join(rng.choice(alphabet) for _ in range(rng.choice((5, 40, 64, 70, 75, 90))))
                         for _ in range(3000)]


def _folded(policy, name, value):
    """The header's bytes, or the error folding it raises (an embedded header)."""
    try:
        return policy.fold_binary(name, value)
    except HeaderParseError as error:
        return str(error)


@pytest.mark.parametrize("name", NAMES)
def test_headers_come_out_as_compat32_folds_them(name):
    for value in _values():
        assert _folded(WIRE, name, value) == _folded(FOLDING, name, value), value


def test_a_header_object_is_folded_as_before():
    value = Header("Zoë " * 30, "utf-8")
    assert WIRE.fold_binary("Subject", value) == FOLDING.fold_binary("Subject", value)
