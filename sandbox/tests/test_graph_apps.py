"""App registrations in the users file: the demo ones, and what a bad entry is refused with."""

from __future__ import annotations

import pytest

from ews_sandbox.config import DEMO_USERS_YAML, UsersFileError, load_directory
from ews_sandbox.graph.apps import DEMO_TENANT, add_demo_apps, load_apps

APP = """\
apps:
  - name: one
    client_id: 11111111-1111-1111-1111-111111111111
    tenant: 22222222-2222-2222-2222-222222222222
"""


def users_file(tmp_path, apps: str):
    path = tmp_path / "users.yml"
    path.write_text(DEMO_USERS_YAML + apps)
    return path


def test_the_demo_apps(tmp_path):
    path = users_file(tmp_path, "")
    add_demo_apps(path)
    apps = {app.name: app for app in load_apps(path, load_directory(path)).apps}
    assert set(apps) == {"exchange-ews-demo", "exchange-ews-scoped", "exchange-ews-readwrite"}
    demo = apps["exchange-ews-demo"]
    assert (demo.tenant, demo.roles, demo.mailboxes) == (DEMO_TENANT, {"Mail.ReadWrite", "Mail.Send"}, None)
    assert len(demo.certificates) == 1 and (tmp_path / "demo-app-key.pem").stat().st_mode & 0o077 == 0
    assert apps["exchange-ews-scoped"].may_reach("Team@sandbox.test")
    assert not apps["exchange-ews-scoped"].may_reach("bob@sandbox.test")


@pytest.mark.parametrize("extra, message", [
    ("", "needs 'secrets' or 'certificates'"),
    ("    secrets: [s]\n    roles: [Mail.Read]\n", "unknown role"),
    ("    secrets: [s]\n    mailboxes: [nobody@sandbox.test]\n", "no such user"),
    ("    certificates: [missing.pem]\n", "missing.pem"),
    ("    secrets: [s]\n    colour: blue\n", "unknown field 'colour'"),
])
def test_bad_apps_are_refused_with_their_line(tmp_path, extra, message):
    path = users_file(tmp_path, APP + extra)
    with pytest.raises(UsersFileError, match=message) as refused:
        load_apps(path, load_directory(path))
    assert ", line " in str(refused.value)


def test_client_ids_are_guids_and_unique(tmp_path):
    path = users_file(tmp_path, APP.replace("11111111-1111-1111-1111-111111111111", "app-one") + "    secrets: [s]\n")
    with pytest.raises(UsersFileError, match="must be a GUID"):
        load_apps(path, load_directory(path))
    path = users_file(tmp_path, APP + "    secrets: [s]\n" + APP.split("\n", 1)[1] + "    secrets: [t]\n")
    with pytest.raises(UsersFileError, match="duplicate client_id"):
        load_apps(path, load_directory(path))
