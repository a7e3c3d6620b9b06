# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``GraphClient``: the one object that speaks to Microsoft Graph (JSON over HTTPS).

    with GraphClient(settings, token_source=token_source(settings)) as client:
        answer = client.call("GET", "/users/alice@example.com/messages/AAMk...", "GetMessage",
                             params={"$select": "isDraft"})
        answers = client.batch([GraphRequest("GET", path, params=...), ...], "GetMessage")  # in order
        pages = client.pages("/users/.../mailFolders/drafts/messages", "ListMessages", params, limit=1000)
        client.server_time                # the last answer's Date header (aware UTC datetime) or None

Requests go through ``transport.py``'s bounded, redirect-free session
(``bounded_request``): the whole request within ``timeout`` and the caller's
deadline, bodies within ``max_response_mb`` after decompression, failures
classified. What an answer proves follows the same rule as for EWS: only a
proven refusal is "not processed":

* 2xx: the answer (JSON parsed; 202/204 have none);
* 401 and 403 (access denied): ``EwsAuthError``; 429: ``EwsThrottled`` and
  503: ``EwsUnavailable``, both with Retry-After and retried by ``RetryPolicy``;
* another 4xx carrying Graph's error JSON: ``EwsFault`` with Graph's code
  (the request was refused as a whole);
* anything else once the request was written (5xx, a 4xx page from a proxy,
  a body that is not JSON, a redirect, a dropped connection):
  ``EwsResponseLost`` / ``EwsHttpStatusError``: it may have been processed.

``batch`` sends requests through JSON batching (``$batch``): at most
``MAX_BATCH`` per batch and, once Graph answered one of them 429 for the
mailbox's four-requests limit, at most ``MAILBOX_CONCURRENCY`` (Graph runs a
batch's requests side by side). Requests a batch answered 429 or 503 were not
processed and are sent again after their Retry-After, within the retry
budget; what is left throttled is returned as such. A batch whose answer is
lost or refused after an earlier one went through makes per-request answers
(``GraphAnswer.failed``), so the caller never loses what earlier batches did.

Every request carries a ``client-request-id`` whose first 16 hex digits are
``correlation`` (the exactly-once run sets it to its run token), which ties
Graph's logs, and the sandbox's, to the run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import uuid

from urllib.parse import urlencode

from ansible_collections.exchange.ews.plugins.module_utils.client import parse_http_date
from ansible_collections.exchange.ews.plugins.module_utils.errors import (
    EwsAuthError,
    EwsError,
    EwsFault,
    EwsHttpStatusError,
    EwsResponseLost,
    EwsThrottled,
    EwsUnavailable,
    excerpt,
)
from ansible_collections.exchange.ews.plugins.module_utils import oauth
from ansible_collections.exchange.ews.plugins.module_utils.retry import RetryPolicy
from ansible_collections.exchange.ews.plugins.module_utils.transport import bounded_request, build_session

API = "Graph"
# JSON batching takes at most 20 requests; the Outlook service runs at most four per app and mailbox at once.
MAX_BATCH = 20
MAILBOX_CONCURRENCY = 4
THROTTLED_STATUSES = (429, 503)
JSON_TYPE = "application/json"
# Pages of a list: Graph serves at most 1,000 messages a page.
PAGE_SIZE = 250


class GraphRequest:
    """One request: ``method``, ``path`` under the Graph root (``/users/...``), query ``params`` (a dict or a
    list of pairs), JSON ``body`` and extra ``headers``."""

    __slots__ = ("method", "path", "params", "body", "headers")

    def __init__(self, method, path, params=None, body=None, headers=None):
        self.method = method
        self.path = path
        self.params = params
        self.body = body
        self.headers = headers or {}

    def relative_url(self):
        return self.path + ("?" + urlencode(self.params) if self.params else "")


class GraphAnswer:
    """Graph's answer to one request: ``status``, ``headers`` (lower-case names), ``body`` (parsed JSON or
    None), and for an error ``code`` and ``message``. ``failed`` answers stand for a request whose batch
    failed as a whole: ``status`` None, ``lost`` True when it may have been processed."""

    __slots__ = ("status", "headers", "body", "code", "message", "lost")

    def __init__(self, status, headers=None, body=None, code=None, message=None, lost=False):
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.code = code
        self.message = message
        self.lost = lost

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300

    @property
    def throttled(self):
        return self.status in THROTTLED_STATUSES

    @classmethod
    def failed(cls, error):
        """The answer for a request whose batch ended in ``error`` (an ``EwsError``)."""
        return cls(None, code=error.response_code or type(error).__name__, message=error.message_text,
                   lost=isinstance(error, EwsResponseLost))

    def __repr__(self):
        return "GraphAnswer(%s, %s)" % (self.status, self.code)


class GraphClient:
    """Requests to ``settings.graph_base`` with the bearer token from ``token_source``.

    Attributes: ``settings``, ``retry_policy``, ``base``, ``server_time``,
    ``request_count`` (HTTP requests, retries included), ``batch_width``
    (requests per ``$batch``), ``correlation``, ``deadline`` (property),
    ``if_match_honoured`` (learned by ``graph_channel``).
    ``server_version_info`` is None: Graph sends no server version.
    """

    server_version_info = None

    def __init__(self, settings, token_source=None, retry_policy=None, session=None):
        self.settings = settings
        # One source per run is best (the module's); a client made on its own gets its own.
        self.token_source = token_source if token_source is not None else oauth.token_source(settings)
        self.retry_policy = retry_policy or RetryPolicy.from_settings(settings)
        self.base = settings.graph_base
        self.session = session or build_session(settings, self.token_source)
        self.ends_at = None
        self.last_date = None
        self.request_count = 0
        self.batch_width = MAX_BATCH
        self.correlation = uuid.uuid4().hex[:16]
        # Whether Graph honours If-Match on messages (a compare-and-set write): None until a channel found out.
        self.if_match_honoured = None

    # -- the clock and the deadline --------------------------------------------------------------

    @property
    def server_time(self):
        return parse_http_date(self.last_date)

    @property
    def deadline(self):
        """A ``time.monotonic()`` time no request, retry or wait of this client runs past, or None."""
        return self.ends_at

    @deadline.setter
    def deadline(self, ends_at):
        self.ends_at = ends_at
        self.retry_policy.deadline = ends_at
        if hasattr(self.token_source, "ends_at"):
            self.token_source.ends_at = ends_at

    # -- requests -----------------------------------------------------------------------------------

    def call(self, method, path, operation, params=None, body=None, headers=None):
        """One request (retried while Graph proves it did not process it); the ``GraphAnswer`` of a 2xx, or
        the error (see module docstring)."""
        request = GraphRequest(method, path, params, body, headers)
        return self.retry_policy.run(lambda: self._checked(self._send(request, operation), operation), operation)

    def batch(self, requests, operation, sequential=False):
        """``GraphAnswer`` per request, in order, through ``$batch`` (see module docstring).

        ``sequential``: the requests (at most ``MAX_BATCH``) run one after the other, in order, each depending
        on the one before (``dependsOn``; one after a failed one is answered 424 and not run).
        Raises only when the first batch fails with an error that proves nothing was processed (an
        authentication failure, throttling beyond the retries...): a failure of the whole request.
        """
        if sequential:
            answers = [None] * len(requests)
            throttled = self._run_chunk(requests, list(range(len(requests))), answers, operation, sequential=True)
            if throttled:
                raise EwsThrottled("Graph throttled a sequence of requests", operation=operation, api=API,
                                   retry_after=_retry_after(answers[throttled[0]].headers),
                                   response_code=answers[throttled[0]].code)
            return answers
        answers = [None] * len(requests)
        remaining = list(range(len(requests)))
        started, throttled_rounds = self.retry_policy.now(), 0
        while remaining:
            chunk, remaining = remaining[:self.batch_width], remaining[self.batch_width:]
            try:
                throttled = self._run_chunk(requests, chunk, answers, operation)
            except EwsError as error:
                if not isinstance(error, EwsResponseLost) and len(remaining) + len(chunk) == len(requests):
                    raise
                for index in chunk:
                    answers[index] = GraphAnswer.failed(error)
                # The next batch would most likely meet the same failure: not sent, so not processed.
                for index in remaining:
                    answers[index] = GraphAnswer.failed(EwsUnavailable(
                        "not sent: an earlier batch of the same step failed (%s)" % error.message_text,
                        operation=operation, api=API))
                break
            if throttled:
                # Not processed: again after Retry-After (within the retry budget), in batches the mailbox takes.
                throttled_rounds += 1
                waits = [_retry_after(answers[index].headers) for index in throttled]
                error = EwsThrottled("Graph throttled %d of a batch's requests" % len(throttled),
                                     retry_after=max([w for w in waits if w is not None] or [0]) or None,
                                     operation=operation, api=API, response_code=answers[throttled[0]].code)
                if self.retry_policy.wait(error, throttled_rounds, started, operation):
                    remaining = throttled + remaining
        return answers

    def pages(self, path, operation, params, limit):
        """The ``value`` entries of a list and its next pages (``@odata.nextLink``), at most ``limit``
        entries: ``(entries, total)``, ``total`` the ``@odata.count`` of the first page (None without
        ``$count``). A next link that leaves ``graph_url`` is never followed."""
        answer = self.call("GET", path, operation, params=params)
        body = answer.body if isinstance(answer.body, dict) else {}
        total = body.get("@odata.count")
        entries = []
        while True:
            values = body.get("value")
            if not isinstance(values, list):
                raise EwsResponseLost("the answer to %s is not a list of messages" % operation, operation=operation,
                                      api=API)
            entries.extend(value for value in values if isinstance(value, dict))
            link = body.get("@odata.nextLink")
            if not link or len(entries) >= limit:
                return entries[:limit], total if isinstance(total, int) else None
            if not isinstance(link, str) or not link.startswith(self.base + "/"):
                raise EwsResponseLost("Graph's next page link %s leaves graph_url %s; it is never followed"
                                      % (excerpt(str(link), self.settings.secrets, 120), self.base),
                                      operation=operation, api=API)
            answer = self.retry_policy.run(
                lambda: self._checked(self._send(GraphRequest("GET", link[len(self.base):]), operation), operation),
                operation)
            body = answer.body if isinstance(answer.body, dict) else {}

    # -- one batch ----------------------------------------------------------------------------------

    def _run_chunk(self, requests, chunk, answers, operation, sequential=False):
        """One ``$batch`` of the requests at ``chunk`` (repeated while the batch as a whole is refused as not
        processed); their answers go into ``answers``. Returns the indexes Graph answered 429 or 503."""
        sent = [requests[index] for index in chunk]
        body = {"requests": [self._batch_entry(str(number), request) for number, request in enumerate(sent)]}
        if sequential:
            for number, entry in enumerate(body["requests"][1:]):
                entry["dependsOn"] = [str(number)]
        batch_answer = self.retry_policy.run(
            lambda: self._checked(self._send(GraphRequest("POST", "/$batch", body=body), "Batch"), "Batch"), "Batch")
        throttled = []
        for index, answer in zip(chunk, self._inner_answers(batch_answer, len(sent), operation)):
            answers[index] = answer
            if answer.throttled:
                throttled.append(index)
                if answer.code == "ApplicationThrottled" or "MailboxConcurrency" in (answer.message or ""):
                    self.batch_width = MAILBOX_CONCURRENCY
        return throttled

    def _batch_entry(self, identifier, request):
        entry = {"id": identifier, "method": request.method, "url": request.relative_url(),
                 "headers": dict(request.headers, **{"client-request-id": self._request_id()})}
        if request.body is not None:
            entry["body"] = request.body
            entry["headers"]["Content-Type"] = JSON_TYPE
        return entry

    def _inner_answers(self, batch_answer, count, operation):
        """The batch's answers in request order; a batch answer without every request's is a lost one."""
        body = batch_answer.body if isinstance(batch_answer.body, dict) else {}
        by_id = {}
        for response in body.get("responses") or ():
            if isinstance(response, dict) and isinstance(response.get("status"), int):
                by_id[str(response.get("id"))] = response
        if sorted(by_id) != sorted(str(number) for number in range(count)):
            raise EwsResponseLost("the $batch answer does not answer each of its %d requests once; they may have been "
                                  "processed" % count, operation=operation, api=API)
        answers = []
        for number in range(count):
            response = by_id[str(number)]
            headers = dict((str(k).lower(), str(v)) for k, v in (response.get("headers") or {}).items())
            answer = self._answer(response["status"], headers, response.get("body"))
            if answer.status == 401:
                raise EwsAuthError(_auth_message(answer), operation=operation, api=API, http_status=401,
                                   response_code=answer.code)
            answers.append(answer)
        return answers

    # -- one HTTP request ---------------------------------------------------------------------------

    def _request_id(self):
        return str(uuid.UUID(self.correlation + uuid.uuid4().hex[16:]))

    def _send(self, request, operation):
        """Send ``request``; its ``GraphAnswer`` whatever the status (errors of the exchange itself raise)."""
        headers = {"Accept": JSON_TYPE, "client-request-id": self._request_id()}
        headers.update(request.headers)
        data = None
        if request.body is not None:
            data = json.dumps(request.body).encode("utf-8")
            headers["Content-Type"] = JSON_TYPE
        self.request_count += 1
        response = bounded_request(self.session, request.method, self.base + request.path, self.settings.timeout,
                                   self.ends_at, operation, self.settings.secrets, api=API,
                                   params=request.params, data=data, headers=headers)
        self.last_date = response.headers.get("Date") or self.last_date
        body = None
        if response.content:
            if "json" not in response.headers.get("Content-Type", "").lower():
                return GraphAnswer(response.status_code, _lower(response.headers), code=None,
                                   message="a non-JSON answer (Content-Type %r): %s" % (
                                       excerpt(response.headers.get("Content-Type", ""), self.settings.secrets, 80),
                                       excerpt(response.content, self.settings.secrets, 200)))
            try:
                body = json.loads(response.content)
            except ValueError:
                raise EwsResponseLost("the answer is not JSON; the request may have been processed. It began: %s"
                                      % excerpt(response.content, self.settings.secrets, 200),
                                      operation=operation, api=API, http_status=response.status_code) from None
        return self._answer(response.status_code, _lower(response.headers), body)

    def _answer(self, status, headers, body):
        code = message = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = excerpt(str(error.get("code") or ""), self.settings.secrets, 100) or None
            message = excerpt(str(error.get("message") or ""), self.settings.secrets)
        return GraphAnswer(status, headers, body, code, message)

    def _checked(self, answer, operation):
        """``answer`` when it is a 2xx; otherwise the error it proves (see module docstring)."""
        status = answer.status
        if answer.ok:
            if answer.body is None and status not in (202, 204):
                raise EwsResponseLost("Graph answered HTTP %d without the JSON it should carry; the request may have "
                                      "been processed" % status, operation=operation, api=API, http_status=status)
            return answer
        kwargs = dict(operation=operation, api=API, http_status=status, response_code=answer.code)
        if status == 401:
            raise EwsAuthError(_auth_message(answer), **kwargs)
        if status == 403 and answer.code in (None, "ErrorAccessDenied", "Authorization_RequestDenied",
                                             "AccessDenied"):
            raise EwsAuthError("Graph refused access (HTTP 403%s): the app lacks the application permission "
                               "(Mail.ReadWrite to read and write, Mail.Send to send), or RBAC for Applications or "
                               "an application access policy keeps it away from this mailbox%s"
                               % (", " + answer.code if answer.code else "",
                                  ": " + answer.message if answer.message else ""), **kwargs)
        if status == 429:
            raise EwsThrottled("Graph throttled the request (%s)" % (answer.message or "429 Too Many Requests"),
                               retry_after=_retry_after(answer.headers), **kwargs)
        if status == 503:
            raise EwsUnavailable("service unavailable (%s)" % (answer.message or "503"),
                                 retry_after=_retry_after(answer.headers), **kwargs)
        if 400 <= status < 500 and answer.code:
            raise EwsFault(answer.message or answer.code, **kwargs)
        raise EwsHttpStatusError("Graph, or a gateway in front of it, answered HTTP %d%s; the request may have been "
                                 "processed" % (status, ": " + answer.message if answer.message else ""), **kwargs)

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _lower(headers):
    return dict((name.lower(), value) for name, value in headers.items())


def _retry_after(headers):
    try:
        return max(0.0, float(headers.get("retry-after")))
    except (TypeError, ValueError):
        return None  # absent, or the HTTP-date form: the policy's own backoff


def _auth_message(answer):
    return ("Graph refused the token (HTTP 401%s): check the app credentials, and that the token is for Graph "
            "in this cloud%s" % (", " + answer.code if answer.code else "",
                                 ": " + answer.message if answer.message else ""))
