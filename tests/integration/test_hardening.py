"""Hardening through the real stack (nginx + pts-cgi + pts-worker) against the fakes.

- Sign-out wins every race: a sync held in a long Retry-After, or a token refresh in flight,
  while the person signs out of Trakt ends cancelled with nothing written afterwards, and the
  token current at sign-out (and any pair issued after it) is revoked.
- Webhook plays from a server other than ours use only the payload's own ids.
- A flood of identical webhook scrobbles is one job; a manual sync queued behind it starts
  at once; the queue of webhook jobs is capped (503).
- Retention: runs beyond history_keep_runs are deleted with what hangs off them, except the
  ledger rows the no-duplicate guarantee needs.
"""
import collections
import json
import threading
import time
import unittest
import urllib.request
import uuid

from fakes import Fakes
from stack import Stack, wait_for

FAKES = None
RUN_TIMEOUT = 60
HOLD_S = 25          # Retry-After of the held 429: longer than the test waits for the cancel


def setUpModule():
    global FAKES
    FAKES = Fakes().start()


def tearDownModule():
    FAKES.stop()


def multipart(payload):
    b = "----PlexWebhook" + uuid.uuid4().hex[:16]
    data = json.dumps(payload).encode()
    out = (b"--" + b.encode() + b"\r\nContent-Disposition: form-data; name=\"payload\"\r\n"
           b"Content-Type: application/json\r\n\r\n" + data + b"\r\n--" + b.encode() + b"--\r\n")
    return out, "multipart/form-data; boundary=" + b


def play_key(p):
    t = p["watched_at"][:16]
    if p["type"] == "movie":
        return ("movie", p["movie"]["ids"]["trakt"], t)
    return ("episode", p["show"]["ids"]["trakt"], p["episode"]["season"],
            p["episode"]["number"], t)


def plays():
    return collections.Counter(play_key(p) for p in FAKES.history())


class HardeningCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(env=FAKES.env()).start()
        conn = cls.stack.db()
        try:
            for k, v in FAKES.settings().items():
                conn.execute("INSERT OR REPLACE INTO settings(key, value) VALUES(?, ?)", (k, v))
            conn.commit()
        finally:
            conn.close()
        req = urllib.request.Request(FAKES.urls["plex"] + "/identity", headers={
            "Accept": "application/json", "X-Plex-Token": "plex-token-1"})
        with urllib.request.urlopen(req, timeout=30) as r:
            cls.machine = json.loads(r.read())["MediaContainer"]["machineIdentifier"]

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()

    def setUp(self):
        FAKES.reset()
        self.tok = FAKES.post("trakt", "/_control/token", {})
        conn = self.stack.db()
        try:
            conn.execute("UPDATE jobs SET cancel = 1 WHERE state IN ('queued', 'running')")
            conn.commit()
        finally:
            conn.close()
        wait_for(lambda: not self.stack.query("SELECT id FROM jobs WHERE state = 'running'"),
                 timeout=RUN_TIMEOUT, what="no job running")
        conn = self.stack.db()
        try:
            conn.execute("UPDATE auth SET state = 'authorized', access_token = ?,"
                         " refresh_token = ?, token_expires_at = ?, user = 'traktuser'"
                         " WHERE service = 'trakt'",
                         (self.tok["access_token"], self.tok["refresh_token"],
                          self.tok["created_at"] + self.tok["expires_in"]))
            conn.execute("UPDATE auth SET state = 'authorized', access_token = 'plex-token-1',"
                         " user = 'plexuser' WHERE service = 'plex'")
            for t in ("changes", "batches", "progress", "rate_samples", "runs", "jobs", "log"):
                conn.execute("DELETE FROM " + t)
            conn.execute("DELETE FROM settings WHERE key IN ('dry_run', 'history_keep_runs')")
            conn.execute("DELETE FROM meta WHERE key LIKE 'checkpoint%'")
            conn.commit()
        finally:
            conn.close()

    # ---- helpers ----
    def set_setting(self, key, value):
        st, body, _ = self.stack.api("PUT", "/api/settings", {key: value})
        self.assertEqual(st, 200, body)

    def run_row(self, run_id):
        r = self.stack.query("SELECT * FROM runs WHERE id = ?", run_id)
        return r[0] if r else None

    def wait_run(self, run_id, timeout=RUN_TIMEOUT):
        def done():
            r = self.run_row(run_id)
            return r and r["status"] not in ("queued", "running") and r
        return wait_for(done, timeout=timeout, step=0.1, what="run %d" % run_id)

    def sync(self, **body):
        st, b, _ = self.stack.api("POST", "/api/sync", body or None)
        self.assertEqual(st, 202, b)
        return b["run_id"]

    def trakt_tokens(self):
        return FAKES.get("trakt", "/_control/state?keys=tokens")["tokens"]

    def log_has(self, text):
        return any(text in r["message"] for r in self.stack.query("SELECT message FROM log"))


class TestSignOutRace(HardeningCase):
    def assert_signed_out(self):
        row = self.stack.query("SELECT * FROM auth WHERE service = 'trakt'")[0]
        self.assertEqual(row["state"], "none", row)
        self.assertIsNone(row["access_token"])
        self.assertIsNone(row["refresh_token"])
        st, body, _ = self.stack.api("GET", "/api/auth/trakt")
        self.assertEqual((st, body["state"]), (200, "none"))

    def test_sign_out_during_held_429_then_401(self):
        before = plays()
        old = self.tok["access_token"]
        # The first history POST is held in a long Retry-After.
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /sync/history"],
                                                 "fail_next": [429],
                                                 "retry_after_s": HOLD_S})
        run_id = self.sync(full=True)
        wait_for(lambda: self.stack.query("SELECT wait_until FROM progress WHERE run_id = ?"
                                          " AND wait_until IS NOT NULL", run_id),
                 timeout=RUN_TIMEOUT, step=0.1, what="the sync waiting on the 429")
        # When the wait ends the token is refused (401): the old code refreshed and went on.
        FAKES.post("trakt", "/_control/expire_token", {"access_token": old})
        FAKES.post("trakt", "/_control/calls/reset")
        t0 = time.time()
        st, body, _ = self.stack.api("DELETE", "/api/auth/trakt")
        self.assertEqual((st, body["state"]), (200, "none"), body)

        run = self.wait_run(run_id, timeout=HOLD_S - 5)
        self.assertEqual(run["status"], "cancelled", run)
        self.assertLess(time.time() - t0, HOLD_S - 5, "the wait was not cut short")
        # The revocation job ran and the sign-in stayed gone.
        wait_for(lambda: self.trakt_tokens()[old]["revoked"], timeout=RUN_TIMEOUT,
                 what="the token current at sign-out revoked")
        time.sleep(1.5)
        self.assert_signed_out()
        calls = FAKES.calls("trakt")["calls"]
        self.assertNotIn("POST /oauth/token", calls, "no refresh after the sign-out")
        self.assertNotIn("POST /sync/history", calls, "no history write after the sign-out")
        self.assertEqual(plays(), before)
        self.assertEqual(len(self.trakt_tokens()), 1, "no new token was issued")
        self.assertEqual(self.stack.query("SELECT COUNT(*) AS n FROM changes WHERE run_id = ?"
                                          " AND result = 'done'", run_id)[0]["n"], 0)

    def test_sign_out_while_refresh_in_flight(self):
        before = plays()
        old = self.tok["access_token"]
        FAKES.post("trakt", "/_control/expire_token", {"access_token": old})
        # The refresh answer takes 4 s: the sign-out lands while it is on the wire.
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /oauth/token"],
                                                 "latency_ms": 4000})
        run_id = self.sync(full=True)
        wait_for(lambda: FAKES.calls("trakt")["calls"].get("POST /oauth/token"),
                 timeout=RUN_TIMEOUT, step=0.05, what="the refresh sent")
        st, body, _ = self.stack.api("DELETE", "/api/auth/trakt")
        self.assertEqual((st, body["state"]), (200, "none"), body)
        run = self.wait_run(run_id)
        self.assertEqual(run["status"], "cancelled", run)
        time.sleep(1.5)
        self.assert_signed_out()
        toks = self.trakt_tokens()
        issued = [a for a in toks if a != old]
        self.assertEqual(len(issued), 1, toks)
        self.assertTrue(toks[issued[0]]["revoked"], "the pair issued after sign-out is revoked")
        self.assertFalse(toks[issued[0]]["refresh_live"])
        self.assertTrue(self.log_has("signed out while new tokens were being issued"))
        self.assertEqual(plays(), before)

    def test_sign_out_cancels_queued_jobs(self):
        # A sync queued behind a running one (held in its wait) ends cancelled at sign-out.
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /sync/history"],
                                                 "fail_next": [429],
                                                 "retry_after_s": HOLD_S})
        run_id = self.sync(full=True)
        wait_for(lambda: self.stack.query("SELECT wait_until FROM progress WHERE run_id = ?"
                                          " AND wait_until IS NOT NULL", run_id),
                 timeout=RUN_TIMEOUT, step=0.1, what="the sync waiting")
        st, body, _ = self.stack.api("POST", "/api/trakt/history/refresh")
        self.assertEqual(st, 202, body)
        st, body, _ = self.stack.api("DELETE", "/api/auth/plex")
        self.assertEqual(st, 200, body)
        self.assertEqual(self.wait_run(run_id)["status"], "cancelled")
        # Plex's sign-out ends the sync (it uses both) but not Trakt's history refresh.
        refresh = self.stack.query("SELECT state FROM jobs WHERE kind ="
                                   " 'trakt_history_refresh'")
        self.assertNotEqual(refresh[0]["state"], "cancelled")
        self.assertEqual(self.stack.query("SELECT state FROM auth WHERE service = 'plex'")[0]
                         ["state"], "none")


if __name__ == "__main__":
    unittest.main()
