"""DatabaseAdmin: where the catalog database is, and the embedded server's lifecycle — status,
start, stop, connection string — plus schema migrations (any non-GUI thread; blocking).

Works from settings alone: asking for the status never starts a server.  Credentials are masked
unless asked for (``url(show_password=True)``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lumina_desktop.config import Settings, mask_url
from lumina_desktop.core.errors import LuminaError
from lumina_desktop.db.cluster import EmbeddedCluster
from lumina_desktop.db.migrate import apply_migrations
from lumina_desktop.db.pool import _check_connect, open_database


@dataclass(frozen=True)
class ServerStatus:
    """The catalog database server.  ``running``: the embedded server runs, or the external one
    answered (an external server that does not answer raises DatabaseError instead)."""

    embedded: bool
    url: str                      # the connection string, password masked
    running: bool
    home: Path | None = None      # the embedded cluster's folder
    initialised: bool = False     # it has been created (else: on first start)
    pid: int | None = None
    major: int | None = None      # its PostgreSQL major version
    socket_dir: Path | None = None
    binaries: str = ""            # the server programs it runs (or why there are none)
    kept_running: bool = False    # started by `db start`: runs until `db stop`
    auth: str = ""                # how clients prove who they are


@dataclass(frozen=True)
class ServerStarted:
    socket_dir: Path
    started_here: bool            # False: it was running already
    migrations_applied: tuple[int, ...]


class DatabaseAdmin:
    """The catalog database of ``settings``: the embedded server in the data folder, or the
    server of ``settings.database_url``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cluster: EmbeddedCluster | None = None

    @property
    def embedded(self) -> bool:
        return self.settings.uses_embedded_server

    def _embedded_cluster(self, action: str) -> EmbeddedCluster:
        if not self.embedded:
            raise LuminaError(f"an external database is configured; there is no embedded server to {action}")
        if self._cluster is None:
            self._cluster = EmbeddedCluster(self.settings.data_dir)
        return self._cluster

    def status(self) -> ServerStatus:
        """Where the database is and whether it runs (never starts it)."""
        if not self.embedded:
            shown = mask_url(self.settings.database_url)
            _check_connect(self.settings.database_url, shown)  # DatabaseError: one line, masked
            return ServerStatus(False, shown, True)
        cluster = self._embedded_cluster("inspect")
        st = cluster.status()
        url = cluster.conninfo() if st.socket_dir is not None else "(made at the first start)"
        return ServerStatus(True, url, st.running, st.home, st.initialised, st.pid, st.major,
                            st.socket_dir, st.binaries, st.mode == "keep", st.auth)

    def url(self, *, show_password: bool = False) -> str:
        """The connection string (for psql and scripts)."""
        url = self.settings.database_url if not self.embedded else self._embedded_cluster("connect to").conninfo()
        return url if show_password else mask_url(url)

    def start(self, *, keep_running: bool = True) -> ServerStarted:
        """Start the embedded server (or find it running) and bring its schema up to date.  It
        keeps running for later commands and windows until ``stop()``: commands that exit do not
        stop it.  ``keep_running=False`` (a window restarting the server it uses): its last user
        stops it as usual."""
        self._embedded_cluster("start")
        db = open_database(self.settings, migrate=False, pool_size=1, keep_running=keep_running)
        try:
            assert db.cluster is not None
            started_here = db.cluster.started_here
            socket_dir = db.cluster.socket_dir
            with db.connection() as conn:
                applied = apply_migrations(conn)
        finally:
            db.close()
        assert socket_dir is not None
        return ServerStarted(socket_dir, started_here, tuple(applied))

    def stop(self) -> bool:
        """Stop the embedded server (fast shutdown), even if commands or windows still use it
        (``in_use()`` tells); True if it was running."""
        return self._embedded_cluster("stop").stop()

    def in_use(self) -> bool:
        """Do other Lumina commands or windows use the embedded server right now?"""
        return self._embedded_cluster("inspect").has_users()

    def migrate(self) -> tuple[int, ...]:
        """Bring the catalog database's schema up to date; returns the versions applied.  An
        embedded server this call has to start is stopped again afterwards (unless other users
        came meanwhile, or ``db start`` asked to keep it running)."""
        db = open_database(self.settings, migrate=False, pool_size=1)
        try:
            with db.connection() as conn:
                return tuple(apply_migrations(conn))
        finally:
            db.close()
