"""A tiny HTTP server on 127.0.0.1 that records every request it gets (redirect targets).

    with Recorder() as rec:
        rec.url                      # "http://127.0.0.1:PORT"
        rec.requests                 # [{"method", "path", "headers": {lower-case}, "body"}]

Every request is answered 200 with an empty JSON object. It stops when the block ends.
"""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Longest request body kept (bytes); the rest is read and dropped.
MAX_BODY = 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, fmt, *args):
        pass

    def _any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, MAX_BODY)) if n > 0 else b""
        if n > MAX_BODY:
            self.rfile.read(n - MAX_BODY)
        with self.server.lock:
            self.server.requests.append({
                "method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any


class Recorder:
    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.lock = threading.Lock()
        self.server.requests = []
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def requests(self):
        with self.server.lock:
            return list(self.server.requests)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
