"""Local HTTP(S) servers for tests: a threaded server on a free 127.0.0.1 port, and the AWS JSON 1.1 protocol."""

import json
import ssl
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class LocalServer:
    """Serves `handler` on 127.0.0.1 (HTTPS when given a cert and key) until `stop`; also a `with` block."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str, cert: tuple[Path, Path] | None = None):
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._http.daemon_threads = True
        if cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            self._http.socket = context.wrap_socket(self._http.socket, server_side=True)
        self.url = f"{'https' if cert else 'http'}://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, name=name, daemon=True)

    def start(self) -> "LocalServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(5)


Answer = Callable[[str | None, dict[str, Any], str], tuple[int, dict[str, Any]]]


def json11_handler(answer: Answer) -> type[BaseHTTPRequestHandler]:
    """The AWS JSON 1.1 protocol: `answer(X-Amz-Target, body, Authorization)` gives (status, payload)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, payload = answer(self.headers.get("X-Amz-Target"), json.loads(raw or b"{}"),
                                     self.headers.get("Authorization", ""))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler
