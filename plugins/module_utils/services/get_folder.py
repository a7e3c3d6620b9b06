# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GetFolder: the FolderId of a folder (IdOnly)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from lxml import etree
except ImportError:  # HAS_ZEEP in transport.py tells the plugin
    pass

from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M, T
from ansible_collections.exchange.ews.plugins.module_utils.services.common import EwsService, folder_id_element


class GetFolder(EwsService):
    """``GetFolder(client).folder_id(folder)`` -> the FolderId's ``Id`` of a ``folder_id`` value."""

    operation = "GetFolder"
    read_only = True

    def folder_id(self, folder):
        request = self.new_request()
        shape = etree.SubElement(request, M + "FolderShape")
        etree.SubElement(shape, T + "BaseShape").text = "IdOnly"
        etree.SubElement(request, M + "FolderIds").append(folder_id_element(folder))
        message = self.check(self.post(request, expected=1)[0], "the folder could not be read")
        return message.element.find("%sFolders/*/%sFolderId" % (M, T)).get("Id")
