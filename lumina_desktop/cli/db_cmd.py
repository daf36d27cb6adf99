"""``lumina-desktop db status|start|stop|url`` (main thread, no Qt)."""
from __future__ import annotations

import argparse

from lumina_desktop.core.errors import LuminaError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("db", help="the catalog database server")
    s = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    s.add_parser("status", help="where the database is and whether it runs").set_defaults(handler=_status)
    s.add_parser("start", help="start the embedded server and leave it running").set_defaults(handler=_start)
    s.add_parser("stop", help="stop the embedded server").set_defaults(handler=_stop)
    u = s.add_parser("url", help="print the connection string (for psql and scripts)")
    u.add_argument("--show-password", action="store_true", help="do not mask a password")
    u.set_defaults(handler=_url)


def _admin(args: argparse.Namespace, action: str | None = None):  # type: ignore[no-untyped-def]
    from lumina_desktop.cli import settings_from_args
    from lumina_desktop.services.database import DatabaseAdmin

    admin = DatabaseAdmin(settings_from_args(args))
    if action and not admin.embedded:
        raise LuminaError(f"an external database is configured (--database-url); there is no embedded server to {action}")
    return admin


def _status(args: argparse.Namespace) -> int:
    st = _admin(args).status()
    if not st.embedded:
        print(f"external server: {st.url} (reachable)")
        return 0
    print(f"embedded cluster: {st.home}")
    print(f"initialised:      {'yes (PostgreSQL ' + str(st.major) + ')' if st.initialised else 'no (created on first start)'}")
    if st.running:
        until = "until 'db stop'" if st.kept_running else "until its last user exits"
        print(f"running:          yes, pid {st.pid} ({until})")
    else:
        print("running:          no")
    print(f"socket folder:    {st.socket_dir or '(made at the first start)'}")
    if st.auth:
        print(f"authentication:   {st.auth}")
    print(f"binaries:         {st.binaries}")
    return 0


def _start(args: argparse.Namespace) -> int:
    started = _admin(args, "start").start()
    print(f"running on {started.socket_dir} ({'started' if started.started_here else 'already running'}); "
          "it keeps running until 'lumina-desktop db stop'")
    return 0


def _stop(args: argparse.Namespace) -> int:
    admin = _admin(args, "stop")
    in_use = admin.in_use()
    if not admin.stop():
        print("was not running")
    elif in_use:
        print("stopped; the Lumina commands and windows that were using it lose their connection")
    else:
        print("stopped")
    return 0


def _url(args: argparse.Namespace) -> int:
    print(_admin(args).url(show_password=args.show_password))
    return 0
