#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print what a mail client sees in a MIME message (read from the file given), as JSON: the headers the
tests look at, every part (type, disposition, file name, Content-ID, size) and the HTML body."""

import email
import email.policy
import json
import sys

HEADERS = ("From", "Sender", "To", "Cc", "Bcc", "Reply-To", "Subject", "Importance", "X-Priority", "Sensitivity",
           "Disposition-Notification-To", "Return-Receipt-To", "X-Campaign", "Message-ID")


def summary(message):
    parts, html = [], None
    for part in message.walk():
        if part.is_multipart():
            parts.append({"type": part.get_content_type(), "disposition": None})
            continue
        payload = part.get_payload(decode=True) or b""
        parts.append({"type": part.get_content_type(), "disposition": part.get_content_disposition(),
                      "filename": part.get_filename(), "content_id": part.get("Content-ID"), "size": len(payload)})
        if part.get_content_type() == "text/html" and part.get_content_disposition() is None:
            html = part.get_content()
    return {"headers": dict((name, str(message[name])) for name in HEADERS if message[name] is not None),
            "parts": parts, "html": html}


with open(sys.argv[1], "rb") as stream:
    print(json.dumps(summary(email.message_from_binary_file(stream, policy=email.policy.default))))
