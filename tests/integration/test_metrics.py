"""GET /api/metrics after a real sync against the fakes, parsed strictly as the Prometheus
text exposition format (version 0.0.4).

The parser refuses anything a scraper could misread: a sample line that is not
`name{labels} value`, a HELP or TYPE line given twice or after the family's samples, a family
whose samples are not together, a series twice, a counter not named *_total, bad names,
escapes or numbers. The values are then checked against the run and the database.
"""
import math
import os
import re
import sqlite3
import time
import unittest

from fakes import Fakes
from stack import wait_for
from syncenv import FakesStackCase, sign_in_sql

FAKES = None
ADDED = 17            # a Plex->Trakt sync of the default corpus (tests/fakes/README.md)
PLEX_ITEMS = 49
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
REQUIRED = {
    "pts_runs_total": "counter", "pts_items_scanned_total": "counter",
    "pts_plays_added_total": "counter", "pts_upstream_calls_total": "counter",
    "pts_upstream_retries_total": "counter", "pts_upstream_rate_limited_total": "counter",
    "pts_upstream_errors_total": "counter", "pts_last_success_timestamp_seconds": "gauge",
    "pts_trakt_token_expiry_timestamp_seconds": "gauge", "pts_worker_up": "gauge",
}


def setUpModule():
    global FAKES
    FAKES = TestMetrics.fakes = Fakes().start()


def tearDownModule():
    FAKES.stop()


def s_after(fam, name):
    return fam[name]["samples"]


class ExpositionError(AssertionError):
    pass


def parse_labels(s, lineno):
    """'a="x",b="y\\"z"' -> (("a", "x"), ("b", 'y"z')); strict about quoting and escapes."""
    out, i = [], 0
    while i < len(s):
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(s, i)
        if not m:
            raise ExpositionError("line %d: bad label name at %r" % (lineno, s[i:]))
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ExpositionError("line %d: label %s is not =\"...\"" % (lineno, name))
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise ExpositionError("line %d: unterminated label value" % lineno)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ExpositionError("line %d: bad escape \\%s" % (lineno, nxt))
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ExpositionError("line %d: newline in a label value" % lineno)
            else:
                val.append(c)
                i += 1
        if name in dict(out):
            raise ExpositionError("line %d: label %s twice" % (lineno, name))
        out.append((name, "".join(val)))
        if i < len(s):
            if s[i] != ",":
                raise ExpositionError("line %d: expected , between labels" % lineno)
            i += 1
    return tuple(sorted(out))


def parse_exposition(text):
    """{family: {"type", "help", "samples": {labels: value}}}; raises ExpositionError."""
    if not text.endswith("\n"):
        raise ExpositionError("the exposition must end with a newline")
    fam, order, done = {}, [], set()
    current = None
    for n, line in enumerate(text[:-1].split("\n"), 1):
        if line == "":
            raise ExpositionError("line %d: empty line" % n)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[0] != "#" or parts[1] not in ("HELP", "TYPE"):
                raise ExpositionError("line %d: a comment that is not HELP/TYPE: %r" % (n, line))
            kind, name = parts[1], parts[2]
            if not METRIC_NAME.match(name):
                raise ExpositionError("line %d: bad metric name %r" % (n, name))
            f = fam.setdefault(name, {"type": None, "help": None, "samples": {}})
            if f["samples"]:
                raise ExpositionError("line %d: %s after the samples of %s" % (n, kind, name))
            if name in done:
                raise ExpositionError("line %d: family %s is not contiguous" % (n, name))
            key = kind.lower()
            if f[key] is not None:
                raise ExpositionError("line %d: %s of %s given twice" % (n, kind, name))
            if len(parts) != 4 or not parts[3].strip():
                raise ExpositionError("line %d: empty %s" % (n, kind))
            if kind == "TYPE" and parts[3] not in TYPES:
                raise ExpositionError("line %d: unknown type %r" % (n, parts[3]))
            f[key] = parts[3]
            if current not in (None, name):
                done.add(current)
            current = name
            if name not in order:
                order.append(name)
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)\Z", line)
        if not m:
            raise ExpositionError("line %d: not `name{labels} value`: %r" % (n, line))
        name, labels, value = m.group(1), m.group(3), m.group(4)
        f = fam.get(name)
        if f is None or f["type"] is None:
            raise ExpositionError("line %d: sample of %s before its TYPE" % (n, name))
        if name in done or current != name:
            raise ExpositionError("line %d: family %s is not contiguous" % (n, name))
        lab = parse_labels(labels, n) if labels else ()
        for k, _ in lab:
            if not LABEL_NAME.match(k):
                raise ExpositionError("line %d: bad label name %r" % (n, k))
        if lab in f["samples"]:
            raise ExpositionError("line %d: series %s%s twice" % (n, name, dict(lab)))
        try:
            v = float(value)
        except ValueError:
            raise ExpositionError("line %d: value %r is not a number" % (n, value))
        if math.isnan(v):
            raise ExpositionError("line %d: NaN" % n)
        if f["type"] == "counter" and (v < 0 or not name.endswith("_total")):
            raise ExpositionError("line %d: counter %s negative or not *_total" % (n, name))
        f["samples"][lab] = v
    for name, f in fam.items():
        if f["help"] is None or f["type"] is None:
            raise ExpositionError("family %s lacks HELP or TYPE" % name)
    return fam


class TestParser(unittest.TestCase):
    """The strict parser itself refuses what it must."""

    def test_refuses(self):
        ok = "# HELP a_total x\n# TYPE a_total counter\na_total{s=\"1\"} 2\n"
        parse_exposition(ok)
        for bad in ("a_total 1\n",                                     # no TYPE
                    ok + "a_total{s=\"1\"} 3\n",                       # series twice
                    ok.replace("counter", "gauge") + "# HELP a_total y\n",  # HELP after samples
                    ok + "# HELP b x\n# TYPE b gauge\nb 1\na_total{s=\"2\"} 1\n",  # split family
                    ok.replace("{s=\"1\"}", "{s=1}"),                  # unquoted label
                    ok.replace("{s=\"1\"}", "{s=\"\\x\"}"),            # bad escape
                    ok.replace(" 2\n", " two\n"),                      # not a number
                    ok.replace("a_total", "a"),                        # counter not *_total
                    ok[:-1],                                           # no final newline
                    ok + "\n"):                                        # empty line
            with self.assertRaises(ExpositionError, msg=bad):
                parse_exposition(bad)


class TestMetrics(FakesStackCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tok = FAKES.post("trakt", "/_control/token", {})
        cls.token_expiry = tok["created_at"] + tok["expires_in"]
        cls.stack.exec(*sign_in_sql(tok))

    def metrics(self):
        st, hdrs, data = self.stack.request("GET", "/api/metrics")
        self.assertEqual(st, 200, data[:300])
        self.assertEqual(hdrs["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        return parse_exposition(data.decode("utf-8"))

    def test_after_a_real_sync(self):
        before = self.metrics()
        for name, typ in REQUIRED.items():
            self.assertIn(name, before)
            self.assertEqual(before[name]["type"], typ, name)
        self.assertEqual(before["pts_last_success_timestamp_seconds"]["samples"][()], 0)

        # One 429 and one 503 on the way: the counters must show the wait and the retry.
        FAKES.post("trakt", "/_control/faults", {"only": ["GET /sync/watched/movies"],
                                                 "fail_next": [429, 503]})
        t0 = time.time()
        st, body, _ = self.stack.api("POST", "/api/sync", {})
        self.assertEqual(st, 202, body)
        run_id = body["run_id"]

        def finished():
            r = self.stack.query("SELECT * FROM runs WHERE id = ?", run_id)[0]
            return r["status"] not in ("queued", "running") and r
        run = wait_for(finished, timeout=60, step=0.2, what="sync run")
        self.assertEqual(run["status"], "ok", run)
        self.assertEqual(run["added_to_trakt"], ADDED)

        m = wait_for(lambda: (lambda f: f["pts_upstream_calls_total"]["samples"] and f)(
            self.metrics()), timeout=10, what="upstream counters")
        s = lambda name: m[name]["samples"]  # noqa: E731
        self.assertEqual(s("pts_runs_total"), {(("status", "ok"),): 1, (("status", "failed"),): 0,
                                               (("status", "cancelled"),): 0,
                                               (("status", "running"),): 0})
        self.assertEqual(s("pts_items_scanned_total")[()], PLEX_ITEMS)
        self.assertEqual(s("pts_plays_added_total"), {(("target", "trakt"),): ADDED,
                                                      (("target", "plex"),): 0})
        last = s("pts_last_success_timestamp_seconds")[()]
        self.assertTrue(t0 - 2 <= last <= time.time() + 2, last)
        self.assertEqual(s("pts_trakt_token_expiry_timestamp_seconds")[()], self.token_expiry)
        self.assertEqual(s("pts_worker_up")[()], 1)

        # Upstream counters: one series per service, equal to the api_counters table.
        rows = {r["service"]: r for r in self.stack.query("SELECT * FROM api_counters")}
        self.assertIn("plex", rows)
        self.assertIn("trakt", rows)
        for metric, col in (("pts_upstream_calls_total", "calls"),
                            ("pts_upstream_retries_total", "retries"),
                            ("pts_upstream_rate_limited_total", "rate_limited"),
                            ("pts_upstream_errors_total", "errors")):
            self.assertEqual(s(metric), {(("service", svc),): r[col] for svc, r in rows.items()},
                             metric)
        self.assertGreaterEqual(s("pts_upstream_rate_limited_total")[(("service", "trakt"),)], 1)
        self.assertGreaterEqual(s("pts_upstream_retries_total")[(("service", "trakt"),)], 1)
        self.assertGreaterEqual(s("pts_upstream_calls_total")[(("service", "plex"),)], 3)

        # A webhook run is not a sync: the last-success gauge keeps the sync's end.
        conn = self.stack.db()
        try:
            conn.execute("INSERT INTO runs(trigger, status, created_at, started_at, finished_at)"
                         " VALUES('webhook', 'ok', ?, ?, ?)", (int(last) + 50,) * 3)
            conn.commit()
        finally:
            conn.close()
        m2 = self.metrics()
        self.assertEqual(m2["pts_last_success_timestamp_seconds"]["samples"][()], last)
        self.assertEqual(m2["pts_runs_total"]["samples"][(("status", "ok"),)], 2)

    def test_households_have_a_line_per_profile(self):
        """The owner's lines keep their labels; every other profile adds its own lines with
        profile="N", within the same families (which stay contiguous)."""
        before = self.metrics()
        conn = self.stack.db()
        try:
            conn.executemany("INSERT INTO profiles(id, name, plex_user_id, created_at)"
                             " VALUES(?, ?, ?, 0)", [(2, "Kid", "22"), (3, "Gran", "33")])
            conn.commit()
        finally:
            conn.close()
        for pid in (2, 3):   # their files are made on first use
            st, body, _ = self.stack.api("GET", "/api/runs?profile=%d" % pid)
            self.assertEqual(st, 200, body)
        kid = sqlite3.connect(os.path.join(self.stack.data, "profiles", "p2.db"), timeout=10)
        try:
            kid.executemany("INSERT INTO runs(trigger, status, created_at, started_at,"
                            " finished_at, items_scanned, added_to_trakt, added_to_plex)"
                            " VALUES(?, ?, 1, 1, ?, ?, ?, ?)",
                            [("manual", "ok", 1700000000, 7, 3, 1),
                             ("schedule", "failed", 1700000100, 2, 0, 0)])
            kid.execute("UPDATE auth SET state = 'authorized', access_token = 'kid-trakt',"
                        " token_expires_at = 1800000000 WHERE service = 'trakt'")
            kid.commit()
        finally:
            kid.close()
        m = self.metrics()
        s = lambda name: m[name]["samples"]  # noqa: E731
        p2, p3 = ("profile", "2"), ("profile", "3")
        for name, fam in before.items():   # the owner's lines are as they were
            for labels, value in fam["samples"].items():
                if name not in ("pts_worker_up",) and not name.startswith("pts_upstream_"):
                    self.assertEqual(s(name)[labels], value, (name, labels))
        self.assertEqual(s("pts_runs_total")[(p2, ("status", "ok"))], 1)
        self.assertEqual(s("pts_runs_total")[(p2, ("status", "failed"))], 1)
        self.assertEqual(s("pts_runs_total")[(p3, ("status", "ok"))], 0)
        self.assertEqual(s("pts_items_scanned_total")[(p2,)], 9)
        self.assertEqual(s("pts_plays_added_total")[(p2, ("target", "trakt"))], 3)
        self.assertEqual(s("pts_plays_added_total")[(p2, ("target", "plex"))], 1)
        self.assertEqual(s("pts_last_success_timestamp_seconds")[(p2,)], 1700000000)
        self.assertEqual(s("pts_last_success_timestamp_seconds")[(p3,)], 0)
        self.assertEqual(s("pts_trakt_token_expiry_timestamp_seconds")[(p2,)], 1800000000)
        self.assertEqual(s("pts_trakt_token_expiry_timestamp_seconds")[(p3,)], 0)
        # Installation-wide families have no profile lines.
        self.assertFalse([k for k in s("pts_upstream_calls_total") if ("profile", "2") in k])
        self.assertEqual(list(s("pts_worker_up")), [()])
        # A deleted profile's lines go with it.
        st, body, _ = self.stack.api("DELETE", "/api/profiles/3", {"confirm": "Gran"})
        self.assertEqual(st, 200, body)
        self.assertNotIn((p3, ("status", "ok")), s_after(self.metrics(), "pts_runs_total"))

    def test_needs_login_when_a_password_is_set(self):
        st, body, _ = self.stack.api("PUT", "/api/settings", {"dashboard_password": "password 1"})
        self.assertEqual(st, 200, body)
        try:
            st, _, _ = self.stack.request("GET", "/api/metrics")
            self.assertEqual(st, 401)
        finally:
            conn = self.stack.db()
            try:
                conn.execute("DELETE FROM settings WHERE key = 'dashboard_password'")
                conn.commit()
            finally:
                conn.close()


if __name__ == "__main__":
    unittest.main()
