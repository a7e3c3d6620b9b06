# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the unit tests that talk to the EWS sandbox."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ews_sandbox.testing import Sandbox


@pytest.fixture(scope="module")
def sandbox():
    """A fresh sandbox per test module, so one module's drafts never skew another's counts."""
    with Sandbox() as running:
        yield running


@pytest.fixture
def admin(sandbox):
    """The sandbox's admin client, on a store emptied before and after the test, submitting at once."""
    sandbox.admin.reset()
    sandbox.admin.set_submission_delay(0)
    yield sandbox.admin
    sandbox.admin.reset()
