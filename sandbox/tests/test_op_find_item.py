"""FindItem: restrictions (SQL-translated), sorting, indexed paging, other mailboxes."""

import hashlib
import time

import pytest

from ews_sandbox.namespaces import qm, qt

from ews_test_support import ALICE, BOB, CAROL, MARKER_SET, Env, marker_uri, messages


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


def find(env, restriction="", view='<m:IndexedPageItemView MaxEntriesReturned="100" Offset="0" BasePoint="Beginning"/>',
         sort="", folder="drafts", mailbox="", caller=ALICE, properties=""):
    (klass, code, message), = messages(env.call("FindItem", """
        <m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>
          <t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/>%s</t:AdditionalProperties></m:ItemShape>
          %s%s%s<m:ParentFolderIds><t:DistinguishedFolderId Id="%s">%s</t:DistinguishedFolderId></m:ParentFolderIds>
        </m:FindItem>""" % (properties, view, "<m:Restriction>%s</m:Restriction>" % restriction if restriction else "",
                             sort, folder, mailbox), caller))
    if code != "NoError":
        return code, None, []
    root = message.find(qm("RootFolder"))
    return code, dict(root.attrib), [m.findtext(qt("Subject")) for m in root.find(qt("Items"))]


def equal(path, value, name="IsEqualTo"):
    return '<t:%s>%s<t:FieldURIOrConstant><t:Constant Value="%s"/></t:FieldURIOrConstant></t:%s>' % (name, path, value, name)


def subject():
    return '<t:FieldURI FieldURI="item:Subject"/>'


def seed_numbered(env, count=30):
    env.store.seed(ALICE, "drafts", count, subject="S{n}", to=[BOB])


def test_paging_from_the_beginning_and_the_end(env):
    seed_numbered(env, 25)
    sort = '<m:SortOrder><t:FieldOrder Order="Ascending"><t:FieldURI FieldURI="item:ItemClass"/></t:FieldOrder></m:SortOrder>'
    view = '<m:IndexedPageItemView MaxEntriesReturned="10" Offset="%d" BasePoint="%s"/>'
    code, root, subjects = find(env, view=view % (0, "Beginning"), sort=sort)
    assert subjects == ["S%d" % n for n in range(1, 11)]
    assert root == {"IndexedPagingOffset": "10", "TotalItemsInView": "25", "IncludesLastItemInRange": "false"}
    code, root, subjects = find(env, view=view % (20, "Beginning"), sort=sort)
    assert subjects == ["S21", "S22", "S23", "S24", "S25"] and root["IncludesLastItemInRange"] == "true"
    code, root, subjects = find(env, view=view % (0, "End"), sort=sort)
    assert subjects == ["S%d" % n for n in range(16, 26)] and root["IncludesLastItemInRange"] == "false"
    code, root, subjects = find(env, view=view % (20, "End"), sort=sort)
    assert subjects == ["S1", "S2", "S3", "S4", "S5"] and root["IncludesLastItemInRange"] == "true"


def test_default_order_is_newest_first_and_pages_are_capped_at_1000(env):
    seed_numbered(env, 1005)
    code, root, subjects = find(env, view='<m:IndexedPageItemView MaxEntriesReturned="5000" Offset="0" BasePoint="Beginning"/>')
    assert len(subjects) == 1000 and subjects[0] == "S1005"
    assert root["IncludesLastItemInRange"] == "false" and root["TotalItemsInView"] == "1005"


def test_without_paging_more_than_1000_items_exceed_the_find_count_limit(env):
    seed_numbered(env, 1000)
    assert len(find(env, view="")[2]) == 1000
    seed_numbered(env, 1)
    (klass, code, message), = messages(env.call("FindItem", """<m:FindItem Traversal="Shallow"><m:ItemShape>
        <t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="drafts"/>
        </m:ParentFolderIds></m:FindItem>"""))
    assert (klass, code) == ("Error", "ErrorExceededFindCountLimit")
    limit = message.find(qm("MessageXml")).find(qt("Value"))
    assert (limit.get("Name"), limit.text) == ("PolicyLimit", "1000")
    assert message.find(qm("RootFolder")) is None


@pytest.mark.parametrize("max_entries, offset, expected", [
    ("0", "0", "ErrorInvalidPagingMaxRows"),
    ("-1", "0", "ErrorInvalidPagingMaxRows"),
    ("10", "-1", "ErrorInvalidIndexedPagingParameters"),
])
def test_invalid_paging_is_refused_and_never_bypasses_the_cap(env, max_entries, offset, expected):
    seed_numbered(env, 1005)
    view = '<m:IndexedPageItemView MaxEntriesReturned="%s" Offset="%s" BasePoint="Beginning"/>' % (max_entries, offset)
    assert find(env, view=view)[0] == expected


def test_field_restrictions(env):
    seed_numbered(env, 12)
    assert find(env, equal(subject(), "s7"))[2] == ["S7"]                   # case-insensitive, like Exchange
    assert len(find(env, equal(subject(), "S7", "IsNotEqualTo"))[2]) == 11
    contains = ('<t:Contains ContainmentMode="%s" ContainmentComparison="IgnoreCase">%s<t:Constant Value="%s"/></t:Contains>')
    assert sorted(find(env, contains % ("Prefixed", subject(), "s1"))[2]) == ["S1", "S10", "S11", "S12"]
    assert find(env, contains % ("FullString", subject(), "s11"))[2] == ["S11"]
    assert find(env, '<t:Contains ContainmentMode="Substring" ContainmentComparison="Exact">%s<t:Constant Value="s1"/></t:Contains>'
                % subject())[2] == []
    is_draft = '<t:FieldURI FieldURI="item:IsDraft"/>'
    assert len(find(env, equal(is_draft, "true"))[2]) == 12
    assert find(env, "<t:Not>%s</t:Not>" % equal(is_draft, "true"))[2] == []
    both = "<t:And>%s%s</t:And>" % (equal(subject(), "S3"), equal(is_draft, "true"))
    assert find(env, both)[2] == ["S3"]
    created = '<t:FieldURI FieldURI="item:DateTimeCreated"/>'
    assert len(find(env, equal(created, "2000-01-01T00:00:00+01:00", "IsGreaterThan"))[2]) == 12
    assert find(env, equal(created, "2000-01-01T00:00:00Z", "IsLessThanOrEqualTo"))[2] == []
    assert find(env, '<t:Exists><t:FieldURI FieldURI="message:ToRecipients"/></t:Exists>')[0] == "ErrorUnsupportedPathForQuery"


def test_display_to_categories_and_from(env):
    env.draft(subject="to bob", to=(BOB,))
    env.draft(subject="to carol", to=(CAROL, BOB))
    env.store.create_item(env.store.distinguished_folder(ALICE, "drafts"),
                                 {"subject": "tagged", "categories": ["Red", "Blue"], "from_mailbox": {"email": CAROL}})
    contains = '<t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase">%s<t:Constant Value="%s"/></t:Contains>'
    display_to = '<t:FieldURI FieldURI="item:DisplayTo"/>'
    assert sorted(find(env, contains % (display_to, "CAROL@"))[2]) == ["to carol"]
    assert sorted(find(env, contains % (display_to, "bob@sandbox.test"))[2]) == ["to bob", "to carol"]
    categories = '<t:FieldURI FieldURI="item:Categories"/>'
    assert find(env, equal(categories, "blue"))[2] == ["tagged"]
    assert find(env, "<t:And>%s%s</t:And>" % (equal(categories, "Red"), equal(categories, "Green")))[2] == []
    assert find(env, equal('<t:FieldURI FieldURI="message:From"/>', CAROL))[2] == ["tagged"]


def test_complex_properties_are_not_returned_by_find_item(env):
    env.draft()
    code, _, _ = find(env, properties='<t:FieldURI FieldURI="item:Body"/>')
    assert code == "ErrorInvalidPropertyRequest"
    (_, code, message), = messages(env.call("FindItem", """<m:FindItem Traversal="Shallow"><m:ItemShape>
        <t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="drafts"/>
        </m:ParentFolderIds></m:FindItem>"""))
    found = message.find(".//" + qt("Message"))
    assert code == "NoError" and found.find(qt("Body")) is None and found.find(qt("ToRecipients")) is None
    assert found.findtext(qt("DisplayTo")) == BOB


def test_extended_property_restrictions(env):
    env.store.seed(ALICE, "drafts", 3, subject="plain")
    env.store.seed(ALICE, "drafts", 1, subject="marked", extended_properties=[
        {"property_set_id": MARKER_SET, "property_name": "ExchangeEwsSendMarker", "property_type": "String", "value": "abc"}])
    env.store.seed(ALICE, "drafts", 1, subject="counted", extended_properties=[
        {"property_tag": "0x6000", "property_type": "Integer", "value": "42"}])
    marker = marker_uri()
    assert find(env, equal(marker, "abc"))[2] == ["marked"]
    assert find(env, "<t:Exists>%s</t:Exists>" % marker)[2] == ["marked"]
    assert len(find(env, "<t:Not><t:Exists>%s</t:Exists></t:Not>" % marker)[2]) == 4
    assert len(find(env, equal(marker, "abc", "IsNotEqualTo"))[2]) == 4
    tag = '<t:ExtendedFieldURI PropertyTag="0x6000" PropertyType="Integer"/>'
    assert find(env, equal(tag, "9", "IsGreaterThan"))[2] == ["counted"]      # numeric, not text, comparison
    assert find(env, equal(tag, "100", "IsLessThan"))[2] == ["counted"]


def test_or_of_a_thousand_markers_among_ten_thousand_drafts_is_fast(env):
    env.store.seed(ALICE, "drafts", 10000, subject="bulk")
    markers = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(1000)]
    for value in markers[:5]:
        env.store.seed(ALICE, "sentitems", 1, subject=value[:8], extended_properties=[
            {"property_set_id": MARKER_SET, "property_name": "ExchangeEwsSendMarker", "property_type": "String", "value": value}])
    env.store.seed(ALICE, "drafts", 1, subject="needle", extended_properties=[
        {"property_set_id": MARKER_SET, "property_name": "ExchangeEwsSendMarker", "property_type": "String", "value": markers[999]}])
    restriction = "<t:Or>%s</t:Or>" % "".join(equal(marker_uri(), value) for value in markers)
    started = time.perf_counter()
    code, root, subjects = find(env, restriction, properties=marker_uri())
    assert subjects == ["needle"]
    assert len(find(env, restriction, folder="sentitems")[2]) == 5
    page = find(env, equal(subject(), "bulk"), view='<m:IndexedPageItemView MaxEntriesReturned="100" Offset="9800" BasePoint="Beginning"/>')
    assert len(page[2]) == 100 and page[1]["TotalItemsInView"] == "10000"
    assert time.perf_counter() - started < 2


def test_sorting_by_field_and_extended_property(env):
    for n, value in ((1, "b"), (2, "c"), (3, "a")):
        env.store.seed(ALICE, "drafts", 1, subject="S%d" % n, extended_properties=[
            {"property_set_id": MARKER_SET, "property_name": "Rank", "property_type": "String", "value": value}])
    by_subject = '<m:SortOrder><t:FieldOrder Order="Descending">%s</t:FieldOrder></m:SortOrder>' % subject()
    assert find(env, sort=by_subject)[2] == ["S3", "S2", "S1"]
    by_rank = '<m:SortOrder><t:FieldOrder Order="Ascending">%s</t:FieldOrder></m:SortOrder>' % marker_uri("Rank")
    assert find(env, sort=by_rank)[2] == ["S3", "S1", "S2"]


def test_other_mailboxes_need_the_read_right(env):
    seed_numbered(env, 2)
    alice = "<t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox>" % ALICE
    assert len(find(env, mailbox=alice, caller=BOB)[2]) == 2
    assert find(env, mailbox=alice, caller=CAROL)[0] == "ErrorAccessDenied"


def test_a_constant_that_is_no_date_for_a_date_property(env):
    assert find(env, equal('<t:FieldURI FieldURI="item:DateTimeCreated"/>', "yesterday"))[0] == "ErrorInvalidValueForProperty"
