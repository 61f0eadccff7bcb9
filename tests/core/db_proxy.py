"""A TCP proxy in front of PostgreSQL that a test controls: forward, cut, black-hole, restore.

    with DatabaseProxy(("127.0.0.1", 5432)) as proxy:   # listens on 127.0.0.1:<proxy.port>
        proxy.cut()         # every connection, old and new, is reset (RST): "connection refused/reset"
        proxy.black_hole()  # connections are accepted, nothing is forwarded either way: the silent network
        proxy.restore()     # forward again; connections from the black-hole period are reset

Threads only, all daemons; `close()` stops everything and is bounded in time.
"""

import contextlib
import selectors
import socket
import struct
import threading

FORWARD, CUT, BLACK_HOLE = "forward", "cut", "black_hole"


def _reset(sock):
    """Close with RST (linger 0), as a crashed server or a firewall reject does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class DatabaseProxy:
    def __init__(self, upstream):
        self.upstream = upstream
        self.mode = FORWARD
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs = []  # (client socket, upstream socket or None)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="db-proxy", daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- control ---------------------------------------------------------------

    def cut(self):
        with self._lock:
            self.mode = CUT
            self._reset_all()

    def black_hole(self):
        with self._lock:
            self.mode = BLACK_HOLE

    def restore(self):
        with self._lock:
            self.mode = FORWARD
            # Their bytes were swallowed: the protocol stream is broken, so end them.
            self._reset_all()

    def close(self):
        self._stopped.set()
        self._thread.join(5)
        self._listener.close()
        with self._lock:
            self._reset_all()

    # -- plumbing ----------------------------------------------------------------

    def _reset_all(self):
        for client, upstream in self._pairs:
            _reset(client)
            if upstream is not None:
                _reset(upstream)
        self._pairs = []

    def _accept_loop(self):
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                mode = self.mode
            if mode == CUT:
                _reset(client)
                continue
            upstream = None
            if mode == FORWARD:
                try:
                    upstream = socket.create_connection(self.upstream, timeout=5)
                except OSError:
                    _reset(client)
                    continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client, upstream):
        """Copy bytes both ways while forwarding; swallow them while black-holed."""
        peers = {client: upstream, upstream: client} if upstream is not None else {client: None}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            while not self._stopped.is_set():
                try:
                    events = selector.select(0.2)
                    for key, _ in events:
                        data = key.fileobj.recv(65536)
                        if not data:
                            raise ConnectionError("closed")
                        target = peers[key.fileobj]
                        if self.mode == FORWARD and target is not None:
                            target.setblocking(True)
                            target.sendall(data)
                            target.setblocking(False)
                except (OSError, ValueError, ConnectionError):
                    break
        for sock in peers:
            try:
                sock.close()
            except OSError:
                pass


@contextlib.contextmanager
def route_connections_through(proxy, **options):
    """Point this process's Django connections (every thread's) at `proxy`, with these pool/timeout options.

    Threads share one settings dict per alias, and Django keeps one pool per
    alias: swapping the dict's HOST/PORT/OPTIONS and closing the pool makes the
    next connection of any thread go through the proxy; leaving swaps back.
    """
    from django.db import connection, connections

    from core.database import postgres_options

    shared = connections.settings["default"]
    saved = {key: shared[key] for key in ("HOST", "PORT", "OPTIONS")}
    connection.close()
    connection.close_pool()
    shared.update(HOST="127.0.0.1", PORT=str(proxy.port), OPTIONS=postgres_options(**options))
    try:
        yield
    finally:
        connection.close()
        connection.close_pool()
        shared.update(saved)


# Test-sized versions of the production settings (README "Configuration").
FAST_OPTIONS = {
    "connect_timeout": 1,
    "statement_timeout_ms": 1500,
    "pool_min_size": 1,
    "pool_max_size": 4,
    "pool_timeout": 2.0,
}
