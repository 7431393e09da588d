"""Plumbing shared by the fake upstream servers.

Every fake is a FakeApp served by a ThreadingHTTPServer bound to 127.0.0.1.
This module provides:
  * Request / Response / HttpError and a small regex Router,
  * raw query-string parsing that keeps Plex filter operators (``a>>=1``),
  * call counting ("METHOD /path" -> n),
  * fault injection (5xx, 429, latency, malformed and oversized bodies,
    "lost answers"), settable at runtime,
  * the /_control/ endpoints every fake has (calls, faults, state, reset).

Python 3.11 standard library only.
"""

import json
import math
import random
import re
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, unquote_plus

# ==== Limits ================================================================

MAX_BODY_BYTES = 32 * 1024 * 1024      # request bodies above this get 413
OVERSIZED_BYTES = 21 * 1024 * 1024     # size of an "oversized" fault body
STREAM_CHUNK = 1024 * 1024             # write oversized bodies in 1 MiB chunks
MAX_LATENCY_MS = 600_000               # latency_ms fault ceiling (10 min)
# "tiny_objects" fault: a 200 JSON page of this many empty objects (~3.3 MB), more values than
# pts-worker parses (PTS_JSON_MAX_NODES = 1,000,000).
TINY_OBJECTS = 1_100_000
FAULT_5XX_CODES = (500, 502, 503, 520)

# ==== Time helpers ==========================================================


def now():
    return time.time()


def iso_ms(epoch):
    """Epoch seconds -> '2014-11-20T07:01:32.123Z' (UTC, milliseconds)."""
    dt = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def iso_sec(epoch):
    """Epoch seconds -> '2014-11-20T07:01:32Z'."""
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    """ISO-8601 -> epoch seconds (float). Naive times are UTC. Raises ValueError."""
    if not isinstance(text, str) or not text:
        raise ValueError("not a time string")
    dt = datetime.fromisoformat(text.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


# ==== Requests and responses ================================================


class HttpError(Exception):
    """Raise from a handler to answer with an error status."""

    def __init__(self, status, body=None, headers=None, ctype="application/json"):
        super().__init__(status)
        self.status = status
        self.body = body if body is not None else {"error": "HTTP %d" % status}
        self.headers = headers or {}
        self.ctype = ctype

    def response(self):
        if isinstance(self.body, (bytes, str)):
            return Response(self.status, self.body, self.ctype, self.headers)
        return json_response(self.body, self.status, self.headers)


class Response:
    """status, body (bytes), content type, extra headers.

    ``stream`` (optional) is an iterable of byte chunks sent after ``body``;
    ``length`` must then be the total byte count.
    """

    def __init__(self, status=200, body=b"", ctype="application/json", headers=None,
                 stream=None, length=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = dict(headers or {})
        self.stream = stream
        self.length = length if length is not None else len(body)


def json_dumps(obj):
    # surrogateescape: a lone U+DC80..U+DCFF in a string goes out as the raw byte 0x80..0xFF,
    # how tests make an upstream send text that is not UTF-8.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogateescape")


def json_response(obj, status=200, headers=None):
    return Response(status, json_dumps(obj), "application/json; charset=utf-8", headers)


def empty_response(status=200, headers=None):
    return Response(status, b"", "text/plain", headers)


def parse_query(raw):
    """Parse a raw query string into an ordered list of (key, value).

    Splits on '&' first, then on the FIRST '=' of the raw (still encoded)
    part, so 'lastViewedAt>>=5' and 'lastViewedAt%3E%3E=5' both give
    ('lastViewedAt>>', '5').  A part whose '=' itself was percent-encoded
    ('a%3E%3D1') is decoded first and then split.
    """
    pairs = []
    if not raw:
        return pairs
    for part in raw.split("&"):
        if not part:
            continue
        if "=" in part:
            k, v = part.split("=", 1)
            pairs.append((unquote_plus(k), unquote_plus(v)))
        else:
            dec = unquote_plus(part)
            if "=" in dec:
                k, v = dec.split("=", 1)
                pairs.append((k, v))
            else:
                pairs.append((dec, ""))
    return pairs


class Request:
    def __init__(self, method, raw_path, headers, body, client):
        self.method = method
        path, _, raw_query = raw_path.partition("?")
        self.raw_path = path
        self.path = unquote(path)
        self.raw_query = raw_query
        self.query_pairs = parse_query(raw_query)
        self.query = {}
        for k, v in self.query_pairs:
            self.query.setdefault(k, v)
        self.headers = headers
        self.body = body
        self.client = client
        self._json = None

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self, required=True):
        """Body parsed as JSON; HttpError 400 when invalid (or empty and required)."""
        if self._json is None:
            if not self.body.strip():
                if required:
                    raise HttpError(400, {"error": "empty body, JSON expected"})
                self._json = {}
                return self._json
            try:
                self._json = json.loads(self.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise HttpError(400, {"error": "invalid JSON body"})
        return self._json

    def json_object(self, required=True):
        obj = self.json(required)
        if not isinstance(obj, dict):
            raise HttpError(400, {"error": "JSON object expected"})
        return obj

    def qint(self, name, default=None, lo=None, hi=None, clamp=False):
        """Integer query parameter; 400 when not an integer or out of range."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            val = int(raw)
        except ValueError:
            raise HttpError(400, {"error": "query parameter %s must be an integer" % name})
        if lo is not None and val < lo:
            if not clamp:
                raise HttpError(400, {"error": "query parameter %s below %d" % (name, lo)})
            val = lo
        if hi is not None and val > hi:
            if not clamp:
                raise HttpError(400, {"error": "query parameter %s above %d" % (name, hi)})
            val = hi
        return val

    def wants_json(self):
        return "application/json" in (self.header("Accept") or "").lower()


class Router:
    """Regex route table: add(methods, pattern, handler); handler(req, *groups)."""

    def __init__(self):
        self.routes = []

    def add(self, methods, pattern, handler):
        self.routes.append((frozenset(methods.split()), re.compile(pattern), handler))

    def dispatch(self, req):
        method = "GET" if req.method == "HEAD" else req.method
        path_matched = False
        for methods, rx, handler in self.routes:
            m = rx.fullmatch(req.path)
            if not m:
                continue
            if method in methods:
                return handler(req, *m.groups())
            path_matched = True
        if path_matched:
            raise HttpError(405, {"error": "method not allowed"})
        raise HttpError(404, {"error": "not found", "path": req.path})


# ==== Call counting =========================================================


class CallCounter:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = {}
        self.total = 0

    def count(self, req):
        key = "%s %s" % (req.method, req.path)
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1
            self.total += 1

    def snapshot(self):
        with self.lock:
            return {"calls": dict(self.calls), "total": self.total}

    def reset(self):
        with self.lock:
            self.calls = {}
            self.total = 0


# ==== Fault injection =======================================================

FAULT_DEFAULTS = {
    "rate_5xx": 0.0,          # probability of 500/502/503/520 (not applied)
    "rate_429": 0.0,          # probability of 429 + Retry-After (not applied)
    "retry_after_s": 1,       # the Retry-After of an injected 429 (a long one holds a client)
    "latency_ms": 0,          # delay before every answer
    "malformed_rate": 0.0,    # probability of 200 with truncated JSON (not applied)
    "oversized": False,       # every answer: 200 with a valid-looking > 20 MB body
    "lost_answer_rate": 0.0,  # Trakt POST /sync/history: applied, then 502
    "seed": None,             # reseeds the fault RNG when set
    "only": [],               # limit faults to these "/prefix" or "METHOD /prefix"
    "fail_next": [],          # deterministic queue: status ints, "malformed",
                              # "oversized", "lost" (handled, then 502), "tiny_objects"
    "redirect": None,         # {"status": 301..308, "location": URL}: every matching
                              # request is answered with that redirect (not applied)
}
FAIL_NEXT_WORDS = ("malformed", "oversized", "lost", "tiny_objects")


def _check_rate(key, val):
    if isinstance(val, bool) or not isinstance(val, (int, float)) or not 0 <= val <= 1:
        raise HttpError(400, {"error": "%s must be a number in 0..1" % key})
    return float(val)


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.cfg = json.loads(json.dumps(FAULT_DEFAULTS))
            self.rng = random.Random(0)

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.cfg))

    def update(self, patch):
        """Validate and apply a partial fault dict; HttpError 400 on any bad key."""
        if not isinstance(patch, dict):
            raise HttpError(400, {"error": "fault object expected"})
        clean = {}
        for key, val in patch.items():
            if key not in FAULT_DEFAULTS:
                raise HttpError(400, {"error": "unknown fault key", "key": key})
            if key in ("rate_5xx", "rate_429", "malformed_rate", "lost_answer_rate"):
                clean[key] = _check_rate(key, val)
            elif key == "retry_after_s":
                if isinstance(val, bool) or not isinstance(val, int) or not 1 <= val <= 3600:
                    raise HttpError(400, {"error": "retry_after_s must be 1..3600"})
                clean[key] = val
            elif key == "latency_ms":
                if isinstance(val, bool) or not isinstance(val, (int, float)) \
                        or not 0 <= val <= MAX_LATENCY_MS:
                    raise HttpError(400, {"error": "latency_ms must be 0..%d" % MAX_LATENCY_MS})
                clean[key] = val
            elif key == "oversized":
                if not isinstance(val, bool):
                    raise HttpError(400, {"error": "oversized must be a boolean"})
                clean[key] = val
            elif key == "seed":
                if val is not None and (isinstance(val, bool) or not isinstance(val, int)):
                    raise HttpError(400, {"error": "seed must be an integer or null"})
                clean[key] = val
            elif key == "only":
                if not isinstance(val, list) or not all(isinstance(s, str) and s for s in val):
                    raise HttpError(400, {"error": "only must be a list of strings"})
                clean[key] = list(val)
            elif key == "redirect":
                if val is not None and not (
                        isinstance(val, dict) and set(val) == {"status", "location"}
                        and isinstance(val["status"], int) and 300 <= val["status"] <= 399
                        and isinstance(val["location"], str) and val["location"]):
                    raise HttpError(400, {"error": "redirect must be null or"
                                                   " {\"status\": 3xx, \"location\": URL}"})
                clean[key] = val
            elif key == "fail_next":
                if not isinstance(val, list):
                    raise HttpError(400, {"error": "fail_next must be a list"})
                for v in val:
                    ok = (isinstance(v, int) and not isinstance(v, bool) and 400 <= v <= 599) \
                        or v in FAIL_NEXT_WORDS
                    if not ok:
                        raise HttpError(400, {"error": "bad fail_next entry", "entry": v})
                clean[key] = list(val)
        with self.lock:
            self.cfg.update(clean)
            if "seed" in clean and clean["seed"] is not None:
                self.rng = random.Random(clean["seed"])
        return self.snapshot()

    def _applies(self, req):
        only = self.cfg["only"]
        if not only:
            return True
        for entry in only:
            if entry.startswith("/"):
                if req.path.startswith(entry):
                    return True
            else:
                meth, _, prefix = entry.partition(" ")
                if meth.upper() == req.method and req.path.startswith(prefix or "/"):
                    return True
        return False

    def pick(self, req, lost_paths):
        """Decide the fault for one request.

        Returns (latency_seconds, action) where action is None, an int status,
        "malformed", "oversized", "lost", "tiny_objects" or a redirect dict.
        """
        with self.lock:
            if not self._applies(req):
                return 0.0, None
            cfg = self.cfg
            latency = cfg["latency_ms"] / 1000.0
            if cfg["redirect"]:
                return latency, dict(cfg["redirect"])
            if cfg["fail_next"]:
                return latency, cfg["fail_next"].pop(0)
            r = self.rng.random()
            if r < cfg["rate_5xx"]:
                return latency, self.rng.choice(FAULT_5XX_CODES)
            r = self.rng.random()
            if r < cfg["rate_429"]:
                return latency, 429
            r = self.rng.random()
            if r < cfg["malformed_rate"]:
                return latency, "malformed"
            if cfg["oversized"]:
                return latency, "oversized"
            if (req.method, req.path) in lost_paths:
                if self.rng.random() < cfg["lost_answer_rate"]:
                    return latency, "lost"
            return latency, None


CLOUDFLARE_HTML = (
    "<!DOCTYPE html><html><head><title>%d: fake upstream error</title></head>"
    "<body><h1>Error %d</h1><p>cloudflare (fake)</p></body></html>"
)


def error_status_response(status, retry_after=1):
    """An injected error answer: JSON for 500/503/429, Cloudflare-ish HTML otherwise."""
    if status == 429:
        until = iso_ms(now() + retry_after)
        rl = {"name": "UNAUTHED_API_GET_LIMIT", "period": 300, "limit": 1000,
              "remaining": 0, "until": until}
        return json_response({"error": "rate limited (injected)"}, 429,
                             {"Retry-After": str(retry_after), "X-Ratelimit": json.dumps(rl)})
    if status == 420:
        # Trakt's account limit: which cap, and where to upgrade (UPSTREAM.md).
        return json_response({"error": "account limit (injected)"}, 420,
                             {"X-Account-Limit": "watchlist", "X-Upgrade-URL":
                              "https://trakt.tv/vip"})
    if status in (500, 503) or status < 500:
        return json_response({"error": "injected fault %d" % status}, status)
    return Response(status, CLOUDFLARE_HTML % (status, status), "text/html; charset=UTF-8")


# ==== The app base class ====================================================


class FakeApp:
    """Base for the four fakes.  Subclasses set ``name``, fill ``self.router``
    and ``self.control_router`` and implement get_state / set_state / reset.
    """

    name = "base"
    # 200 answer for the "malformed" fault: valid start, truncated mid-string.
    malformed_body = b'{"data": [{"id": 1, "title": "Trunc'
    # "oversized" fault body: prefix + padding + suffix is valid JSON.
    oversized_prefix = b'{"padding": "'
    oversized_suffix = b'"}'
    lost_answer_paths = frozenset()

    def __init__(self, verbose=False):
        self.verbose = verbose
        self.lock = threading.RLock()
        self.calls = CallCounter()
        self.faults = Faults()
        self.router = Router()
        self.control_router = Router()
        self.base_url = None          # set once the server listens
        self.stop_event = None        # set by fakeup: POST /_control/shutdown
        cr = self.control_router
        cr.add("GET", r"/_control/calls", lambda r: json_response(self.calls.snapshot()))
        cr.add("POST", r"/_control/calls/reset", self._ctl_calls_reset)
        cr.add("GET", r"/_control/faults", lambda r: json_response(self.faults.snapshot()))
        cr.add("POST", r"/_control/faults", self._ctl_faults)
        cr.add("POST", r"/_control/faults/reset", self._ctl_faults_reset)
        cr.add("GET", r"/_control/state", self._ctl_get_state)
        cr.add("POST", r"/_control/state", self._ctl_set_state)
        cr.add("POST", r"/_control/reset", self._ctl_reset)
        cr.add("POST", r"/_control/shutdown", self._ctl_shutdown)
        cr.add("GET", r"/_control/health", lambda r: json_response({"ok": True, "name": self.name}))
        cr.add("GET", r"/_control/summary", lambda r: json_response(self.summary))
        self.summary = {}             # corpus summary, set by fakeup

    # -- subclass hooks --
    def get_state(self, req):
        """A JSON-able dict, or a Response serialised while holding self.lock."""
        return {}

    def set_state(self, patch):
        raise HttpError(400, {"error": "no settable state"})

    def reset(self):
        pass

    # -- control handlers --
    def _ctl_calls_reset(self, req):
        self.calls.reset()
        return json_response({"ok": True})

    def _ctl_faults(self, req):
        return json_response(self.faults.update(req.json_object()))

    def _ctl_faults_reset(self, req):
        self.faults.reset()
        return json_response(self.faults.snapshot())

    def _ctl_get_state(self, req):
        st = self.get_state(req)
        return st if isinstance(st, Response) else json_response(st)

    def _ctl_set_state(self, req):
        patch = req.json_object()
        with self.lock:
            self.set_state(patch)
        return json_response({"ok": True})

    def _ctl_reset(self, req):
        self.reset()
        self.calls.reset()
        self.faults.reset()
        return json_response({"ok": True})

    def _ctl_shutdown(self, req):
        if self.stop_event is not None:
            self.stop_event.set()
        return json_response({"ok": True})

    # -- request flow --
    def control(self, req):
        return self.control_router.dispatch(req)

    def serve(self, req):
        """Count, inject faults, route.  Never called for /_control/ paths."""
        self.calls.count(req)
        latency, action = self.faults.pick(req, self.lost_answer_paths)
        if latency > 0:
            time.sleep(latency)
        if isinstance(action, int):
            return error_status_response(action, self.faults.snapshot()["retry_after_s"])
        if isinstance(action, dict):
            return Response(action["status"], b"", "text/html",
                            {"Location": action["location"]})
        if action == "tiny_objects":
            return Response(200, b'{"MediaContainer":{"size":%d,"totalSize":%d,"offset":0,'
                            b'"Metadata":[' % (TINY_OBJECTS, TINY_OBJECTS)
                            + b",".join([b"{}"] * TINY_OBJECTS) + b"]}}",
                            "application/json")
        if action == "malformed":
            return Response(200, self.malformed_body, "application/json")
        if action == "oversized":
            return self.oversized_response()
        resp = self.router.dispatch(req)
        if action == "lost" and 200 <= resp.status < 300:
            return error_status_response(502)
        return resp

    def oversized_response(self):
        pad = OVERSIZED_BYTES
        chunk = b"x" * STREAM_CHUNK

        def gen():
            left = pad
            while left > 0:
                n = min(left, STREAM_CHUNK)
                yield chunk if n == STREAM_CHUNK else chunk[:n]
                left -= n
            yield self.oversized_suffix

        total = len(self.oversized_prefix) + pad + len(self.oversized_suffix)
        return Response(200, self.oversized_prefix, "application/json", stream=gen(),
                        length=total)


# ==== HTTP server glue ======================================================


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeUpstream/1.0"
    timeout = 120  # idle keep-alive connections are dropped after this
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle
    # plus delayed ACKs add ~40 ms to every small keep-alive answer.
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.server.app.verbose:
            sys.stderr.write("[%s] %s\n" % (self.server.app.name, fmt % args))

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    raise HttpError(400, {"error": "bad chunked encoding"})
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + size > MAX_BODY_BYTES:
                    raise HttpError(413, {"error": "body too large"})
                out += self.rfile.read(size)
                self.rfile.readline(1024)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b""
        try:
            n = int(cl)
        except ValueError:
            raise HttpError(400, {"error": "bad Content-Length"})
        if n < 0:
            raise HttpError(400, {"error": "bad Content-Length"})
        if n > MAX_BODY_BYTES:
            raise HttpError(413, {"error": "body too large"})
        return self.rfile.read(n)

    def _dispatch(self):
        app = self.server.app
        try:
            body = self._read_body()
        except HttpError as e:
            self.close_connection = True
            self._send(e.response())
            return
        req = Request(self.command, self.path, self.headers, body, self.client_address)
        try:
            if req.path == "/_control" or req.path.startswith("/_control/"):
                resp = app.control(req)
            else:
                resp = app.serve(req)
        except HttpError as e:
            resp = e.response()
        except Exception:  # a bug in a fake: answer 500, keep serving
            traceback.print_exc()
            resp = json_response({"error": "fake server internal error"}, 500)
        self._send(resp)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def __getattr__(self, name):
        # Any other method (BREW, PROPFIND...) is routed too: 405/404, not 501.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _send(self, resp):
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.ctype)
            self.send_header("Content-Length", str(resp.length))
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command == "HEAD":
                return
            self.wfile.write(resp.body)
            if resp.stream is not None:
                for chunk in resp.stream:
                    self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, app, port=0):
        self.app = app
        super().__init__(("127.0.0.1", port), FakeHandler)

    def handle_error(self, request, client_address):
        # Client went away mid-request and the like: not worth a traceback.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


# ==== Small helpers for subclasses =========================================


def paginate_bounds(total, page, limit):
    """Trakt-style page math -> (start, end, page_count)."""
    page_count = int(math.ceil(total / limit)) if total else 0
    start = (page - 1) * limit
    return start, min(start + limit, total), page_count


def check_keys(patch, allowed):
    for key in patch:
        if key not in allowed:
            raise HttpError(400, {"error": "unknown state key", "key": key,
                                  "allowed": sorted(allowed)})


def want_int(patch, key, lo=None, hi=None):
    val = patch[key]
    if isinstance(val, bool) or not isinstance(val, int):
        raise HttpError(400, {"error": "%s must be an integer" % key})
    if (lo is not None and val < lo) or (hi is not None and val > hi):
        raise HttpError(400, {"error": "%s out of range" % key})
    return val


def want_str(patch, key, allow_empty=False):
    val = patch[key]
    if not isinstance(val, str) or (not val and not allow_empty):
        raise HttpError(400, {"error": "%s must be a non-empty string" % key})
    return val


def want_bool(patch, key):
    val = patch[key]
    if not isinstance(val, bool):
        raise HttpError(400, {"error": "%s must be a boolean" % key})
    return val


def load_data(name):
    """Load tests/fakes/data/<name> (a JSON fixture copy)."""
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", name)
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
