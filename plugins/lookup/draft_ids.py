# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: draft_ids
author: Exchange EWS collection maintainers (@exchange-ews)
version_added: 0.1.0
short_description: Find Exchange drafts with one server-side search
description:
  - Returns the drafts of an Exchange folder that match every given filter, ready to pass to
    M(exchange.ews.send_item)'s O(exchange.ews.send_item#module:item_ids) unchanged.
  - All filters are combined into one EWS C(FindItem) restriction that Exchange evaluates; the lookup
    never downloads a folder to filter it locally. Results come back page by page (250 per page), so
    finding 3 drafts among 10,000 costs one C(FindItem) request.
  - Runs on the controller. Connection options are the modules' ones and can also come from
    environment variables and host or play variables.
  - Use it with C(query) (or C(lookup) with C(wantlist=true))
    to always get a list.
extends_documentation_fragment:
  - exchange.ews.connection
  - exchange.ews.connection.plugins
options:
  _terms:
    description:
      - Not used; give filters as keyword options.
    required: false
  folder:
    description:
      - The folder to search, not including subfolders.
      - A distinguished folder name (V(drafts), V(inbox), V(sentitems), V(outbox), V(deleteditems),
        V(junkemail), V(msgfolderroot), V(root)) or an EWS FolderId.
    type: str
    default: drafts
  mailbox:
    description:
      - SMTP address of the mailbox that owns O(folder) when it is a distinguished folder name.
      - Set it to the principal's address to search the principal's Drafts as a delegate.
      - Defaults to the authenticated (or impersonated) user's own mailbox.
    type: str
  subject:
    description:
      - Only drafts whose subject is exactly this text.
    type: str
  subject_contains:
    description:
      - Only drafts whose subject contains this text, ignoring case.
    type: str
  to:
    description:
      - Only drafts whose To line contains this text, ignoring case.
      - Exchange matches it against the To line as it displays it (C(DisplayTo)), which holds the
        recipients' display names, or their addresses when they have none. EWS cannot search or
        return the recipient addresses themselves without reading every draft.
    type: str
  created_after:
    description:
      - Only drafts created at or after this time.
      - An ISO 8601 date or date-time (V(2024-05-01), V(2024-05-01T08:00:00Z),
        V(2024-05-01T10:00:00+02:00); without an offset it is UTC), or an age relative to the
        controller's clock such as V(-30m), V(-12h), V(-1d), V(-2w) (units s, m, h, d, w).
    type: str
  created_before:
    description:
      - Only drafts created before this time. Same forms as O(created_after).
    type: str
  categories:
    description:
      - Only drafts that carry every one of these categories.
    type: list
    elements: str
  max_items:
    description:
      - Return at most this many drafts (the first ones in O(sort) order), between 1 and 100,000.
      - Without it every matching draft is returned, up to 1,000; when more match, the lookup fails
        with the number of matches rather than return a partial list. Narrow the filters, or set
        O(max_items) to get the first ones.
    type: int
  sort:
    description:
      - Order of the results.
      - V(newest_first) and V(oldest_first) sort by creation time, V(last_modified) puts the most
        recently modified first, V(subject) sorts by subject (newest first within a subject).
    type: str
    default: newest_first
    choices: [newest_first, oldest_first, last_modified, subject]
  exactly_one:
    description:
      - Fail unless exactly one draft matches; the error lists the drafts that did match (up to 10)
        and how many there were.
      - Cannot be combined with O(max_items).
    type: bool
    default: false
  match_all:
    description:
      - Return every draft of O(folder) when no filter is given.
      - Without a filter and without this option the lookup fails, so that a misspelt or forgotten
        filter never hands M(exchange.ews.send_item) the whole folder.
    type: bool
    default: false
  include_non_drafts:
    description:
      - Also return items that M(exchange.ews.send_item) would not send. By default the search itself
        leaves them out; they are items that are not drafts (sent and received messages, and a draft
        Exchange left behind after a delegate's send), and drafts an earlier C(send_item) run stamped
        as sent.
      - Such results carry RV(_raw[].is_draft=false) or RV(_raw[].send_state=sent).
    type: bool
    default: false
notes:
  - Lookups do not read C(module_defaults). Configure the connection once for both with variables
    (V(ews_url), V(ews_username), V(ews_password)... in group_vars or play vars, which the lookup reads)
    and a C(module_defaults) block that refers to the same variables, or with the E(EWS_*) environment
    variables, which both read. See the collection's README.
  - Unknown options are errors that list the valid ones, so a misspelt filter never widens the search.
  - Times in the results are ISO 8601 in UTC, as Exchange reports them.
  - Errors name the EWS ResponseCode (for example C(ErrorAccessDenied) when a delegate lacks read
    access to O(mailbox)); they never contain the password or token.
  - Option values are used as they are given. Values from the environment (E(EWS_PASSWORD)...) and
    the lookup's arguments are never templated; play variables named by the connection options
    (V(ews_password)...) are templated like any play variable, so mark a value that holds C({{)
    literally with C(!unsafe).
  - Boolean options accept only true/false, yes/no, on/off and 1/0; anything else is an error naming
    the option.
seealso:
  - module: exchange.ews.send_item
  - module: exchange.ews.draft
requirements:
  - zeep
  - requests-ntlm (for O(auth=ntlm))
  - msal (for app credentials)
"""

EXAMPLES = r"""
# The connection is configured once, as in the collection's README: ews_* variables and module_defaults.
- name: Send every draft of the weekly report created in the last week
  exchange.ews.send_item:
    item_ids: "{{ query('exchange.ews.draft_ids', subject='Weekly report', created_after='-7d') }}"

- name: The one draft for this ticket, in a principal's Drafts (as a delegate, whose credentials the lookup is given)
  ansible.builtin.set_fact:
    ticket_draft: "{{ query('exchange.ews.draft_ids', mailbox=principal_mailbox, subject_contains='TICKET-4711',
                            exactly_one=true, username=delegate_username, password=delegate_password) | first }}"

- name: The five newest drafts to a recipient, tagged for Ansible
  ansible.builtin.debug:
    msg: "{{ item.subject }} ({{ item.created }})"
  loop: "{{ query('exchange.ews.draft_ids', to='Bob Smith', categories=['ansible'], max_items=5) }}"

- name: Every draft of the folder, on purpose
  ansible.builtin.debug:
    msg: "{{ query('exchange.ews.draft_ids', match_all=true) | length }} drafts"
"""

RETURN = r"""
_raw:
  description:
    - One dictionary per matching draft, in O(sort) order.
  type: list
  elements: dict
  contains:
    id:
      description: The EWS ItemId.
      type: str
      sample: AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA=
    change_key:
      description: The ChangeKey of the version found; M(exchange.ews.send_item) refuses to send a
        draft edited after it was looked up.
      type: str
      sample: CQAAABYAAAB4
    subject:
      description: The subject (empty string when there is none).
      type: str
      sample: Weekly report
    to:
      description: The To line as Exchange displays it, split into one entry per recipient
        (display names, or addresses for recipients without one).
      type: list
      elements: str
      sample: [Team Reports, dora@example.org]
    created:
      description: Creation time, ISO 8601 UTC.
      type: str
      sample: "2024-05-01T08:00:00Z"
    last_modified:
      description: Last modification time, ISO 8601 UTC.
      type: str
      sample: "2024-05-01T08:05:12Z"
    is_draft:
      description:
        - Whether Exchange reports the item as a draft (always true without O(include_non_drafts)).
        - M(exchange.ews.send_item) skips reading again an entry that is a draft with no claim on it
          (RV(_raw[].send_state) null or V(released)); the ChangeKey check of its first write stands in
          for the read.
      type: bool
      sample: true
    send_state:
      description:
        - The send state a C(send_item) run wrote on the draft, or null. V(pending) while a run is sending
          it, V(released) when Exchange refused to send it, V(sent) when it was sent but left behind as a
          draft (only with O(include_non_drafts)).
      type: str
      sample: null
    mailbox:
      description: The O(mailbox) searched, or null for the connecting (or impersonated) mailbox.
      type: str
      sample: null
"""

from ansible.errors import AnsibleLookupError
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.exchange.ews.plugins.module_utils import properties
from ansible_collections.exchange.ews.plugins.module_utils import restrictions as r
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError, excerpt, redact
from ansible_collections.exchange.ews.plugins.module_utils.oauth import msal_import_error, needs_msal
from ansible_collections.exchange.ews.plugins.module_utils.properties import SendState
from ansible_collections.exchange.ews.plugins.module_utils.transport import HAS_ZEEP
from ansible_collections.exchange.ews.plugins.module_utils.validation import (
    DISTINGUISHED_FOLDERS,
    parse_bool,
    rest_form,
    validate_folder,
    validate_smtp_address,
)
from ansible_collections.exchange.ews.plugins.plugin_utils.connection import connection_settings, option_value
from ansible_collections.exchange.ews.plugins.plugin_utils.draft_filters import (
    TO_SCAN_LIMIT,
    draft_field_orders,
    draft_restriction,
    graph_query,
    to_line_matches,
)

if HAS_ZEEP:
    from ansible_collections.exchange.ews.plugins.module_utils.client import EwsClient
    from ansible_collections.exchange.ews.plugins.module_utils.graph_channel import (
        STATE_ID,
        expand,
        extended_values,
        mailbox_for,
        recipient_names,
        user_path,
    )
    from ansible_collections.exchange.ews.plugins.module_utils.graph_client import PAGE_SIZE, GraphClient
    from ansible_collections.exchange.ews.plugins.module_utils.responses import parse_datetime_text
    from ansible_collections.exchange.ews.plugins.module_utils.services.common import folder_id
    from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem, TooManyMatches

display = Display()

# What FindItem returns for each draft: everything the result needs, so no GetItem is made.
RESULT_PROPERTIES = ("item:Subject", "item:DisplayTo", "item:DateTimeCreated", "item:LastModifiedTime",
                     "item:IsDraft")
GRAPH_RESULT_PROPERTIES = "subject,toRecipients,createdDateTime,lastModifiedDateTime,isDraft,changeKey"
GRAPH_MAX_PAGE = 1000
FILTERS = ("subject", "subject_contains", "to", "created_after", "created_before", "categories")
# How many matches an exactly_one failure lists.
LISTED_MATCHES = 10
# Without max_items, more matches than this are an error rather than a long list.
DEFAULT_MATCH_LIMIT = 1000
MAX_ITEMS_LIMIT = 100000


def draft_result(item, mailbox=None, secrets=()):
    """The result entry for a found draft; server text is redacted with ``secrets``."""
    display_to = redact(item.fields.get("DisplayTo") or "", secrets)
    state = SendState.parse(item.extended.get(properties.STATE))
    return {
        "id": item.id,
        "change_key": item.change_key,
        "subject": redact(item.fields.get("Subject") or "", secrets),
        "to": [name.strip() for name in display_to.split(";") if name.strip()],
        "created": item.fields.get("DateTimeCreated"),
        "last_modified": item.fields.get("LastModifiedTime"),
        "is_draft": (item.fields.get("IsDraft") or "").lower() == "true",
        "send_state": state.kind if state is not None else None,
        "mailbox": mailbox or None,
    }


def _ews_search(settings, folder, mailbox, filters, sort, sendable_only):
    """The search over EWS, checked now and run by the function returned: ``run(max_items) -> (drafts, total)``,
    one FindItem restriction for every filter."""
    parent_folder = folder_id(folder, mailbox)
    restriction = draft_restriction(sendable_only=sendable_only, **filters)

    def run(max_items):
        with EwsClient(settings) as client:
            result = FindItem(client).find(
                parent_folder,
                additional_properties=[r.field_uri(uri) for uri in RESULT_PROPERTIES]
                + [r.extended_field_uri(properties.STATE_PATH)],
                restriction=restriction, field_orders=draft_field_orders(sort), max_items=max_items,
                limit=DEFAULT_MATCH_LIMIT)
        return [draft_result(item, mailbox, settings.secrets) for item in result.items], result.total
    return run


def _graph_search(settings, folder, mailbox, filters, sort, sendable_only):
    """The search over Microsoft Graph (see ``draft_filters``: Graph filters on everything but ``to``, which is
    applied here to at most ``TO_SCAN_LIMIT`` matches of the others)."""
    folder = validate_folder(folder, "folder")
    to = filters.pop("to")
    query, order_by = graph_query(sort, sendable_only=sendable_only, **filters)
    folder_path = folder if folder in DISTINGUISHED_FOLDERS else rest_form(folder)

    def run(max_items):
        with GraphClient(settings) as client:
            path = "%s/mailFolders/%s/messages" % (user_path(mailbox_for(client, mailbox)), folder_path)
            # With to, every match of the other filters (one more tells there are too many), in pages of 1,000.
            wanted = TO_SCAN_LIMIT + 1 if to else (max_items or DEFAULT_MATCH_LIMIT)
            params = {"$filter": query, "$orderby": order_by, "$count": "true",
                      "$top": str(min(wanted, GRAPH_MAX_PAGE if to else PAGE_SIZE)),
                      "$select": GRAPH_RESULT_PROPERTIES, "$expand": expand(STATE_ID)}
            entries, total = client.pages(path, "ListMessages", params, wanted)
        if to:
            if len(entries) > TO_SCAN_LIMIT:
                raise AnsibleLookupError(
                    "draft_ids: more than %d drafts match the filters other than to, which Microsoft Graph cannot "
                    "filter on (it is applied to their matches); narrow the other filters" % TO_SCAN_LIMIT)
            entries = [entry for entry in entries if to_line_matches(recipient_names(entry.get("toRecipients")), to)]
            total = len(entries)
        total = len(entries) if total is None else total
        if max_items is None and total > DEFAULT_MATCH_LIMIT:
            raise TooManyMatches(total, DEFAULT_MATCH_LIMIT)
        return [graph_draft_result(entry, mailbox, settings.secrets)
                for entry in entries[:max_items or DEFAULT_MATCH_LIMIT]], total
    return run


def graph_draft_result(message, mailbox=None, secrets=()):
    """The result entry for a draft Graph found: the same keys and forms as ``draft_result``."""
    state = SendState.parse(extended_values(message).get(STATE_ID.lower()))
    return {
        "id": message.get("id"),
        "change_key": message.get("changeKey"),
        "subject": redact(message.get("subject") or "", secrets),
        "to": [redact(name, secrets) for name in recipient_names(message.get("toRecipients"))],
        "created": _utc_text(message.get("createdDateTime")),
        "last_modified": _utc_text(message.get("lastModifiedDateTime")),
        "is_draft": message.get("isDraft") is True,
        "send_state": state.kind if state is not None else None,
        "mailbox": mailbox or None,
    }


def _utc_text(value):
    """A Graph time as EWS writes it (``2024-05-01T08:00:00Z``)."""
    moment = parse_datetime_text(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else value


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        unknown = sorted(set(kwargs) - set(self._options))
        if unknown:
            raise AnsibleLookupError("draft_ids: unknown option(s) %s; the options are %s" % (
                ", ".join(unknown), ", ".join(sorted(name for name in self._options if name != "_terms"))))
        if terms:
            raise AnsibleLookupError("draft_ids takes no terms; give the filters as options (subject=..., to=...)")
        if not HAS_ZEEP:
            raise AnsibleLookupError(missing_required_lib("zeep"))
        secrets = ()
        try:
            settings = connection_settings(self, variables, kwargs)
            secrets = settings.secrets
            if needs_msal(settings) and msal_import_error() is not None:
                raise AnsibleLookupError(missing_required_lib("msal", reason="app credentials (client_id)"))
            flags = dict((name, parse_bool(option_value(self, name, variables, kwargs), name))
                         for name in ("exactly_one", "match_all", "include_non_drafts"))
            return self._find(settings, **flags)
        except TooManyMatches as error:
            raise AnsibleLookupError(
                "draft_ids: %d drafts match the filters, more than the %d returned without max_items; narrow the "
                "filters, or set max_items to get the first ones in sort order" % (error.matches, error.limit)) from None
        except EwsError as error:
            # from None: no chained exception (and its text) in a -vvv traceback.
            raise AnsibleLookupError("draft_ids: %s" % redact(str(error), secrets)) from None
        except AnsibleLookupError:
            raise
        except Exception as error:  # pylint: disable=broad-exception-caught
            # A bug or a library failure still ends as a clean lookup error, redacted.
            raise AnsibleLookupError("draft_ids: unexpected %s: %s" % (type(error).__name__,
                                                                       excerpt(str(error), secrets))) from None

    def _find(self, settings, exactly_one, match_all, include_non_drafts):
        max_items = self.get_option("max_items")
        if exactly_one and max_items is not None:
            raise AnsibleLookupError("exactly_one and max_items are mutually exclusive")
        if max_items is not None and not 1 <= max_items <= MAX_ITEMS_LIMIT:
            raise AnsibleLookupError("max_items must be between 1 and %d (got %d)" % (MAX_ITEMS_LIMIT, max_items))
        mailbox = self.get_option("mailbox")
        if mailbox:
            validate_smtp_address(mailbox, "mailbox")
        filters = dict((name, self.get_option(name)) for name in FILTERS)
        search = _graph_search if settings.api == "graph" else _ews_search
        prepared = search(settings, self.get_option("folder"), mailbox, filters, self.get_option("sort"),
                          not include_non_drafts)
        # After the options are checked, so that a wrong value is named as such.
        if not match_all and all(value in (None, "", []) for value in filters.values()):
            raise AnsibleLookupError(
                "draft_ids: no filter given (%s); set match_all=true to return every draft of the folder"
                % ", ".join(FILTERS))
        for warning in settings.warnings:
            display.warning(warning)
        drafts, total = prepared(LISTED_MATCHES if exactly_one else max_items)
        if exactly_one and total != 1:
            raise AnsibleLookupError(self._not_exactly_one(total, drafts))
        return drafts

    def _not_exactly_one(self, total, drafts):
        where = "folder %s" % self.get_option("folder")
        if self.get_option("mailbox"):
            where += " of %s" % self.get_option("mailbox")
        if not total:
            return "draft_ids: exactly_one is set but no draft in %s matches the filters" % where
        listed = "; ".join("%r (id %s, created %s)" % (d["subject"], d["id"], d["created"]) for d in drafts)
        more = " and %d more" % (total - len(drafts)) if total > len(drafts) else ""
        return ("draft_ids: exactly_one is set but %d drafts in %s match the filters: %s%s"
                % (total, where, listed, more))
