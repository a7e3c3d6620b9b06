"""The users file and the directory built from it."""

from __future__ import annotations

import pytest

from ews_sandbox.config import DEMO_USERS_YAML, UsersFileError, load_directory


@pytest.fixture
def directory(tmp_path):
    path = tmp_path / "users.yml"
    path.write_text(DEMO_USERS_YAML)
    return load_directory(path)


@pytest.mark.parametrize("name", ["alice", "ALICE", "SANDBOX\\alice", "sandbox.test\\Alice", "alice@sandbox.test",
                                  "Alice@Sandbox.Test"])
def test_by_login_spellings(directory, name):
    assert directory.by_login(name).smtp == "alice@sandbox.test"


@pytest.mark.parametrize("name", ["OTHER\\alice", "alice@elsewhere.test", "mallory", ""])
def test_by_login_rejects(directory, name):
    assert directory.by_login(name) is None


def test_netbios_domain_is_the_first_label_of_the_smtp_domain(tmp_path):
    # Active Directory usually names the NetBIOS domain after the DNS domain's first label.
    path = tmp_path / "users.yml"
    path.write_text("users:\n  - {login: svc-mailer, password: p, smtp: svc-mailer@example.com}\n")
    directory = load_directory(path)
    for name in ("EXAMPLE\\svc-mailer", "example\\Svc-Mailer", "example.com\\svc-mailer", "SANDBOX\\svc-mailer"):
        assert directory.by_login(name).smtp == "svc-mailer@example.com", name
    for name in ("COM\\svc-mailer", "OTHER\\svc-mailer"):
        assert directory.by_login(name) is None, name
    assert "EXAMPLE:svc-mailer:p" in directory.ntlm_credential_lines()


def test_lookups(directory):
    assert directory.by_smtp("BOB@sandbox.test").login == "bob"
    assert directory.by_token("svc-token").login == "svc"
    assert directory.by_token("nope") is None


def test_rights(directory):
    assert directory.rights_of("bob@sandbox.test", on="alice@sandbox.test") == {"read", "create", "send"}
    assert directory.rights_of("carol@sandbox.test", on="alice@sandbox.test") == set()
    assert directory.rights_of("alice@sandbox.test", on="bob@sandbox.test") == set()
    assert directory.rights_of("carol@sandbox.test", on="Carol@sandbox.test") == {"read", "create", "send", "send_as"}
    assert directory.rights_of("bob@sandbox.test", on="team@sandbox.test") == {"send_as"}
    assert directory.may_impersonate(directory.by_login("svc"))
    assert not directory.may_impersonate(directory.by_login("alice"))


def test_ntlm_credential_lines_cover_every_spelling(directory):
    lines = directory.ntlm_credential_lines()
    for expected in (":alice:Passw0rd-alice", "SANDBOX:alice:Passw0rd-alice", "sandbox.test:alice:Passw0rd-alice",
                     ":alice@sandbox.test:Passw0rd-alice"):
        assert expected in lines


@pytest.mark.parametrize("text, expected", [
    ("users: [", "not valid YAML"),
    ("people: []", "line 1: 'users' must be a non-empty list"),
    ("users:\n  - login: a\n    password: p\n", "line 2: missing field 'smtp'"),
    ("users:\n  - login: a\n    password: p\n    smtp: a@x.test\n    colour: red\n", "line 5: unknown field 'colour'"),
    ("users:\n  - login: a\n    password: p\n    smtp: not-an-address\n", "line 4: field 'smtp'"),
    ("users:\n  - login: a\n    password: 'p:q'\n    smtp: a@x.test\n", "line 3: field 'password'"),
    ("users:\n  - login: a\n    password: p\n    smtp: a@x.test\n    impersonation: maybe\n", "line 5: field 'impersonation'"),
    ("users:\n  - login: a\n    password: p\n    smtp: a@x.test\n    tokens: t\n", "line 5: field 'tokens' must be a list"),
    ("users:\n  - {login: a, password: p, smtp: a@x.test}\n  - {login: A, password: p, smtp: b@x.test}\n",
     "line 3: duplicate login"),
])
def test_bad_users_files(tmp_path, text, expected):
    path = tmp_path / "users.yml"
    path.write_text(text)
    with pytest.raises(UsersFileError) as error:
        load_directory(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_missing_users_file(tmp_path):
    with pytest.raises(UsersFileError, match="cannot read"):
        load_directory(tmp_path / "absent.yml")
