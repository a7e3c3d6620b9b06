"""Starting and stopping the server: start lines, start time, persistence of the CA, signals, plain HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import GET_DRAFTS, envelope, post, session_for
from ews_sandbox.testing import PACKAGE_ROOT, Sandbox, SandboxError


def test_start_time_and_start_lines(tmp_path):
    """Time from process start to a healthy server (printed; the target is well under 3 s)."""
    with Sandbox(data_dir=tmp_path) as sandbox:
        print(f"\nsandbox start-up: {sandbox.startup_seconds * 1000:.0f} ms (fresh data folder, new CA)")
        assert sandbox.url.startswith("https://127.0.0.1:") and sandbox.url.endswith("/EWS/Exchange.asmx")
        assert sandbox.ca_path == str(tmp_path / "ca.pem")
        assert sandbox.admin_url == sandbox.url.replace("/EWS/Exchange.asmx", "/_sandbox")
        assert sandbox.users_file == str(tmp_path / "users.yml")
        assert set(sandbox.users) == {"alice", "bob", "svc", "carol", "team"}
        assert sandbox.users["team"].delegates == {"bob@sandbox.test": frozenset({"send_as"})}
        assert sandbox.users["alice"].delegates == {"bob@sandbox.test": frozenset({"read", "create", "send"})}
        assert sandbox.users["svc"].impersonation


def test_restart_keeps_the_ca_and_certificate(tmp_path):
    with Sandbox(data_dir=tmp_path):
        ca, cert = (tmp_path / "ca.pem").read_bytes(), (tmp_path / "server.pem").read_bytes()
    with Sandbox(data_dir=tmp_path) as second:
        print(f"\nsandbox restart: {second.startup_seconds * 1000:.0f} ms (existing data folder)")
        assert (tmp_path / "ca.pem").read_bytes() == ca
        assert (tmp_path / "server.pem").read_bytes() == cert
        assert post(session_for(second), second, envelope(GET_DRAFTS)).status_code == 200


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_cleanly(tmp_path, signum):
    sandbox = Sandbox(data_dir=tmp_path)
    sandbox.start()
    sandbox.process.send_signal(signum)
    assert sandbox.process.wait(timeout=10) == 0
    sandbox.stop()


def test_plain_http(tmp_path):
    with Sandbox(data_dir=tmp_path, http=True) as sandbox:
        assert sandbox.url.startswith("http://") and sandbox.ca_path is None
        session = session_for(sandbox)
        session.verify = True
        assert post(session, sandbox, envelope(GET_DRAFTS)).status_code == 200
        assert not (tmp_path / "ca.pem").exists()


def serve_with_users(tmp_path, text: str) -> subprocess.CompletedProcess:
    users = tmp_path / "users.yml"
    users.write_text(text)
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    return subprocess.run([sys.executable, "-m", "ews_sandbox", "serve", "--port", "0", "--data", str(tmp_path / "data"),
                           "--users", str(users)], env=env, capture_output=True, text=True, timeout=30)


def test_bad_users_file_is_a_clear_error(tmp_path):
    result = serve_with_users(tmp_path, "users:\n  - login: dave\n    password: pw\n    smtp: dave@sandbox.test\n"
                                        "    delegates:\n      eve@sandbox.test: [read, destroy]\n")
    assert result.returncode == 2
    assert "line 6" in result.stderr and "delegates.eve@sandbox.test" in result.stderr and "destroy" in result.stderr
    assert "EWS_URL" not in result.stdout


def test_start_is_fast_enough_to_measure(tmp_path):
    """The bare process: from exec to the flushed start lines."""
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "ews_sandbox", "serve", "--port", "0", "--data", str(tmp_path)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        elapsed = time.perf_counter() - started
        print(f"\nstart lines printed after {elapsed * 1000:.0f} ms")
        assert [line.split("=", 1)[0] for line in lines] == ["EWS_URL", "EWS_CA_PATH", "EWS_ADMIN_URL", "EWS_USERS_FILE"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_a_failed_start_says_why(tmp_path):
    users = tmp_path / "users.yml"
    users.write_text("users: []\n")
    with pytest.raises(SandboxError, match="exited before it was ready(.|\n)*'users' must be a non-empty list"):
        Sandbox(data_dir=tmp_path / "data", users_file=users).start()


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (an orphan's new parent may reap it late)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_sandbox_whose_harness_dies_stops(tmp_path):
    # A forked test (ansible-test units runs each test forked) ends with os._exit: no teardown runs.
    harness = ("import os\nfrom ews_sandbox.testing import Sandbox\n"
               f"sandbox = Sandbox(data_dir={str(tmp_path)!r})\nsandbox.start()\n"
               "print(sandbox.process.pid, flush=True)\nos._exit(0)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")])))
    finished = subprocess.run([sys.executable, "-c", harness], capture_output=True, text=True, timeout=60, env=env)
    pid = int(finished.stdout.split()[-1])

    deadline = time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(pid), "the orphaned sandbox kept running"
