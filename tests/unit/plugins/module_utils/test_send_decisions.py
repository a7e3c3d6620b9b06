# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exactly-once protocol's decisions (send_decisions.py): table-driven, and the tables the docs show."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import itertools
import os

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import properties
from ansible_collections.exchange.ews.plugins.module_utils import send_decisions as d
from ansible_collections.exchange.ews.plugins.module_utils.properties import SendState

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "exactly-once.md")


def observation(**fields):
    return d.Observation(**fields)


# One or more cases per row of DECISION_TABLE, in its order: (fields, expected decision).
CASES = [
    (dict(present=False), d.RECOVER),
    (dict(present=False, is_draft=False, marker="ours", state="pending", owner="self", our_send=True), d.RECOVER),
    # Case 4 of issue 9: a received message (not a draft, no marker) is never touched or reported sent.
    (dict(is_draft=False, marker="none"), d.NOT_A_DRAFT),
    (dict(is_draft=False, marker="other", state="none"), d.NOT_A_DRAFT),
    (dict(is_draft=False, marker="ours", state="pending", owner="self", key="own", held=True, our_send=True), d.SENT),
    (dict(is_draft=False, marker="ours", state="pending", owner="other", claim="live"), d.ALREADY_SENT),
    (dict(is_draft=False, marker="ours", state="released", owner="self", our_send=False), d.ALREADY_SENT),
    (dict(is_draft=False, marker="ours", state="none"), d.ALREADY_SENT),
    (dict(marker="ours", state="sent", owner="self", key="own", held=True, our_send=True), d.SENT),
    (dict(marker="ours", state="sent", owner="other"), d.ALREADY_SENT),
    # Case 5: edited after this run's stamp, with change_key given: not sent.
    (dict(marker="ours", state="pending", owner="self", key="changed", held=True), d.STALE),
    (dict(marker="ours", state="pending", owner="self", key="own", held=True), d.SEND),
    (dict(marker="ours", state="pending", owner="self", key="unpinned", held=True), d.SEND),
    # Case 2: a run whose claim was taken over never takes it back, whatever the claim's age.
    (dict(marker="ours", state="pending", owner="other", claim="expired", key="unpinned", held=True), d.WAIT),
    (dict(marker="ours", state="pending", owner="other", claim="live", key="caller"), d.WAIT),
    (dict(marker="ours", state="pending", owner="other", claim="expired", key="changed"), d.WAIT),
    (dict(marker="ours", state="pending", owner="other", claim="expired", key="caller"), d.SEND),
    (dict(marker="ours", state="pending", owner="other", claim="expired", key="unpinned"), d.SEND),
    # Case 5, third form: a released draft re-run with an old change_key.
    (dict(marker="ours", state="released", owner="other", key="changed"), d.STALE),
    (dict(key="changed"), d.STALE),
    (dict(marker="ours", state="released", owner="self", key="caller"), d.SEND),
    (dict(), d.SEND),
    (dict(marker="other", key="caller"), d.SEND),
]


@pytest.mark.parametrize("fields, expected", CASES)
def test_decision_table(fields, expected):
    assert d.decide(observation(**fields))[0] == expected


def test_every_row_of_the_table_is_exercised():
    rows_hit = set()
    for fields, _expected in CASES:
        obs = observation(**fields)
        rows_hit.add(next(index for index, (conditions, _dec, _why) in enumerate(d.DECISION_TABLE)
                          if d._matches(conditions, obs)))
    assert rows_hit == set(range(len(d.DECISION_TABLE)))


def realizable(obs):
    """Combinations ``observe`` can produce (the state fields only mean something with this id's marker)."""
    if obs.marker != "ours" and (obs.state != "none" or obs.owner != "none"):
        return False
    if (obs.state == "none") != (obs.owner == "none"):
        return False
    if (obs.claim != "none") != (obs.state == "pending" and obs.owner == "other"):
        return False
    if obs.key == "own" and not obs.held:
        return False
    return True


ALL_OBSERVATIONS = [o for o in (d.Observation(**dict(zip(d.FIELDS, values)))
                                for values in itertools.product(*[domain for _name, domain in d.DOMAINS]))
                    if realizable(o)]


@pytest.mark.parametrize("rule, holds", [
    ("nothing that is not a draft is ever sent",
     lambda o, dec: not (dec == d.SEND and not o.is_draft)),
    ("a non-draft without this id's marker fails untouched, and only it",
     lambda o, dec: (dec == d.NOT_A_DRAFT) == (o.present and not o.is_draft and o.marker != "ours")),
    ("a pinned change_key that someone else changed is never sent",
     lambda o, dec: not (dec == d.SEND and o.key == "changed")),
    ("another run's live claim is never taken over",
     lambda o, dec: not (dec == d.SEND and o.claim == "live")),
    ("a run whose claim was taken over never takes it back",
     lambda o, dec: not (dec == d.SEND and o.state == "pending" and o.owner == "other" and o.held)),
    ("a run reports sent only when its own send may have gone out",
     lambda o, dec: dec != d.SENT or o.our_send),
    ("a draft nobody claims and nobody changed is sent",
     lambda o, dec: not (o.present and o.is_draft and o.state in ("none", "released") and o.key != "changed")
     or dec == d.SEND),
])
def test_rules_hold_for_every_observation(rule, holds):
    broken = [o for o in ALL_OBSERVATIONS if not holds(o, d.decide(o)[0])]
    assert not broken, "%s: broken for %r" % (rule, broken[:3])


@pytest.mark.parametrize("server_age, watched, timeout, expired", [
    (130.0, 0.0, 120, True),        # a crashed run's claim, written long ago on the server's clock
    (30.0, 0.0, 120, False),
    (30.0, 125.0, 120, True),       # young on a server whose clock jumped back, but watched long enough
    (None, 0.0, 120, False),        # no Date header: only this run's watch counts
    (None, 121.0, 120, True),
    (-60.0, 0.0, 10, False),        # dated in the future (skewed server clock)...
    (-60.0, 10.0, 10, True),        # ...expires once watched for pending_timeout (case 6)
    (-1e9, 10.0, 10, True),         # a far-future date still ends
    (0.0, 0.0, 0, True),            # pending_timeout 0: every claim of another run has expired
])
def test_claim_expiry_on_the_servers_clock(server_age, watched, timeout, expired):
    assert d.claim_expired(server_age, watched, timeout) is expired


RUN = "thisrun"
MARK = properties.marker_for("AAMk1")


@pytest.mark.parametrize("raw, expected", [
    (dict(is_draft=True, marker=None, state=None, current_key="K0", caller_key=None, own_keys=()),
     dict(marker="none", state="none", owner="none", key="unpinned", claim="none", held=False)),
    (dict(is_draft=True, marker=MARK, state=SendState("pending", "other", 1), current_key="K1", caller_key="K0",
          own_keys=(), claim_live=False),
     dict(marker="ours", state="pending", owner="other", key="changed", claim="expired")),
    (dict(is_draft=True, marker=MARK, state=SendState("pending", RUN, 1), current_key="K1", caller_key="K0",
          own_keys=("K1",)),
     dict(marker="ours", state="pending", owner="self", key="own", claim="none", held=True)),
    (dict(is_draft=True, marker=MARK, state=SendState("pending", "other", 1), current_key="K0", caller_key="K0",
          own_keys=(), claim_live=True),
     dict(key="caller", claim="live")),
    # A state copied along with another draft's marker describes that other draft: ignored.
    (dict(is_draft=True, marker="f" * 64, state=SendState("pending", "other", 1), current_key="K0",
          caller_key=None, own_keys=()),
     dict(marker="other", state="none", owner="none", claim="none")),
    (dict(is_draft=False, marker=None, state=None, current_key="K0", caller_key=None, own_keys=()),
     dict(is_draft=False, marker="none")),
])
def test_observe(raw, expected):
    arguments = dict(expected_marker=MARK, run_token=RUN, claim_live=True, our_send=False)
    arguments.update(raw)
    arguments["own_keys"] = set(arguments["own_keys"])
    obs = d.observe(**arguments)
    assert dict((name, getattr(obs, name)) for name in expected) == expected


def copy(is_draft=False, in_outbox=False, owner=None):
    return d.Copy(is_draft, in_outbox, SendState("pending", owner, 1) if owner else None)


@pytest.mark.parametrize("copies, our_send, expected", [
    ([copy(owner=RUN)], True, d.SENT),
    ([copy(is_draft=True, in_outbox=True, owner=RUN)], True, d.SENT),   # in flight in the Outbox
    ([copy(owner=RUN)], False, d.ALREADY_SENT),     # our stamp, but our send was refused: someone else sent it
    ([copy(owner="other")], True, d.ALREADY_SENT),
    ([copy(is_draft=True, in_outbox=True)], False, d.ALREADY_SENT),
    # Case 3: a stamped draft moved into Sent Items by a user or a rule proves nothing.
    ([copy(is_draft=True, owner="other")], False, d.MISSING),
    ([copy(is_draft=True, owner=RUN)], True, d.UNKNOWN),
    ([], True, d.UNKNOWN),                          # save_copy false and a lost answer (case 8)
    ([], False, d.MISSING),
    ([copy(is_draft=True), copy(owner="other")], False, d.ALREADY_SENT),   # the strongest evidence wins
])
def test_judge_copies(copies, our_send, expected):
    assert d.judge_copies(copies, RUN, our_send)[0] == expected


@pytest.mark.parametrize("copies, our_send, exclusive, expected", [
    # Graph, stamps compare-and-set and no claim taken over: this run's stamp on the copy is this run's send.
    ([copy(owner=RUN)], True, True, d.SENT),
    # Graph, If-Match ignored (or a claim taken over): another run may have sent it under this run's stamp.
    ([copy(owner=RUN)], True, False, d.UNKNOWN),
    # Graph's send checks no ChangeKey: this run's lost send may have gone out under another run's stamp.
    ([copy(owner="other")], True, True, d.UNKNOWN),
    ([copy(owner="other")], False, False, d.ALREADY_SENT),   # this run's send did not go out: someone else's did
    ([copy(owner=RUN)], False, False, d.ALREADY_SENT),
    ([], True, True, d.UNKNOWN),
    ([], False, True, d.MISSING),
])
def test_judge_copies_where_the_send_checks_no_change_key(copies, our_send, exclusive, expected):
    assert d.judge_copies(copies, RUN, our_send, exclusive=exclusive, send_checked=False)[0] == expected


@pytest.mark.parametrize("owner", [RUN, "other"])
@pytest.mark.parametrize("our_send", [True, False])
def test_ews_writes_prove_by_default(owner, our_send):
    """EWS: the stamp and the send are compare-and-set writes (the defaults), as before Graph."""
    expected = d.SENT if owner == RUN and our_send else d.ALREADY_SENT
    assert d.judge_copies([copy(owner=owner)], RUN, our_send, exclusive=True, send_checked=True)[0] == expected


def _cell(conditions, name):
    if name not in conditions:
        return "·"
    value = conditions[name]
    values = value if isinstance(value, tuple) else (value,)
    return " or ".join({True: "yes", False: "no"}.get(v, v) if isinstance(v, bool) else v for v in values)


def render(table, fields):
    lines = ["| # | %s | decision | why |" % " | ".join(fields),
             "|---|%s---|---|" % ("---|" * len(fields))]
    for number, (conditions, decision, why) in enumerate(table, 1):
        cells = " | ".join(_cell(conditions, f) for f in fields)
        lines.append("| %d | %s | **%s** | %s |" % (number, cells, decision, why))
    return "\n".join(lines)


@pytest.mark.parametrize("table, fields", [
    (d.DECISION_TABLE, d.FIELDS),
    (d.COPY_TABLE, tuple(name for name, _values in d.COPY_DOMAINS)),
])
def test_the_documented_tables_are_these(table, fields):
    with open(DOCS, encoding="utf-8") as stream:
        docs = stream.read()
    rendered = render(table, fields)
    assert rendered in docs, "docs/exactly-once.md must contain this table:\n" + rendered


def test_state_values_round_trip():
    value = properties.state_value(properties.PENDING, RUN, datetime.datetime(2026, 1, 2).timestamp())
    parsed = SendState.parse(value)
    assert (parsed.kind, parsed.run_token) == ("pending", RUN)
    assert SendState.parse("pending:x") is None and SendState.parse("bogus:x:1") is None
