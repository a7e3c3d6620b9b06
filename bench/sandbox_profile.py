"""Sandbox profile: where the sandbox's time goes, per EWS operation, while send_item sends 1,000 drafts.

A second sandbox is started just for this, its EWS handler wrapped in
cProfile (one profile per request, summed per operation; the benchmark's
main sandbox is never profiled). send_item sends IDS lookup entries with
concurrency 1 at 0 ms, so the requests never overlap and each profile is one
request's own work. The sandbox's code is not changed: this file runs it
(``python bench/sandbox_profile.py --serve <serve options>``) with the wrapper
installed. Profiling inflates absolute times (each Python call costs more);
the shares hold. The times are wall-clock in the request's thread, so they
include its waits for the interpreter lock while the Outbox's submitter
delivers the previous batch.

Own time (cProfile's tottime) is summed by where the code lives: a sandbox
module, SQLite, lxml, TLS and sockets, the rest of the standard library.
"""

import atexit
import cProfile
import marshal
import os
import pstats
import shutil
import sys
import threading

from common import Bench, ratio, send_item_window
from p2_send import IDS

PROFILE_ENV = "BENCH_SANDBOX_PROFILE"


def _serve_profiled(argv):
    """Run the sandbox with every EWS request profiled; the stats go to $BENCH_SANDBOX_PROFILE at exit."""
    from ews_sandbox import cli
    from ews_sandbox.http_server import EwsRequestHandler

    per_operation = {}
    lock = threading.Lock()
    handle = EwsRequestHandler._ews

    def profiled(self, body):
        profile = cProfile.Profile()
        profile.enable()
        try:
            return handle(self, body)
        finally:
            profile.disable()
            # SOAPAction names the operation (NTLM's 401 legs repeat the request, so they count with it).
            operation = (self.headers.get("SOAPAction") or "").strip('"').rsplit("/", 1)[-1] or "(none)"
            with lock:
                if operation in per_operation:
                    per_operation[operation][0] += 1
                    per_operation[operation][1].add(profile)
                else:
                    per_operation[operation] = [1, pstats.Stats(profile)]

    def dump():
        with open(os.environ[PROFILE_ENV], "wb") as out:
            marshal.dump({key: (count, stats.stats) for key, (count, stats) in per_operation.items()}, out)

    EwsRequestHandler._ews = profiled
    atexit.register(dump)
    return cli.main(argv)


def run(bench):
    from ews_sandbox.testing import Sandbox
    path = bench.workdir / "sandbox-profile.marshal"
    profiled = Sandbox()
    # [python, "-m", "ews_sandbox", "serve", ...] -> [python, this file, "--serve", "serve", ...]
    profiled.command[1:3] = [os.path.abspath(__file__), "--serve"]
    os.environ[PROFILE_ENV] = str(path)
    try:
        with profiled:
            profile_bench = Bench(profiled, reps=1)
            window, _ = send_item_window(profile_bench, profile_bench.fresh_drafts(IDS), concurrency=1)
            profiled.admin.wait_for_outbox()
            shutil.rmtree(profile_bench.workdir, ignore_errors=True)
    finally:
        del os.environ[PROFILE_ENV]
    with open(path, "rb") as stream:
        per_operation = marshal.load(stream)
    return dict(name="Sandbox profile", rows=[], detail=_detail(per_operation, window),
                data={op: dict(requests=count, own_ms=1000 * sum(v[2] for v in stats.values()),
                               where=_where_shares(stats)) for op, (count, stats) in per_operation.items()})


def _where(function):
    """Where a profiled function lives, for the own-time sums."""
    path, _line, name = function
    if path == "~":   # built-ins: cProfile names them only
        for needle, group in (("sqlite3", "SQLite"), ("lxml", "lxml"), ("_ssl", "TLS and sockets"),
                              ("socket", "TLS and sockets")):
            if needle in name:
                return group
        return "other built-ins"
    for needle, group in (("/ews_sandbox/", None), ("/lxml/", "lxml"), ("/spnego/", "NTLM (pyspnego)"),
                          ("/cryptography/", "NTLM (pyspnego)")):
        if needle in path:
            return group or "sandbox: " + path.split("/ews_sandbox/", 1)[1]
    if path.endswith(("/ssl.py", "/socket.py", "/socketserver.py")) or "/http/" in path:
        return "TLS and sockets"
    return "standard library, other"


def _label(function):
    path, line, name = function
    return name if path == "~" else "%s:%d %s" % (path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1], line, name)


def _where_shares(stats):
    """[(where, share of the own time)], largest first."""
    total = sum(v[2] for v in stats.values())
    groups = {}
    for function, values in stats.items():
        groups[_where(function)] = groups.get(_where(function), 0.0) + values[2]
    return [(group, ratio(seconds, total)) for group, seconds in sorted(groups.items(), key=lambda kv: -kv[1])]


def _detail(per_operation, window):
    server_ms = window.server_by_operation()
    lines = ["send_item (lookup entries, concurrency 1, 0 ms) sending %d drafts to a profiled sandbox: %.2f s wall "
             "(profiled), request-log server time %.0f ms. Per operation, the profiled own time summed by where "
             "the code lives, and the functions with the most own time:" % (
                 IDS, window.seconds, 1000 * window.server_seconds), "",
             "| operation | HTTP requests (with NTLM legs) | profiled ms | where the own time goes | "
             "top functions (own ms) |",
             "| --- | ---: | ---: | --- | --- |"]
    by_own_time = sorted(per_operation.items(), key=lambda kv: -sum(v[2] for v in kv[1][1].values()))
    for operation, (count, stats) in by_own_time:
        shares = ", ".join("%s %.0f%%" % (group, 100 * share) for group, share in _where_shares(stats)[:6])
        top = ", ".join("`%s` %.1f (%d calls)" % (_label(f), 1000 * v[2], v[1])
                        for f, v in sorted(stats.items(), key=lambda kv: -kv[1][2])[:5])
        lines.append("| %s | %d | %.0f | %s | %s |" % (operation, count, 1000 * sum(v[2] for v in stats.values()),
                                                     shares, top))
    lines += ["", "The request log's server time of this profiled send: %s (P2 has the unprofiled times)." % ", ".join(
        "%s %.0f ms" % (op or "NTLM 401 legs", 1000 * seconds) for op, seconds in sorted(
            server_ms.items(), key=lambda kv: -kv[1]))]
    return "\n".join(lines)


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    sys.exit(_serve_profiled(sys.argv[2:]))
