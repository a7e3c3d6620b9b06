# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One ansible-playbook run as tests look at it: the exit status, the output, the PLAY RECAP counters."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class PlaybookRun:
    """``rc`` and ``output`` (stdout and stderr together) of a run on localhost."""

    def __init__(self, rc, output):
        self.rc = rc
        self.output = output

    @property
    def recap(self):
        """The PLAY RECAP counters, e.g. {"ok": 5, "changed": 1, "failed": 0, "ignored": 2}."""
        line = [line for line in self.output.splitlines() if line.startswith("localhost ")][-1]
        return dict((key, int(value)) for key, value in (field.split("=") for field in line.split()[2:]))
