# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared validators: what each accepts, what it refuses, and what the refusal says."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import validation as v
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError

UTC = datetime.timezone.utc
NOW = datetime.datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)
ITEM_ID = "AAMkADk0ZGE1ZDUzLWJhNzUtNDc2Ni1hZDU0LTE0ODk0ZDA3ODBkYwBGAAAAAAA="


def refused(function, value, where, *fragments):
    with pytest.raises(EwsConfigError) as caught:
        function(value, where)
    message = str(caught.value)
    assert where in message
    for fragment in fragments:
        assert fragment in message
    return message


@pytest.mark.parametrize("value", [ITEM_ID, "AAAtAEF=", "CQAAABYAAAB4", "a+b/c=="])
def test_item_ids_accepted(value):
    assert v.validate_item_id(value, "item_ids[0]") == value


@pytest.mark.parametrize("value, fragments", [
    ("", ["non-empty ItemId"]),
    (None, ["non-empty ItemId"]),
    (42, ["non-empty ItemId"]),
    ("%BadItemId%", ["not an EWS ItemId", "base64"]),
    ("AAMk AAA=", ["not an EWS ItemId"]),
    ("AA=A", ["not an EWS ItemId"]),
    ("A" * (10 * 1024 * 1024), ["10485760 characters long", "at most 512"]),
])
def test_item_ids_refused(value, fragments):
    message = refused(v.validate_item_id, value, "item_ids[3]", *fragments)
    assert len(message) < 300  # a 10 MB id is never echoed


def test_change_key_names_itself():
    refused(v.validate_change_key, "not a key!", "item_ids[1].change_key", "not an EWS ChangeKey")


@pytest.mark.parametrize("value, expected", [
    ("sentitems", "sentitems"), ("SentItems", "sentitems"), ("Drafts", "drafts"), ("outbox", "outbox"),
    ("AAMkADk0ZGE1ZDUzLWJhNzUtNDc2=", "AAMkADk0ZGE1ZDUzLWJhNzUtNDc2="),
])
def test_folders_accepted(value, expected):
    assert v.validate_folder(value, "folder") == expected


@pytest.mark.parametrize("value", ["Sent Items", "sentitem", "Posteingang", "", None, "a/b c"])
def test_folders_refused_listing_the_distinguished_names(value):
    refused(v.validate_folder, value, "saved_item_folder", "neither a distinguished folder name",
            ", ".join(v.DISTINGUISHED_FOLDERS), "nor an EWS FolderId")


@pytest.mark.parametrize("value", ["alice@sandbox.test", "first.last+tag@example.co.uk", "jürgen@bücher.example",
                                   "o'brien@example.com", "x@xn--p1ai.xn--p1ai"])
def test_smtp_addresses_accepted(value):
    assert v.validate_smtp_address(value, "to[0]") == value


@pytest.mark.parametrize("value", ["not an address", "alice", "alice@", "@example.com", "alice@localhost",
                                   "alice@example..com", "Alice <alice@example.com>", "a@b.c\n", "a\x01@b.example",
                                   "a@-example.com", None, "x" * 250 + "@example.com"])
def test_smtp_addresses_refused(value):
    refused(v.validate_smtp_address, value, "to[2]", "is not an SMTP address")


@pytest.mark.parametrize("value", ["ticket-4711", "  padded  ", "ünïcode key"])
def test_keys_accepted(value):
    assert v.validate_key(value, "key") == value


@pytest.mark.parametrize("value, fragment", [
    ("", "must not be empty"), ("   ", "must not be empty"), (None, "must not be empty"),
    ("k" * 256, "at most 255"), ("bad\x00key", "U+0000"),
])
def test_keys_refused(value, fragment):
    refused(v.validate_key, value, "key", fragment)


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), (1, True), (0, False), ("true", True), ("False", False), ("yes", True),
    ("NO", False), ("on", True), ("off", False), (" y ", True), ("n", False), ("1", True), ("0", False),
])
def test_booleans_accepted(value, expected):
    assert v.parse_bool(value, "validate_certs") is expected


@pytest.mark.parametrize("value", ["ture", "enabled", "nope", "", "2", 2, None, [], "truee"])
def test_booleans_refused_naming_the_option(value):
    refused(v.parse_bool, value, "validate_certs", "is not a boolean")


@pytest.mark.parametrize("text, expected", [
    ("-1d", datetime.datetime(2024, 5, 9, 12, 0, 0, tzinfo=UTC)),
    ("-90m", datetime.datetime(2024, 5, 10, 10, 30, 0, tzinfo=UTC)),
    ("-2w", datetime.datetime(2024, 4, 26, 12, 0, 0, tzinfo=UTC)),
    ("-36500d", NOW - datetime.timedelta(days=36500)),
    ("2024-05-01", datetime.datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024-05-01T08:00:00Z", datetime.datetime(2024, 5, 1, 8, tzinfo=UTC)),
    ("2024-05-01T10:00:00+02:00", datetime.datetime(2024, 5, 1, 8, tzinfo=UTC)),
    ("1601-01-01", datetime.datetime(1601, 1, 1, tzinfo=UTC)),
])
def test_times_accepted(text, expected):
    assert v.parse_time(text, "created_after", NOW) == expected


@pytest.mark.parametrize("text, fragment", [
    ("-99999999999d", "more than 36500 days"),
    ("-999999999999w", "more than 36500 days"),
    ("-9999999999999d", "neither an ISO 8601"),
    ("-36501d", "more than 36500 days"),
    ("yesterday", "relative age (-30m"),
    ("1d", "relative age"),
    ("-1y", "relative age"),
    ("2024-13-01", "relative age"),
    ("1500-01-01", "outside the years 1601 to 9999"),
    ("9999-12-31T23:00:00-05:00", "neither an ISO 8601"),
])
def test_times_refused(text, fragment):
    with pytest.raises(EwsConfigError) as caught:
        v.parse_time(text, "created_after", NOW)
    assert "created_after" in str(caught.value) and fragment in str(caught.value)


@pytest.mark.parametrize("value", ["plain", "tab\tnewline\ncr\r", "ünïcødé €", "\U0001F600", ["a", {"b": "c"}], 42])
def test_xml_text_accepted(value):
    assert v.validate_xml_text(value, "subject") == value


@pytest.mark.parametrize("value, where, fragment", [
    ("bell\x07", "subject", "subject contains U+0007 at position 4"),
    (["ok", "nul\x00"], "to", "to[1] contains U+0000"),
    ({"id": "x\x1b"}, "item_ids[0]", "item_ids[0].id contains U+001B"),
    ("\ufffe", "body", "U+FFFE"),
    ("\ud800", "body", "U+D800"),
])
def test_xml_text_refused(value, where, fragment):
    with pytest.raises(EwsConfigError) as caught:
        v.validate_xml_text(value, where)
    assert fragment in str(caught.value)


SECRET = "Pw-{{ 6*7 }}-S3cr3t"


@pytest.mark.parametrize("value, fragment", [
    (SECRET + "\n", "a line break"),
    (SECRET + "\r\n", "a line break"),
    ("\t" + SECRET, "a control character (U+0009)"),
    (SECRET + "\x00", "U+0000"),
    (SECRET + "\x7f", "U+007F"),
    (SECRET + "\x85", "U+0085"),
])
def test_secrets_with_control_characters_are_refused_without_being_quoted(value, fragment):
    message = refused(v.validate_secret, value, "access_token", fragment, "use |- or the trim filter")
    assert "S3cr3t" not in message


@pytest.mark.parametrize("value", [SECRET, "Pässwörd €", "with spaces inside"])
def test_secrets_accepted(value):
    assert v.validate_secret(value, "password") == value


def test_relative_ages_can_be_refused_for_values_that_must_stay_the_same():
    assert v.parse_time("2026-12-02T18:00:00+01:00", "deliver_at", NOW, relative_ages=False) == \
        datetime.datetime(2026, 12, 2, 17, tzinfo=UTC)
    refused(lambda value, where: v.parse_time(value, where, NOW, relative_ages=False), "-1d", "deliver_at",
            "is a relative age", "stays the same at every run")


@pytest.mark.parametrize("name, value", [
    ("X-Campaign", "q3-report"), ("x-ticket", "4711"), ("X-A1-b2", ""), ("X-Non-ASCII", "Grüße, €"),
    ("X-" + "a" * 74, "v"), ("X-Long", "v" * (998 - len("X-Long") - 2)),
])
def test_headers_accepted(name, value):
    assert v.validate_header(name, value, "headers") == (name, value)


@pytest.mark.parametrize("name, value, fragment", [
    ("Subject", "x", "is not an extra header name"),
    ("Reply-To", "a@example.org", "is not an extra header name"),
    ("X-", "x", "is not an extra header name"),
    ("X-Has Space", "x", "is not an extra header name"),
    ("X-Colon:", "x", "is not an extra header name"),
    ("X-Ünicode", "x", "is not an extra header name"),
    ("X-" + "a" * 75, "x", "at most 76 characters"),
    (42, "x", "is not an extra header name"),
    ("X-Inject", "a\r\nBcc: victim@example.org", "headers.X-Inject contains a line break"),
    ("X-Tab", "a\tb", "a control character (U+0009)"),
    ("X-Number", 42, "headers.X-Number must be a string"),
    ("X-Long", "v" * 991, "a header line holds at most 998"),
])
def test_headers_refused(name, value, fragment):
    with pytest.raises(EwsConfigError) as caught:
        v.validate_header(name, value, "headers")
    assert "headers" in str(caught.value) and fragment in str(caught.value)


@pytest.mark.parametrize("value", ["logo@example.com", "part1.12345@host", "logo", "a.b-c_d$e+f"])
def test_content_ids_accepted(value):
    assert v.validate_content_id(value, "attachments[0].content_id") == value


@pytest.mark.parametrize("value", ["<logo@example.com>", "with space", "", "quote\"d", "lögo", None, "x" * 256])
def test_content_ids_refused(value):
    refused(v.validate_content_id, value, "attachments[1].content_id", "is not a Content-ID")


@pytest.mark.parametrize("value", ["text/csv", "application/vnd.ms-excel", "image/svg+xml", "application/x-7z"])
def test_content_types_accepted(value):
    assert v.validate_content_type(value, "content_type") == value


@pytest.mark.parametrize("value", ["text", "text/csv; charset=utf-8", "/csv", "text/", "te xt/csv", "", None])
def test_content_types_refused(value):
    refused(v.validate_content_type, value, "attachments[0].content_type", "is not a MIME type")


@pytest.mark.parametrize("value", ["report.csv", "Bericht März 2024.pdf", "no extension", "x" * 255])
def test_file_names_accepted(value):
    assert v.validate_file_name(value, "attachments[0].name") == value


@pytest.mark.parametrize("value, fragment", [
    ("", "must be a non-empty file name"), ("  ", "must be a non-empty file name"), (None, "non-empty"),
    ("two\nlines.txt", "is not a file name"), ("x" * 256, "at most 255"),
])
def test_file_names_refused(value, fragment):
    refused(v.validate_file_name, value, "attachments[0].name", fragment)


@pytest.mark.parametrize("value, expected", [
    ("aGVsbG8=", b"hello"), ("aGVs\n  bG8=\n", b"hello"), ("", b""), ("AAEC/w==", b"\x00\x01\x02\xff"),
])
def test_base64_decoded(value, expected):
    assert v.decode_base64(value, "attachments[0].content") == expected


@pytest.mark.parametrize("value", ["aGVsbG8", "not base64!", "aGVsbG8=x", b"aGVsbG8=", None])
def test_base64_refused(value):
    refused(v.decode_base64, value, "attachments[0].content", "base64")
