# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of the exactly-once protocol, as pure functions (no I/O).

``decide(observation)`` says what to do with a draft after one read (step 1 of
docs/exactly-once.md): the first row of ``DECISION_TABLE`` whose conditions all
hold. ``judge_copies`` says what the copies found by marker (step 5) prove.
``claim_expired`` ages another run's claim on the server's clock.
``observe`` turns what a read returned into the discrete ``Observation`` the
table is written in. docs/exactly-once.md shows both tables; a unit test
checks that the documented tables are these ones.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils import properties

# What to do with a draft after step 1.
SEND = "send"                  # stamp it (compare-and-set on its ChangeKey), then send it
WAIT = "wait"                  # another run holds it: read again later
RECOVER = "recover"            # gone from where it was: look for a submitted copy (step 5)
SENT = "sent"                  # this run's send went out; nothing to write
ALREADY_SENT = "already_sent"  # sent before this run (or by another run); nothing to write
NOT_A_DRAFT = "not_a_draft"    # fail; left untouched
STALE = "stale"                # fail with ErrorStaleObject; this run's claim, if on it, is released

# What the copies found in step 5 say.
MISSING = "missing"            # no proof either way: gone, and nothing submitted carries its marker
UNKNOWN = "unknown"            # this run's send may have gone out, and nothing can prove it either way

ANY = None

# The values of each Observation field. "state", "owner", "claim" describe the
# send state only when the item carries this id's marker; otherwise they are "none".
DOMAINS = (
    ("present", (True, False)),
    ("is_draft", (True, False)),
    ("marker", ("ours", "other", "none")),
    ("state", ("none", "pending", "released", "sent")),
    ("owner", ("none", "self", "other")),
    ("key", ("own", "caller", "unpinned", "changed")),
    ("claim", ("none", "live", "expired")),
    ("held", (True, False)),
    ("our_send", (True, False)),
)
FIELDS = tuple(name for name, _values in DOMAINS)


class Observation:
    """What one read showed of one item, in the table's terms.

    ``present``: the read found the id. ``is_draft``: IsDraft. ``marker``: the
    send marker is this id's (``ours``), another id's (``other``) or absent.
    ``state``/``owner``: the send state and whether this run wrote it.
    ``key``: the current ChangeKey is one this run's own stamp produced
    (``own``), the caller's ``change_key`` (``caller``), the caller gave none
    (``unpinned``), or it is neither (``changed``). ``claim``: another run's
    pending claim is ``live`` or ``expired``. ``held``: this run held a claim
    on the item earlier. ``our_send``: a SendItem of this run may have
    processed the item (it answered Success, or its response was lost).
    """

    __slots__ = FIELDS

    def __init__(self, present=True, is_draft=True, marker="none", state="none", owner="none", key="unpinned",
                 claim="none", held=False, our_send=False):
        self.present = present
        self.is_draft = is_draft
        self.marker = marker
        self.state = state
        self.owner = owner
        self.key = key
        self.claim = claim
        self.held = held
        self.our_send = our_send

    def as_dict(self):
        return dict((name, getattr(self, name)) for name in FIELDS)

    def __repr__(self):
        return "Observation(%s)" % ", ".join("%s=%r" % item for item in self.as_dict().items())


def _row(decision, why, **conditions):
    unknown = set(conditions) - set(FIELDS)
    if unknown:
        raise ValueError("unknown condition(s) %s" % ", ".join(sorted(unknown)))
    return (conditions, decision, why)


# First match wins. A condition's value is one value of the field's domain or a tuple of them.
DECISION_TABLE = (
    _row(RECOVER, "gone from where it was: sent and moved, deleted, or moved by someone; look for a submitted copy",
         present=False),
    _row(NOT_A_DRAFT, "not a draft, and this module never sent it: left untouched",
         is_draft=False, marker=("other", "none")),
    _row(SENT, "no longer a draft after this run's send: it went out, and Exchange left it behind",
         is_draft=False, owner="self", our_send=True),
    _row(ALREADY_SENT, "no longer a draft and carries its send marker: it went out before",
         is_draft=False),
    _row(SENT, "stamped sent by this run after its send answered Success",
         state="sent", owner="self", our_send=True),
    _row(ALREADY_SENT, "stamped sent by a run whose send answered Success, though Exchange left it a draft",
         state="sent"),
    _row(STALE, "edited after this run's stamp, and change_key pins the version to send",
         state="pending", owner="self", key="changed"),
    _row(SEND, "this run's own claim: send it (again)",
         state="pending", owner="self"),
    _row(WAIT, "another run took over this run's claim: that run sends it",
         state="pending", owner="other", held=True),
    _row(WAIT, "another run's claim is live",
         state="pending", owner="other", claim="live"),
    _row(WAIT, "another run's claim expired, but under it the pinned change_key cannot be checked: wait for it",
         state="pending", owner="other", key="changed"),
    _row(SEND, "another run's claim expired: take it over",
         state="pending", owner="other"),
    _row(STALE, "edited since its change_key was read",
         key="changed"),
    _row(SEND, "a draft nobody holds: claim it and send it"),
)


def _matches(conditions, observation):
    for name, wanted in conditions.items():
        value = getattr(observation, name)
        if isinstance(wanted, tuple):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def _first_match(table, observation):
    for conditions, decision, why in table:
        if _matches(conditions, observation):
            return decision, why
    raise AssertionError("no row matches %r" % (observation,))  # every table ends with a catch-all row


def decide(observation):
    """``(decision, why)`` for an ``Observation``: the first matching row of ``DECISION_TABLE``."""
    return _first_match(DECISION_TABLE, observation)


def claim_expired(server_age, watched, pending_timeout):
    """Whether another run's claim may be taken over.

    ``server_age``: seconds between the item's LastModifiedTime and the
    server's current time (both the server's clock; None when unknown).
    ``watched``: seconds this run has seen the same claim unchanged (its own
    monotonic clock). A claim dated in the future (a negative age: the clock
    of the server that wrote it is ahead) therefore still expires once it has
    been watched for ``pending_timeout``.
    """
    age = max(server_age if server_age is not None else 0.0, watched)
    return age >= pending_timeout


def observe(is_draft, marker, expected_marker, state, run_token, current_key, caller_key, own_keys, claim_live,
            our_send):
    """The ``Observation`` of an item the read found.

    ``marker``/``state``: the raw property values (None when absent);
    ``state`` is a ``properties.SendState`` or None. ``claim_live`` is only
    consulted for another run's pending claim (see ``claim_expired``).
    """
    if not marker:
        marker_kind = "none"
    elif marker == expected_marker:
        marker_kind = "ours"
    else:
        marker_kind = "other"
    if marker_kind == "ours" and state is not None:
        state_kind = state.kind
        owner = "self" if state.run_token == run_token else "other"
    else:
        # A state without this id's marker belongs to another item (a copied draft): it says nothing here.
        state_kind, owner = "none", "none"
    if current_key in own_keys:
        key = "own"
    elif not caller_key:
        key = "unpinned"
    elif current_key == caller_key:
        key = "caller"
    else:
        key = "changed"
    claim = "none"
    if state_kind == properties.PENDING and owner == "other":
        claim = "live" if claim_live else "expired"
    return Observation(present=True, is_draft=bool(is_draft), marker=marker_kind, state=state_kind, owner=owner,
                       key=key, claim=claim, held=bool(own_keys), our_send=bool(our_send))


class Copy:
    """A message found by marker in step 5: ``is_draft``, ``in_outbox``, its send ``state`` (SendState or None)."""

    __slots__ = ("is_draft", "in_outbox", "state")

    def __init__(self, is_draft, in_outbox, state=None):
        self.is_draft = is_draft
        self.in_outbox = in_outbox
        self.state = state


COPY_DOMAINS = (
    ("submitted", (True, False)),
    ("stamped_by_us", (True, False)),
    ("our_send", (True, False)),
    ("exclusive", (True, False)),
    ("send_checked", (True, False)),
)

# What a gone item's copies prove (step 5), judged per copy; first match wins. A copy is
# "submitted" when it is in the Outbox (in flight) or no longer a draft: a draft that was
# only moved proves nothing. "exclusive": no other run can have sent the draft under this
# run's stamp (EWS: always, its send checks the stamp's ChangeKey; Graph: only when its
# stamps were compare-and-set writes and this run took over no other run's claim on it).
# "send_checked": the send itself was a compare-and-set on this run's stamp (EWS yes,
# Graph no), so a copy under another run's stamp proves another run's send.
COPY_TABLE = (
    ({"submitted": True, "stamped_by_us": True, "our_send": True, "exclusive": True}, SENT,
     "a submitted copy carries this run's stamp, and this run's send may have gone out"),
    ({"submitted": True, "our_send": True, "send_checked": False}, UNKNOWN,
     "a submitted copy, but this run's send may have gone out (its answer was lost) and the send checks no "
     "ChangeKey, so the copy's stamp cannot tell whose send it was"),
    ({"submitted": True}, ALREADY_SENT, "a submitted copy carries its marker: sent before"),
    ({"our_send": True}, UNKNOWN, "no submitted copy, and this run's send may have gone out (its answer was lost)"),
    ({}, MISSING, "no submitted copy: not sent by this module, or sent without a saved copy"),
)
# When copies disagree, the strongest evidence wins.
_COPY_STRENGTH = (SENT, ALREADY_SENT, UNKNOWN, MISSING)


class _CopyObservation:
    __slots__ = tuple(name for name, _values in COPY_DOMAINS)

    def __init__(self, submitted, stamped_by_us, our_send, exclusive, send_checked):
        self.submitted = submitted
        self.stamped_by_us = stamped_by_us
        self.our_send = our_send
        self.exclusive = exclusive
        self.send_checked = send_checked


def judge_copies(copies, run_token, our_send, exclusive=True, send_checked=True):
    """``(outcome, why, copy)`` for a gone item from the copies step 5 found: the strongest row any copy
    (or, with none, the absence of one) matches in ``COPY_TABLE``; ``copy`` is the deciding copy or None.
    ``exclusive`` and ``send_checked``: what the backend's writes prove (see ``COPY_TABLE``)."""
    judged = []
    for copy in list(copies) or [None]:
        observation = _CopyObservation(
            submitted=copy is not None and (copy.in_outbox or not copy.is_draft),
            stamped_by_us=copy is not None and copy.state is not None and copy.state.run_token == run_token,
            our_send=bool(our_send), exclusive=bool(exclusive), send_checked=bool(send_checked))
        outcome, why = _first_match(COPY_TABLE, observation)
        judged.append((_COPY_STRENGTH.index(outcome), outcome, why, copy))
    _strength, outcome, why, copy = min(judged, key=lambda entry: entry[0])
    return outcome, why, copy
