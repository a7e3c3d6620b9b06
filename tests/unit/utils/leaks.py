# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every form a secret can take on its way to a log, for servers to echo and for tests to look for.

The forms are written out here on their own, from what HTTP, Python and JSON do to
text, not taken from the collection's redaction: a test that asked the code under
test what to look for would find nothing it forgot.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re

from urllib.parse import quote, quote_plus


def secret_echoes(username, secret):
    """``{form name: text}``: how a server, a library or a traceback may write ``secret``."""
    forms = {
        "literal": secret,
        "url-encoded": quote(secret, safe=""),
        "url-encoded-plus": quote_plus(secret),
        "base64": base64.b64encode(secret.encode("utf-8")).decode("ascii"),
        "bytes-repr": repr(secret.encode("utf-8"))[2:-1],
        "unicode-escape": json.dumps(secret)[1:-1],
        "ascii-repr": ascii(secret)[1:-1],
    }
    if username:
        basic = ("%s:%s" % (username, secret))
        forms["basic-utf-8"] = base64.b64encode(basic.encode("utf-8")).decode("ascii")
        try:
            forms["basic-latin-1"] = base64.b64encode(basic.encode("latin-1")).decode("ascii")
        except UnicodeEncodeError:
            pass
    return forms


def distinctive_runs(secret):
    """Runs of 8+ ASCII letters and digits mixing upper case, lower case and digits (``Zq7Xw9Vt``).

    They survive every escaping, and no word or path in an output looks like
    one, so finding one is a leak. Test secrets each carry one.
    """
    return [run for run in re.findall(r"[A-Za-z0-9]{8,}", secret)
            if re.search(r"[A-Z]", run) and re.search(r"[a-z]", run) and re.search(r"[0-9]", run)]


def leaked_forms(output, username, secret):
    """Names of the forms of ``secret`` found in ``output`` (also as JSON writes them); [] when none."""
    found = []
    for name, form in secret_echoes(username, secret).items():
        if form in output or json.dumps(form)[1:-1] in output:
            found.append(name)
    for run in distinctive_runs(secret):
        if run in output:
            found.append("run %r" % run)
    return found
