"""Command line: ``serve``, ``fault add`` / ``fault clear``, ``outbox``, ``graph`` and ``log``."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from . import validation
from .addresses import listens_on_loopback_only, loopback_host, public_host, url_host
from .auth import Authenticator
from .config import UsersFileError, load_directory, write_demo_users
from .delivery import Delivery
from .faults import KINDS, FaultRegistry
from .files import private_dir, private_file, readable_by_others
from .graph.apps import add_demo_apps
from .graph.server import build_service
from .http_server import EwsServer, SandboxApp
from .latency import LatencyModel, parse_operation_latency
from .limits import DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_SEND_BYTES, Limits
from .request_log import RequestLog
from .store import Store
from .submission import Submitter
from .testing import AdminClient, SandboxError
from .tls import ensure_material

log = logging.getLogger("ews_sandbox")

STORE_FILE = "store.sqlite3"
DEMO_USERS_FILE = "users.yml"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ews_sandbox", description="A local stand-in for Exchange EWS.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the sandbox server")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on; one reachable from other machines needs --allow-remote")
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow a --host other machines can reach (anyone there can log in with the users file's "
                            "passwords)")
    serve.add_argument("--port", type=int, default=8443, help="0 picks a free port")
    serve.add_argument("--data", default="./.sandbox-data", help="data folder (store, CA, users)")
    serve.add_argument("--users", help="users file (YAML); default: <data>/users.yml with demo users")
    serve.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    serve.add_argument("--smarthost", type=_host_port, help="HOST:PORT to relay mail for outside recipients")
    serve.add_argument("--submission-delay-ms", type=_non_negative, default=0,
                       help="how long a sent message waits in the Outbox before it is delivered (default 0: at once, "
                            "but still after the answer, as with Exchange)")
    serve.add_argument("--max-request-bytes", type=_positive, default=DEFAULT_MAX_REQUEST_BYTES,
                       help="the EWS request size limit (IIS maxAllowedContentLength / WCF maxReceivedMessageSize; "
                            "default 67108864, Exchange's): a bigger request is answered 507 with no body")
    serve.add_argument("--max-send-bytes", type=_positive, default=DEFAULT_MAX_SEND_BYTES,
                       help="the message size limit on send (MaxSendSize; default 10 MB), measured on the MIME "
                            "message: a bigger one is refused with ErrorMessageSizeExceeded")
    serve.add_argument("--latency-ms", type=float, default=0.0,
                       help="latency model: added to every EWS round trip, as for a server this far away")
    serve.add_argument("--item-latency-ms", type=float, default=0.0,
                       help="latency model: added per item a request names or carries")
    serve.add_argument("--operation-latency", action="append", default=[], metavar="OPERATION=MS[,ITEM_MS]",
                       help="latency model for one operation, instead of the two above (repeatable)")
    serve.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    serve.add_argument("--exit-with-parent", action="store_true",
                       help="stop when the process that started the sandbox exits (for test harnesses)")
    serve.set_defaults(func=serve_command)

    admin_options = argparse.ArgumentParser(add_help=False)
    admin_options.add_argument("--admin-url", default=os.environ.get("EWS_ADMIN_URL"),
                               help="the EWS_ADMIN_URL the server printed (default: $EWS_ADMIN_URL)")
    admin_options.add_argument("--ca", default=os.environ.get("EWS_CA_PATH"),
                               help="the EWS_CA_PATH the server printed (default: $EWS_CA_PATH)")

    fault = commands.add_parser("fault", help="inject or clear faults")
    fault_commands = fault.add_subparsers(dest="fault_command", required=True)
    add = fault_commands.add_parser("add", parents=[admin_options], help="inject a fault")
    add.add_argument("--kind", required=True, choices=KINDS)
    add.add_argument("--operation", help="only requests for this operation, e.g. SendItem")
    add.add_argument("--times", type=int, default=1, help="requests it hits (0 = until cleared)")
    add.add_argument("--back-off-ms", type=int, default=500, help="server_busy: BackOffMilliseconds")
    add.add_argument("--retry-after", type=int, default=1, help="http_503: Retry-After seconds")
    add.add_argument("--delay-ms", type=int, default=0, help="delay: milliseconds before answering")
    add.add_argument("--code", default="ErrorInternalServerError", help="soap_fault, item_error: the ResponseCode")
    add.add_argument("--position", type=int, default=1, help="item_error: the (1-based) item of the request that fails")
    add.add_argument("--body-bytes", type=int, help="truncated_after_commit: bytes of the body sent (default: half)")
    add.add_argument("--api", choices=("ews", "graph"), default="ews", help="the requests it hits (default: ews)")
    add.add_argument("--status", type=int, default=500, help="graph_error: the HTTP status")
    add.set_defaults(func=fault_add_command)
    clear = fault_commands.add_parser("clear", parents=[admin_options], help="remove every pending fault")
    clear.set_defaults(func=fault_clear_command)

    outbox = commands.add_parser("outbox", parents=[admin_options],
                                 help="print the messages sent and not yet delivered; set the delay, or wait for them")
    outbox.add_argument("--delay-ms", type=_non_negative, help="set how long messages sent from now on wait")
    outbox.add_argument("--wait", type=float, metavar="SECONDS", help="wait until every sent message is delivered")
    outbox.set_defaults(func=outbox_command)

    graph = commands.add_parser("graph", parents=[admin_options],
                                help="print the Microsoft Graph settings; change the ones given")
    graph.add_argument("--if-match", choices=("ignored", "honoured"), help="If-Match on message writes")
    graph.add_argument("--batch-concurrency", choices=("throttle", "queue"),
                       help="parallel $batch requests past the mailbox concurrency limit: throttled or queued")
    graph.add_argument("--token-lifetime-s", type=int, help="lifetime of the access tokens issued from now on")
    graph.set_defaults(func=graph_command)

    request_log = commands.add_parser("log", parents=[admin_options], help="print the request log (JSON lines)")
    request_log.add_argument("--since", type=int, default=0)
    request_log.set_defaults(func=log_command)
    return parser


def _non_negative(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value!r}")
    return int(value)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) == 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return int(value)


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def build_app(data_dir: Path, users: Path | None = None, host: str = "127.0.0.1", http: bool = False,
              smarthost: tuple[str, int] | None = None, submission_delay_ms: int = 0,
              latency: dict | None = None, limits: Limits | None = None) -> SandboxApp:
    """Everything a server needs, from a data folder; raises UsersFileError for a bad users file.

    ``latency`` is the latency model's settings, as the admin API takes them (latency.LatencyModel.update);
    ``limits`` the size limits (Exchange's defaults when None).

    Without ``users``, ``<data_dir>/users.yml`` is used, written with the demo users if absent.
    """
    private_dir(data_dir)
    users_file = users.resolve() if users else data_dir / DEMO_USERS_FILE
    if users is None and not users_file.exists():
        write_demo_users(users_file)
        add_demo_apps(users_file)
    elif users is None:
        private_file(users_file)
    elif readable_by_others(users_file):
        log.warning("%s can be read by other users, and it holds passwords: chmod 600 it", users_file)
    directory = load_directory(users_file)
    advertised = public_host(host)
    tls = None if http else ensure_material(data_dir, advertised)
    latency_model = LatencyModel()
    latency_model.update(latency or {})
    store = Store(data_dir / STORE_FILE)
    delivery = Delivery(store, directory, smarthost=smarthost)
    validation.preload()
    return SandboxApp(
        directory=directory,
        authenticator=Authenticator(directory, data_dir, tls.channel_binding_data() if tls else None, realm=advertised),
        store=store,
        delivery=delivery,
        submitter=Submitter(store, delivery, submission_delay_ms),
        faults=FaultRegistry(),
        latency=latency_model,
        limits=limits or Limits(),
        requests=RequestLog(),
        tls=tls,
        data_dir=data_dir,
        users_file=users_file,
        public_host=advertised,
        graph=build_service(data_dir, users_file, directory),
    )


def start_facts(server: EwsServer) -> dict[str, str]:
    """The EWS_* facts a started server prints, in order."""
    app = server.app
    scheme, port = "https" if app.tls else "http", server.server_address[1]
    # The admin endpoints answer loopback clients only: their URL is a loopback one whenever the server has one.
    admin_host = loopback_host(server.server_address[0])
    return {
        "EWS_URL": f"{scheme}://{url_host(app.public_host)}:{port}/EWS/Exchange.asmx",
        "EWS_CA_PATH": str(app.tls.ca_path) if app.tls else "",
        "EWS_ADMIN_URL": f"{scheme}://{url_host(admin_host)}:{port}/_sandbox",
        "EWS_USERS_FILE": str(app.users_file),
        "GRAPH_URL": f"{scheme}://{url_host(app.public_host)}:{port}/v1.0",
        "GRAPH_AUTHORITY_HOST": f"{scheme}://{url_host(app.public_host)}:{port}",
    }


def serve_command(args) -> int:
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not listens_on_loopback_only(args.host):
        if not args.allow_remote:
            print(f"error: --host {args.host} can be reached from other machines, where anyone could log in with "
                  "the users file's passwords (the demo ones are public); give --allow-remote to do it anyway",
                  file=sys.stderr)
            return 2
        # Printed, not logged: --log-level ERROR must not hide it.
        print(f"WARNING: --allow-remote: the sandbox on {args.host} is reachable from the network; anyone who can "
              "reach the port can log in with the passwords in the users file (the demo ones are public). "
              "The admin endpoints still answer loopback clients only.", file=sys.stderr, flush=True)
    try:
        latency = {"request_ms": args.latency_ms, "item_ms": args.item_latency_ms,
                   "operations": dict(parse_operation_latency(text) for text in args.operation_latency)}
        app = build_app(Path(args.data).resolve(), Path(args.users) if args.users else None,
                        args.host, args.http, args.smarthost, args.submission_delay_ms, latency,
                        Limits(args.max_request_bytes, args.max_send_bytes))
    except (UsersFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        server = EwsServer((args.host, args.port), app)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    for key, value in start_facts(server).items():
        print(f"{key}={value}")
    sys.stdout.flush()
    # What start-up made (modules, the compiled schema, users, TLS) lives as long as the process: the collector
    # need not walk it again, which made a full collection cost tens of milliseconds in the request it fell in.
    gc.freeze()

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if args.exit_with_parent:
        threading.Thread(target=_stop_when_orphaned, args=(stop,), name="ews-sandbox-parent", daemon=True).start()
    serving = threading.Thread(target=server.serve_forever, name="ews-sandbox-accept", daemon=True)
    serving.start()
    app.submitter.start()       # it first delivers what was due while the sandbox was down
    stop.wait()
    log.info("stopping")
    server.shutdown()
    server.server_close()
    app.submitter.stop()
    return 0


def _stop_when_orphaned(stop: threading.Event, interval: float = 0.5) -> None:
    """Set ``stop`` once the parent is gone (we are re-parented).

    A test harness that dies without tearing down, such as a forked pytest test
    that exits with os._exit, must not leave its sandbox running.
    """
    parent = os.getppid()
    while not stop.wait(interval):
        if os.getppid() != parent:
            log.info("parent %d exited: stopping", parent)
            stop.set()


def fault_add_command(args) -> int:
    result = _admin_call(args, lambda admin: admin.add_fault(
        args.kind, operation=args.operation, times=args.times, back_off_ms=args.back_off_ms,
        retry_after=args.retry_after, delay_ms=args.delay_ms, code=args.code, body_bytes=args.body_bytes,
        position=args.position, api=args.api, status=args.status))
    if result is None:
        return 1
    print(json.dumps(result["faults"], indent=2))
    return 0


def fault_clear_command(args) -> int:
    return 0 if _admin_call(args, lambda admin: admin.clear_faults() or True) else 1


def outbox_command(args) -> int:
    def call(admin: AdminClient) -> dict:
        if args.delay_ms is not None:
            admin.set_submission_delay(args.delay_ms)
        if args.wait is not None:
            admin.wait_for_outbox(timeout=args.wait)
        return admin.outbox()

    state = _admin_call(args, call)
    if state is None:
        return 1
    print(json.dumps(state, indent=2))
    return 0


def graph_command(args) -> int:
    changes = {name: value for name, value in (("if_match", args.if_match), ("batch_concurrency",
               args.batch_concurrency), ("token_lifetime_s", args.token_lifetime_s)) if value is not None}
    settings = _admin_call(args, lambda admin: admin.set_graph_settings(**changes))
    if settings is None:
        return 1
    print(json.dumps(settings, indent=2))
    return 0


def log_command(args) -> int:
    entries = _admin_call(args, lambda admin: admin.requests(since=args.since))
    if entries is None:
        return 1
    for entry in entries:
        print(json.dumps(entry))
    return 0


def _admin_call(args, call):
    """Run ``call(AdminClient)``; print the reason and return None when it fails."""
    if not args.admin_url:
        print("error: give --admin-url (or set EWS_ADMIN_URL)", file=sys.stderr)
        return None
    try:
        return call(AdminClient(args.admin_url, args.ca))
    except (SandboxError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
