"""A TCP relay on 127.0.0.1 in front of a local server: a slow link, for interrupting transfers.

Bytes from client to server go through in chunks at ``rate`` bytes per second (None: full speed);
``sent`` counts them, so a test can act once a transfer is under way.
"""
from __future__ import annotations

import socket
import threading
import time


class ThrottledProxy:
    def __init__(self, target_port: int, rate: float | None = None):
        self.target_port = target_port
        self.rate = rate
        self.sent = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> "ThrottledProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upload: bool) -> None:
        chunk = 32 * 1024
        try:
            while not self._stopping.is_set():
                data = source.recv(chunk)
                if not data:
                    break
                sink.sendall(data)
                if upload:
                    with self._lock:
                        self.sent += len(data)
                    if self.rate:
                        time.sleep(len(data) / self.rate)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
