# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Attributes every module of the collection shares (check and diff mode are documented per module).

    List it before ansible.builtin.action_common_attributes: the first fragment to set an attribute wins.
    """

    DOCUMENTATION = r"""
options: {}
attributes:
  platform:
    platforms: posix
  action_group:
    support: full
    membership: [exchange.ews.ews]
"""
