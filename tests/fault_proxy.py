"""A fault-injecting HTTP proxy in front of the moto server, on 127.0.0.1: real sockets, real HTTP.

Requests pass through to moto unchanged, except GETs of chosen object keys: for `cut` keys the proxy sends
the headers (with the full Content-Length) and half the body, then drops the connection; for `fail` keys it
answers 500 InternalError, every time, so the SDK's retries cannot hide it. `faults = False` heals it.
"""

import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from local_http import LocalServer

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
_INTERNAL_ERROR = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
                   b"<Message>We encountered an internal error. Please try again.</Message></Error>")


class FaultProxy:
    def __init__(self, upstream: str, *, cut: set[str] = frozenset(), fail: set[str] = frozenset()):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.cut, self.fail = set(cut), set(fail)
        self.faults = True
        self.injected: list[tuple[str, str]] = []  # (fault, key), in order
        self._lock = threading.Lock()
        self._server = LocalServer(self._handler(), "fault-proxy")
        self.url = self._server.url

    def __enter__(self) -> "FaultProxy":
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def _fault_for(self, method: str, path: str) -> tuple[str, str] | None:
        if method != "GET" or not self.faults:
            return None
        key = unquote(urlsplit(path).path)
        for fault, keys in (("cut", self.cut), ("fail", self.fail)):
            for chosen in keys:
                if key.endswith("/" + chosen):
                    with self._lock:
                        self.injected.append((fault, chosen))
                    return fault, chosen
        return None

    def _forward(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            connection.request(method, path, body=body or None,
                               headers={k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP})
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._fault_for(self.command, self.path)
                if fault and fault[0] == "fail":
                    self._send(500, [("Content-Type", "application/xml")], _INTERNAL_ERROR)
                    return
                status, headers, data = proxy._forward(self.command, self.path, self.headers, body)
                self._send(status, headers, data, cut=bool(fault and fault[0] == "cut"))

            def _send(self, status: int, headers: list[tuple[str, str]], data: bytes, cut: bool = False) -> None:
                """The response; `cut` announces the whole length, sends half the body and drops the connection."""
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if cut:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                elif self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any  # noqa: N815 (http.server's names)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler
