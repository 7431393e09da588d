"""The real stack for integration tests: nginx + pts-cgi + pts-worker via `./bootstrap run`.

    with Stack(env={...}) as s:          # a temporary data folder and a free loopback port
        status, body, headers = s.api("GET", "/api/health")
        s.db()                           # a sqlite3 connection to the service's database

Uses the sanitizer build named by PTS_BUILD_DIR (tests/run-tests sets it). Everything binds to
127.0.0.1 and stops when the test ends.
"""
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

TOP = os.environ.get("PTS_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("PTS_BUILD_DIR") or os.path.join(TOP, "build-check")
# How long the stack may take to answer /api/health after start.
START_TIMEOUT_S = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10.0, step=0.05, what="condition"):
    """Poll pred() until it returns a truthy value; that value is returned."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(step)


class ApiChecks:
    """A mixin for a TestCase whose api(method, path, body) answers (status, JSON, headers):
    requests whose status is checked, answering the JSON body."""

    def get(self, path):
        st, body, _ = self.api("GET", path)
        self.assertEqual(st, 200, body)
        return body

    def post(self, path, body=None, status=202):
        st, got, _ = self.api("POST", path, body)
        self.assertEqual(st, status, got)
        return got


class Stack:
    def __init__(self, env=None, data_dir=None, port=None):
        self.tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="pts-stack-")
        if self.tmp:
            # As a real deployment's parent folder: the service user and nginx's workers may
            # pass through it (mkdtemp makes it 0700).
            os.chmod(self.tmp.name, 0o711)
        self.data = data_dir or os.path.join(self.tmp.name, "var")
        self.port = port or free_port()
        self.env = dict(os.environ)
        self.env.update({"PTS_DATA_DIR": self.data, "PTS_HTTP_ADDR": "127.0.0.1",
                         "PTS_HTTP_PORT": str(self.port), "PTS_BUILD_DIR": BUILD})
        self.env.update(env or {})
        self.proc = None
        self.log_path = os.path.join(self.tmp.name if self.tmp else self.data, "stack.log")

    # ---- life ----
    def start(self):
        # free_port() releases the port before nginx binds it: another test may take it in
        # between. Only that failure is retried, on a new port; anything else is raised.
        for attempt in range(3):
            try:
                return self._start()
            except RuntimeError as e:
                if "Address already in use" not in str(e) or attempt == 2:
                    raise
                self.port = free_port()
                self.env["PTS_HTTP_PORT"] = str(self.port)

    def _start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([os.path.join(TOP, "bootstrap"), "run"], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        end = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self.log.close()
                raise RuntimeError("stack exited early:\n" + self.read_log())
            try:
                st, body, _ = self.api("GET", "/api/health")
                if st == 200 and body.get("worker", {}).get("alive"):
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("stack did not become healthy:\n" + self.read_log())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # bootstrap stops its three services
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def cleanup(self):
        if self.tmp:
            self.tmp.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()

    def read_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-8000:]
        except OSError:
            return ""

    # ---- HTTP ----
    def request(self, method, path, body=None, headers=None, raw=None, timeout=15):
        """One HTTP request; returns (status, headers dict (lower-case), body bytes)."""
        h = {}
        if method in ("POST", "PUT", "DELETE"):
            h["X-Requested-With"] = "XMLHttpRequest"
        if body is not None:
            raw = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=raw, headers=h)
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def api(self, method, path, body=None, headers=None, raw=None):
        """Like request, but the body is decoded as JSON (None when not JSON)."""
        st, hdrs, data = self.request(method, path, body, headers, raw)
        try:
            js = json.loads(data) if data else None
        except ValueError:
            js = None
        return st, js, hdrs

    # ---- database ----
    def db(self):
        conn = sqlite3.connect(os.path.join(self.data, "pts.db"), timeout=10)
        conn.row_factory = sqlite3.Row
        return conn

    def query(self, sql, *params):
        conn = self.db()
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def exec(self, *statements):
        """Runs each statement, a string or (sql, *params), in one transaction."""
        conn = self.db()
        try:
            for st in statements:
                sql, params = (st, ()) if isinstance(st, str) else (st[0], st[1:])
                conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()

    def wait_run(self, run_id, timeout=30.0, step=0.1, what=None):
        """The row of run run_id once it is neither queued nor running."""
        def done():
            r = self.query("SELECT * FROM runs WHERE id = ?", run_id)
            return r and r[0]["status"] not in ("queued", "running") and r[0]
        return wait_for(done, timeout=timeout, step=step, what=what or "run %d" % run_id)
