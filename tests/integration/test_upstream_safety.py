"""Upstream safety of pts-worker, through the real stack (nginx + pts-cgi + pts-worker) and the fakes.

- Redirects are never followed: a Plex library call, the Trakt device-token and refresh POSTs and
  plex.tv's calls answered with a 3xx pointing at a recorder (tests/lib/recorder.py) reach
  nothing there (no X-Plex-Token, no client_secret, refresh_token or code), are not retried,
  and the cause names the target in the run, the sign-in state and the log.
- The Plex sign-in is forgotten when plex_url moves to another server (PUT /api/settings), kept
  when only the path changes, and the next Plex job does not send it to the new server.
- Titles of multibyte characters longer than every cut (log line, progress label, Trakt and
  Plex titles, library names) leave every JSON answer valid UTF-8 (strict decoder).
- A Plex page of more tiny objects than the JSON value cap fails that run cleanly, with the
  reason; the worker stays up and the next run works.

The corpus is the default one with every title, show title and library name made long (see
long_title()); matching goes by ids, so the sync numbers do not change.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

from fakes import FAKEUP, Fakes
from recorder import Recorder
from stack import Stack, wait_for

FAKES = None
CORPUS_DIR = None
SYNC_TIMEOUT = 60
FLOW_TIMEOUT = 15
# 4-byte emoji, then 3000 two-byte characters: far longer than any cut (the log's 1024 bytes,
# progress labels' 300, Trakt titles' 512, library names' 256).
EMOJI = "\U0001F600"
LONG_MIN_BYTES = 6000


def long_title(i, title):
    """A distinct long title; the ASCII lead varies so byte cuts fall on both parities."""
    return "a" * (i % 3) + EMOJI * 3 + "\u00e9" * 3000 + " " + (title or "")


def strict(raw):
    """JSON from bytes with a strict UTF-8 decoder (raises on any invalid sequence)."""
    return json.loads(raw.decode("utf-8", errors="strict"))


def setUpModule():
    global FAKES, CORPUS_DIR
    CORPUS_DIR = tempfile.TemporaryDirectory(prefix="pts-safety-")
    path = os.path.join(CORPUS_DIR.name, "corpus.json")
    subprocess.run([sys.executable, FAKEUP, "--dump-corpus", path], check=True, timeout=60)
    with open(path) as f:
        corpus = json.load(f)
    for i, it in enumerate(corpus["plex"]["items"]):
        it["title"] = long_title(i, it.get("title"))
        if it.get("grandparentTitle"):
            it["grandparentTitle"] = long_title(i + 1, it["grandparentTitle"])
    for i, sec in enumerate(corpus["plex"]["sections"]):
        sec["title"] = long_title(i, sec.get("title"))
    for kind in ("movies", "shows"):
        for i, m in enumerate(corpus["trakt"][kind]):
            m["title"] = long_title(i, m.get("title"))
    with open(path, "w") as f:
        json.dump(corpus, f, ensure_ascii=False)
    FAKES = Fakes(corpus=path).start()


def tearDownModule():
    if FAKES is not None:
        FAKES.stop()
    if CORPUS_DIR is not None:
        CORPUS_DIR.cleanup()


class SafetyCase(unittest.TestCase):
    """One stack per class, wired to freshly reset fakes, settings PUT through the API."""

    @classmethod
    def setUpClass(cls):
        FAKES.reset()
        FAKES.post("trakt", "/_control/state", {"device_interval": 1})
        cls.stack = Stack(env=FAKES.env()).start()
        body = dict(FAKES.settings())
        body["sync_interval_hours"] = 0
        st, hdrs, raw = cls.stack.request("PUT", "/api/settings", body)
        if st != 200:
            cls.stack.stop()
            cls.stack.cleanup()
            raise RuntimeError("PUT /api/settings: %d %r" % (st, raw))

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()

    def setUp(self):
        for svc in ("plex", "plextv", "trakt", "tmdb"):
            FAKES.post(svc, "/_control/faults/reset")

    # ---- the API, every answer decoded strictly ----
    def call(self, method, path, body=None):
        st, _, raw = self.stack.request(method, path, body)
        return st, strict(raw) if raw else None

    def get(self, path):
        st, body = self.call("GET", path)
        self.assertEqual(st, 200, body)
        return body

    def post(self, path, body=None, status=202):
        st, got = self.call("POST", path, body)
        self.assertEqual(st, status, got)
        return got

    def run_row(self, run_id):
        return next(r for r in self.get("/api/runs")["runs"] if r["id"] == run_id)

    def wait_run(self, run_id, timeout=SYNC_TIMEOUT):
        wait_for(lambda: self.run_row(run_id)["status"] in ("ok", "failed", "cancelled"),
                 timeout=timeout, step=0.1, what="run %d" % run_id)
        return self.run_row(run_id)

    def wait_auth(self, service, pred, what):
        last = {}

        def check():
            last["b"] = self.get("/api/auth/" + service)
            return last["b"] if pred(last["b"]) else None
        try:
            return wait_for(check, timeout=FLOW_TIMEOUT, step=0.1, what=what)
        except AssertionError:
            raise AssertionError("%s: last answer %r" % (what, last.get("b")))

    def sign_in_plex(self):
        self.post("/api/auth/plex")
        self.wait_auth("plex", lambda b: b["state"] == "pending" and b["code"], "plex code")
        FAKES.post("plextv", "/_control/pins/link_latest")
        return self.wait_auth("plex", lambda b: b["state"] == "authorized", "plex authorized")

    def sign_in_trakt(self):
        self.post("/api/auth/trakt")
        code = self.wait_auth("trakt", lambda b: b["state"] == "pending" and b["user_code"],
                              "trakt code")["user_code"]
        FAKES.post("trakt", "/_control/device/approve", {"user_code": code})
        return self.wait_auth("trakt", lambda b: b["state"] == "authorized",
                              "trakt authorized")

    def log_text(self):
        return "\n".join(e["message"] for e in self.get("/api/log?limit=1000")["entries"])

    def plex_token(self):
        return self.stack.query("SELECT access_token FROM auth WHERE service = 'plex'")[0][
            "access_token"]


class TestRedirectsRefused(SafetyCase):
    def test_plex_library_302_fails_the_run_without_the_token(self):
        self.sign_in_plex()
        self.sign_in_trakt()
        token = self.plex_token()
        self.assertTrue(token)
        with Recorder() as rec:
            target = rec.url + "/x"
            FAKES.post("plex", "/_control/faults", {
                "redirect": {"status": 302, "location": target + "?X-Plex-Token=" + token},
                "only": ["/library/sections"]})
            FAKES.post("plex", "/_control/calls/reset")
            run = self.wait_run(self.post("/api/sync")["run_id"])
            time.sleep(0.3)
            self.assertEqual(rec.requests, [], "a redirect was followed")
        cause = "Plex answered 302: redirect to %s refused" % target
        self.assertEqual(run["status"], "failed")
        self.assertIn(cause, run["message"])
        self.assertNotIn(token, run["message"], "the target's query string is not shown")
        self.assertIn(cause, self.log_text())
        calls = FAKES.calls("plex")["calls"]
        self.assertEqual(calls.get("GET /library/sections"), 1, "a redirect is not retried")
        # With the redirect gone the same set-up syncs.
        FAKES.post("plex", "/_control/faults/reset")
        self.assertEqual(self.wait_run(self.post("/api/sync")["run_id"])["status"], "ok")

    def test_trakt_device_token_307_sends_nothing_on(self):
        with Recorder() as rec:
            target = rec.url + "/oauth/device/token"
            # A byte that is not UTF-8 (the fake sends header values as Latin-1) and a query.
            FAKES.post("trakt", "/_control/faults", {
                "redirect": {"status": 307, "location": target + "\u00e9?code=secret"},
                "only": ["POST /oauth/device/token"]})
            FAKES.post("trakt", "/_control/calls/reset")
            self.post("/api/auth/trakt")
            got = self.wait_auth("trakt", lambda b: b["state"] == "error", "trakt error")
            time.sleep(0.3)
            self.assertEqual(rec.requests, [], "the device code and secret were re-sent")
        cause = "Trakt answered 307: redirect to %s%%E9 refused" % target
        self.assertIn(cause, got.get("error") or "")
        self.assertIn(cause, self.log_text())
        self.assertNotIn("secret", got.get("error") or "")
        calls = FAKES.calls("trakt")["calls"]
        self.assertEqual(calls.get("POST /oauth/device/token"), 1,
                         "a redirect ends the polling at once")

    def test_trakt_refresh_307_sends_no_secret_and_fails_the_run(self):
        self.sign_in_plex()
        self.sign_in_trakt()
        # The token looks expired: the run must refresh it first.
        conn = self.stack.db()
        conn.execute("UPDATE auth SET token_expires_at = 1 WHERE service = 'trakt'")
        conn.commit()
        conn.close()
        with Recorder() as rec:
            target = rec.url + "/oauth/token"
            FAKES.post("trakt", "/_control/faults", {
                "redirect": {"status": 307, "location": target},
                "only": ["POST /oauth/token"]})
            FAKES.post("trakt", "/_control/calls/reset")
            run = self.wait_run(self.post("/api/sync")["run_id"])
            time.sleep(0.3)
            self.assertEqual(rec.requests, [], "client_secret / refresh_token were re-sent")
        cause = "Trakt answered 307: redirect to %s refused" % target
        self.assertEqual(run["status"], "failed")
        self.assertIn(cause, run["message"])
        self.assertEqual(FAKES.calls("trakt")["calls"].get("POST /oauth/token"), 1)

    def test_plextv_307_sends_no_token(self):
        with Recorder() as rec:
            # The PIN request: refused, the sign-in says why.
            target = rec.url + "/api/v2/pins"
            FAKES.post("plextv", "/_control/faults", {
                "redirect": {"status": 307, "location": target},
                "only": ["POST /api/v2/pins"]})
            self.post("/api/auth/plex")
            got = self.wait_auth("plex", lambda b: b["state"] == "error", "plex error")
            self.assertIn("plex.tv answered 307: redirect to %s refused" % target,
                          got.get("error") or "")
            # The account call carries the new token: it must not reach the recorder either.
            target = rec.url + "/api/v2/user"
            FAKES.post("plextv", "/_control/faults/reset")
            FAKES.post("plextv", "/_control/faults", {
                "redirect": {"status": 307, "location": target},
                "only": ["GET /api/v2/user"]})
            self.sign_in_plex()
            time.sleep(0.3)
            self.assertEqual(rec.requests, [], "a plex.tv redirect was followed")
        self.assertIn("plex.tv answered 307: redirect to %s refused" % target, self.log_text())


class TestPlexUrlChange(SafetyCase):
    def test_token_forgotten_only_for_another_server(self):
        plex = FAKES.urls["plex"]
        self.sign_in_plex()
        token = self.plex_token()
        self.assertTrue(token)
        # The same server: a trailing slash, a path, the default port spelled out (none here).
        for same in (plex + "/", plex + "/plex/"):
            st, _ = self.call("PUT", "/api/settings", {"plex_url": same})
            self.assertEqual(st, 200)
            self.assertEqual(self.get("/api/auth/plex")["state"], "authorized", same)
            self.assertEqual(self.plex_token(), token)
        # An invalid change saves nothing and forgets nothing.
        st, _ = self.call("PUT", "/api/settings", {"plex_url": "http://127.0.0.1:1/",
                                                    "sync_interval_hours": 999})
        self.assertEqual(st, 400)
        self.assertEqual(self.plex_token(), token)
        with Recorder() as rec:
            st, got = self.call("PUT", "/api/settings", {"plex_url": rec.url})
            self.assertEqual(st, 200, got)
            auth = self.get("/api/auth/plex")
            self.assertEqual(auth["state"], "none")
            self.assertIn("sign in to Plex again", auth.get("error") or "")
            self.assertIsNone(self.plex_token())
            # The next Plex job talks to the new server without the old token.
            job = self.post("/api/libraries/refresh")
            wait_for(lambda: rec.requests, timeout=20, what="a request at the new server")
            reqs = rec.requests
        self.assertTrue(job is None or isinstance(job, dict))
        for r in reqs:
            self.assertNotIn("x-plex-token", r["headers"])
            self.assertNotIn(token, r["path"])
        # Another port is another server too; the way back needs a new sign-in.
        st, _ = self.call("PUT", "/api/settings", {"plex_url": plex})
        self.assertEqual(st, 200)
        self.assertEqual(self.get("/api/auth/plex")["state"], "none")
        # Clearing the URL forgets it too (the next URL could be any server).
        self.sign_in_plex()
        st, _ = self.call("PUT", "/api/settings", {"plex_url": ""})
        self.assertEqual(st, 200)
        self.assertEqual(self.get("/api/auth/plex")["state"], "none")
        self.assertIsNone(self.plex_token())


class TestMultibyteTitles(SafetyCase):
    def test_every_answer_is_valid_utf8_after_a_sync(self):
        self.sign_in_plex()
        self.sign_in_trakt()
        self.post("/api/libraries/refresh")
        libs = wait_for(lambda: self.get("/api/libraries")["fetched_at"] and
                        self.get("/api/libraries")["libraries"], timeout=20, what="libraries")
        self.assertTrue(any("\u00e9" in lib["title"] for lib in libs))
        # Slow listings so progress rows are seen mid-run.
        FAKES.post("plex", "/_control/faults", {"latency_ms": 300,
                                                "only": ["/library/sections/"]})
        run_id = self.post("/api/sync")["run_id"]
        labels = []
        end = time.monotonic() + SYNC_TIMEOUT
        while time.monotonic() < end:
            st, _, raw = self.stack.request("GET", "/api/progress")
            self.assertEqual(st, 200)
            p = strict(raw)   # raises on a cut multibyte character
            if p.get("state") == "idle":
                break
            labels += [p.get("current_item") or "", (p.get("library") or {}).get("title") or ""]
            time.sleep(0.03)
        run = self.wait_run(run_id)
        self.assertEqual(run["status"], "ok", run)
        self.assertTrue(any("\u00e9" in s for s in labels), "no long title seen in progress")
        # The stored progress row too (sqlite3 raises on text that is not UTF-8).
        row = self.stack.query("SELECT current_item, lib_title FROM progress WHERE run_id = ?",
                               run_id)[0]
        self.assertTrue(row["current_item"])

        log = self.get("/api/log?limit=1000")["entries"]
        self.assertTrue(any("\u00e9" in e["message"] for e in log), "no title in the log")
        self.assertTrue(all(len(e["message"].encode()) < 1024 for e in log))
        self.get("/api/runs")
        changes = self.get("/api/runs/%d/changes" % run_id)["changes"]
        self.assertTrue(changes)
        self.assertTrue(any(len((c["title"] or "").encode()) > LONG_MIN_BYTES for c in changes))

        job = self.post("/api/trakt/history/refresh")
        self.assertTrue(job is None or isinstance(job, dict))
        items = wait_for(lambda: self.get("/api/trakt/history")["items"], timeout=20,
                         what="trakt history")
        self.assertTrue(any("\u00e9" in (i.get("title") or "") + (i.get("show") or "") for i in items))
        self.get("/api/status")
        self.get("/api/plex/in-progress")


class TestNotUtf8(SafetyCase):
    def test_bytes_that_are_not_utf8_are_replaced(self):
        self.sign_in_plex()
        self.sign_in_trakt()
        items = FAKES.get("plex", "/_control/state")["items"]
        # "\udcff" goes out from the fake as the single byte 0xff.
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": it["ratingKey"], "title": "bad\udcffbyte " + it["ratingKey"]}
            for it in items]})
        run = self.wait_run(self.post("/api/sync")["run_id"])
        self.assertEqual(run["status"], "ok", run)
        changes = self.get("/api/runs/%d/changes" % run["id"])["changes"]
        titles = [c["title"] for c in changes if c["type"] == "movie"]
        self.assertTrue(titles)
        self.assertTrue(all(t.startswith("bad?byte ") for t in titles), titles)
        self.assertIn("bytes that are not UTF-8 replaced", self.log_text())


class TestHugePage(SafetyCase):
    def test_page_of_tiny_objects_fails_the_run_cleanly(self):
        self.sign_in_plex()
        self.sign_in_trakt()
        FAKES.post("plex", "/_control/faults", {"fail_next": ["tiny_objects"],
                                                "only": ["/library/sections/"]})
        run = self.wait_run(self.post("/api/sync")["run_id"])
        self.assertEqual(run["status"], "failed")
        self.assertIn("more than 1000000 JSON values", run["message"])
        self.assertIn("Plex answer to GET /library/sections/", run["message"])
        health = self.get("/api/health")
        self.assertTrue(health["worker"]["alive"])
        run = self.wait_run(self.post("/api/sync")["run_id"])
        self.assertEqual(run["status"], "ok", run)


if __name__ == "__main__":
    unittest.main()
