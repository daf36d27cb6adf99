"""``lumina-desktop db status|start|stop|url`` (main thread, no Qt)."""
from __future__ import annotations

import argparse

from lumina_desktop.config import mask_url


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("db", help="the catalog database server")
    s = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    s.add_parser("status", help="where the database is and whether it runs").set_defaults(handler=_status)
    s.add_parser("start", help="start the embedded server and leave it running").set_defaults(handler=_start)
    s.add_parser("stop", help="stop the embedded server").set_defaults(handler=_stop)
    u = s.add_parser("url", help="print the connection string (for psql and scripts)")
    u.add_argument("--show-password", action="store_true", help="do not mask a password")
    u.set_defaults(handler=_url)


def _cluster(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from lumina_desktop.cli import settings_from_args
    from lumina_desktop.db.cluster import EmbeddedCluster

    settings = settings_from_args(args)
    if not settings.uses_embedded_server:
        return settings, None
    return settings, EmbeddedCluster(settings.data_dir)


def _status(args: argparse.Namespace) -> int:
    settings, cluster = _cluster(args)
    if cluster is None:
        from lumina_desktop.db.pool import _check_connect

        _check_connect(settings.database_url, mask_url(settings.database_url))
        print(f"external server: {mask_url(settings.database_url)} (reachable)")
        return 0
    st = cluster.status()
    print(f"embedded cluster: {st.home}")
    print(f"initialised:      {'yes (PostgreSQL ' + str(st.major) + ')' if st.initialised else 'no (created on first start)'}")
    print(f"running:          {'yes, pid ' + str(st.pid) if st.running else 'no'}")
    print(f"socket folder:    {st.socket_dir}")
    print(f"binaries:         {st.binaries}")
    return 0


def _start(args: argparse.Namespace) -> int:
    from lumina_desktop.core.errors import LuminaError
    from lumina_desktop.db.migrate import apply_migrations

    settings, cluster = _cluster(args)
    if cluster is None:
        raise LuminaError("an external database is configured (--database-url); there is no embedded server to start")
    cluster.start()
    import psycopg

    with psycopg.connect(cluster.conninfo()) as conn:
        apply_migrations(conn)
    print(f"running on {cluster.socket_dir} ({'started' if cluster.started_here else 'already running'})")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from lumina_desktop.core.errors import LuminaError

    _, cluster = _cluster(args)
    if cluster is None:
        raise LuminaError("an external database is configured (--database-url); there is no embedded server to stop")
    print("stopped" if cluster.stop() else "was not running")
    return 0


def _url(args: argparse.Namespace) -> int:
    settings, cluster = _cluster(args)
    url = settings.database_url if cluster is None else cluster.conninfo()
    print(url if args.show_password else mask_url(url))
    return 0
