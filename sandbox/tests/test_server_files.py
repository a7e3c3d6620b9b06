"""The data folder holds passwords, keys and mail: it is private to the user running the sandbox."""

from __future__ import annotations

import stat

from ews_sandbox.testing import Sandbox

PRIVATE = ("users.yml", "store.sqlite3", "store.sqlite3-wal", "store.sqlite3-shm", "ca-key.pem", "server-key.pem",
           "ntlm-users.txt", "server.log")


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_folder_and_its_secrets_are_private(tmp_path):
    data = tmp_path / "data"
    with Sandbox(data_dir=data) as sandbox:
        sandbox.admin.seed("alice@sandbox.test")     # the store's -wal and -shm exist while it runs
        assert mode(data) == 0o700
        assert {name: oct(mode(data / name)) for name in PRIVATE} == {name: "0o600" for name in PRIVATE}


def test_loose_modes_left_by_an_older_sandbox_are_tightened(tmp_path):
    data = tmp_path / "data"
    with Sandbox(data_dir=data):
        pass
    data.chmod(0o755)
    for name in PRIVATE:
        (data / name).touch()                          # the -wal and -shm of a sandbox that was killed
        (data / name).chmod(0o644)
    with Sandbox(data_dir=data):
        assert mode(data) == 0o700
        assert {name: oct(mode(data / name)) for name in PRIVATE} == {name: "0o600" for name in PRIVATE}


def test_a_readable_users_file_of_ones_own_is_warned_about(tmp_path):
    users = tmp_path / "users.yml"
    users.write_text("users:\n  - {login: dave, password: pw, smtp: dave@sandbox.test}\n")
    users.chmod(0o644)
    with Sandbox(data_dir=tmp_path / "data", users_file=users):
        pass
    assert mode(users) == 0o644      # not the sandbox's file: reported, not changed
    log = (tmp_path / "data" / "server.log").read_text()
    assert f"{users} can be read by other users" in log
