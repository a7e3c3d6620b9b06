"""Listening beyond loopback serves the demo passwords to the network: only on request, loudly, at a usable URL."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from conftest import GET_DRAFTS, envelope, non_loopback_address, post, session_for
from ews_sandbox.testing import PACKAGE_ROOT, Sandbox


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_non_loopback_address_needs_allow_remote(tmp_path, host):
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    result = subprocess.run([sys.executable, "-m", "ews_sandbox", "serve", "--host", host, "--port", "0",
                             "--data", str(tmp_path)], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr and "EWS_URL" not in result.stdout


def test_allow_remote_warns_and_prints_a_url_the_network_can_use(tmp_path):
    address = non_loopback_address()
    if address is None:
        pytest.skip("no non-loopback interface")
    with Sandbox(data_dir=tmp_path, host="0.0.0.0", allow_remote=True) as sandbox:
        assert urlsplit(sandbox.url).hostname == address
        # The certificate is valid for that address: the CA verifies it there.
        assert post(session_for(sandbox), sandbox, envelope(GET_DRAFTS)).status_code == 200
        # The admin endpoints answer on loopback only, so their URL stays there.
        assert urlsplit(sandbox.admin_url).hostname == "127.0.0.1"
        assert sandbox.admin.health() == {"ok": True}
    log = (tmp_path / "server.log").read_text()
    assert "WARNING" in log and "reachable from the network" in log and "passwords" in log
