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
import time
import unittest

from fakes import Fakes, play_key
from stack import wait_for
from syncenv import FakesStackCase, SyncEnv, clear_sql, sign_in_sql
from webhooks import plex_event, post_webhook

FAKES = None
RUN_TIMEOUT = 60
HOLD_S = 25          # Retry-After of the held 429: longer than the test waits for the cancel


def setUpModule():
    global FAKES
    FAKES = HardeningCase.fakes = Fakes().start()


def tearDownModule():
    FAKES.stop()


def plays():
    return FAKES.plays()


class HardeningCase(FakesStackCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.machine = FAKES.machine_id()

    def setUp(self):
        FAKES.reset()
        self.tok = FAKES.post("trakt", "/_control/token", {})
        # Queued jobs never start; running ones stop at their next step.
        self.stack.exec("UPDATE jobs SET state = 'cancelled' WHERE state = 'queued'",
                        "UPDATE jobs SET cancel = 1 WHERE state = 'running'")
        wait_for(lambda: not self.stack.query("SELECT id FROM jobs WHERE state = 'running'"),
                 timeout=RUN_TIMEOUT, what="no job running")
        self.stack.exec(*sign_in_sql(self.tok),
                        *clear_sql("changes", "batches", "progress", "rate_samples", "runs",
                                   "jobs", "log"),
                        "DELETE FROM settings WHERE key IN ('dry_run', 'history_keep_runs')",
                        "DELETE FROM meta WHERE key LIKE 'checkpoint%'")

    # ---- helpers ----
    def set_setting(self, key, value):
        st, body, _ = self.stack.api("PUT", "/api/settings", {key: value})
        self.assertEqual(st, 200, body)

    def run_row(self, run_id):
        r = self.stack.query("SELECT * FROM runs WHERE id = ?", run_id)
        return r[0] if r else None

    def wait_run(self, run_id, timeout=RUN_TIMEOUT):
        return self.stack.wait_run(run_id, timeout=timeout)

    def sync(self, **body):
        st, b, _ = self.stack.api("POST", "/api/sync", body or None)
        self.assertEqual(st, 202, b)
        return b["run_id"]

    def sync_held_in_429(self, what):
        """A full sync whose first history POST is held in a long Retry-After; its run id once
        it waits."""
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /sync/history"],
                                                 "fail_next": [429],
                                                 "retry_after_s": HOLD_S})
        run_id = self.sync(full=True)
        wait_for(lambda: self.stack.query("SELECT wait_until FROM progress WHERE run_id = ?"
                                          " AND wait_until IS NOT NULL", run_id),
                 timeout=RUN_TIMEOUT, step=0.1, what=what)
        return run_id

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
        run_id = self.sync_held_in_429("the sync waiting on the 429")
        # When the wait ends the token is refused (401): the old code refreshed and went on.
        FAKES.post("trakt", "/_control/expire_token", {"access_token": old})
        FAKES.post("trakt", "/_control/calls/reset")
        # A Trakt job queued behind the sync (same lane).
        st, queued, _ = self.stack.api("POST", "/api/trakt/history/refresh")
        self.assertEqual(st, 202, queued)
        t0 = time.time()
        st, body, _ = self.stack.api("DELETE", "/api/auth/trakt")
        self.assertEqual((st, body["state"]), (200, "none"), body)
        self.assertEqual(self.stack.query("SELECT state FROM jobs WHERE id = ?",
                                          queued["job_id"])[0]["state"], "cancelled")

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
        run_id = self.sync_held_in_429("the sync waiting")
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


BB_SHOW_GUID = "plex://show/5d7768000000000000244014"   # Breaking Bad, ratingKey 300 here
FOREIGN = "f00d" * 10                                 # another person's server


class WebhookCase(HardeningCase):
    def setUp(self):
        super().setUp()
        st, body, _ = self.stack.api("GET", "/api/webhooks/plex")
        self.assertEqual(st, 200, body)
        self.url = body["url_path"]

    def hook(self, meta, server=None):
        return post_webhook(self.stack, self.url, plex_event(meta, server or self.machine))

    def scrobbled(self, meta, server=None):
        st, body, _ = self.hook(meta, server)
        self.assertEqual(st, 202, body)
        return self.wait_run(body["run_id"])


def bb_s01e05(when, grandparent_rk="22", guid_list=True):
    """Breaking Bad S01E05 as another server reports it: its keys are not ours."""
    meta = {"librarySectionType": "show", "ratingKey": "9905", "type": "episode",
            "guid": "plex://episode/5d77680000000000002707ff",
            "grandparentGuid": BB_SHOW_GUID, "grandparentRatingKey": grandparent_rk,
            "grandparentTitle": "Breaking Bad", "parentIndex": 1, "index": 5,
            "title": "Gray Matter", "lastViewedAt": when}
    if guid_list:
        meta["Guid"] = [{"id": "tvdb://349337"}, {"id": "tmdb://62190"}]
    return meta


def movie(rk, when, imdb=None):
    m = {"librarySectionType": "movie", "ratingKey": str(rk), "type": "movie",
         "guid": "plex://movie/5d7768%018x" % rk, "title": "Movie %s" % rk, "year": 2001,
         "lastViewedAt": when}
    if imdb:
        m["Guid"] = [{"id": "imdb://" + imdb}]
    return m


class TestForeignServer(WebhookCase):
    def added_episodes(self, before):
        new = [p for p in FAKES.history() if play_key(p) not in before]
        return [(p["show"]["title"], p["episode"]["season"], p["episode"]["number"])
                for p in new if p["type"] == "episode"], new

    def test_foreign_episode_uses_payload_ids_only(self):
        before = plays()
        FAKES.post("plex", "/_control/calls/reset")
        run = self.scrobbled(bb_s01e05(int(time.time()) - 30), server=FOREIGN)
        self.assertEqual((run["status"], run["added_to_trakt"]), ("ok", 1), run)
        eps, new = self.added_episodes(before)
        self.assertEqual(eps, [("Breaking Bad", 1, 5)], new)
        calls = FAKES.calls("plex")["calls"]
        self.assertNotIn("GET /library/metadata/22", calls, "a foreign key asked of our server")
        self.assertTrue(self.log_has("another Plex server"))

    def test_foreign_item_without_ids_is_ignored(self):
        before = plays()
        FAKES.post("plex", "/_control/calls/reset")
        # Our ratingKey 102 is The Dark Knight: a foreign 102 without a Guid array is not it.
        run = self.scrobbled(movie(102, int(time.time()) - 30), server=FOREIGN)
        self.assertEqual((run["status"], run["added_to_trakt"], run["unmatched"]),
                         ("ok", 0, 1), run)
        run = self.scrobbled(bb_s01e05(int(time.time()) - 30, guid_list=False), server=FOREIGN)
        self.assertEqual((run["status"], run["added_to_trakt"], run["unmatched"]),
                         ("ok", 0, 1), run)
        self.assertEqual(plays(), before)
        calls = FAKES.calls("plex")["calls"]
        self.assertFalse([c for c in calls if c.startswith("GET /library/metadata")], calls)
        self.assertTrue(self.log_has("payload of another server's play"))

    def test_our_server_key_with_another_guid_is_not_mapped(self):
        before = plays()
        FAKES.post("plex", "/_control/calls/reset")
        # On our server, but our item 22 is The 100, not the payload's Breaking Bad.
        run = self.scrobbled(bb_s01e05(int(time.time()) - 30))
        self.assertEqual((run["status"], run["added_to_trakt"]), ("ok", 1), run)
        eps, new = self.added_episodes(before)
        self.assertEqual(eps, [("Breaking Bad", 1, 5)], new)
        self.assertEqual(FAKES.calls("plex")["calls"].get("GET /library/metadata/22"), 1)
        self.assertTrue(self.log_has("its guid differs"))


class TestWebhookFlood(WebhookCase):
    def test_flood_merges_and_sync_starts_promptly(self):
        before = plays()
        when = int(time.time()) - 20
        answers = [self.hook(movie(102, when, imdb="tt0468569")) for _ in range(60)]
        self.assertTrue(all(st == 202 for st, _, _ in answers), answers[:3])
        runs = {b["run_id"] for _, b, _ in answers}
        self.assertEqual(len(runs), 1, "60 identical scrobbles are one run")
        self.assertEqual(sum(1 for _, b, _ in answers if b.get("merged")), 59)
        jobs = self.stack.query("SELECT id FROM jobs WHERE kind = 'webhook_scrobble'")
        self.assertEqual(len(jobs), 1)
        t0 = time.time()
        sync = self.sync(full=True)
        wait_for(lambda: self.run_row(sync)["status"] != "queued", timeout=10, step=0.05,
                 what="the manual sync started")
        self.assertLess(time.time() - t0, 10)
        self.assertEqual(self.wait_run(sync)["status"], "ok")
        self.wait_run(runs.pop())
        minute = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(when))
        dk = [k for k, n in (plays() - before).items() if k[0] == "movie" and k[-1] == minute]
        self.assertEqual(len(dk), 1)
        self.assertEqual((plays() - before)[dk[0]], 1, "exactly one play of the flood")

    def test_queue_cap_answers_busy(self):
        # The first play is held in a long 429 wait, so the rest stay queued.
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /sync/history"],
                                                 "fail_next": [429],
                                                 "retry_after_s": HOLD_S})
        when = int(time.time()) - 20
        st, first, _ = self.hook(movie(8000, when, imdb="tt0468569"))
        self.assertEqual(st, 202, first)
        wait_for(lambda: self.stack.query("SELECT 1 FROM progress WHERE run_id = ? AND"
                                          " wait_until IS NOT NULL", first["run_id"]),
                 timeout=RUN_TIMEOUT, step=0.1, what="the first play waiting")
        for i in range(50):
            st, body, _ = self.hook(movie(8001 + i, when, imdb="tt%07d" % (100 + i)))
            self.assertEqual(st, 202, (i, body))
        st, body, hdrs = self.hook(movie(8100, when, imdb="tt0000999"))
        self.assertEqual((st, body["error"]["code"]), (503, "busy"), body)
        self.assertEqual(hdrs.get("retry-after"), "60")
        queued = self.stack.query("SELECT COUNT(*) AS n FROM jobs WHERE kind ="
                                  " 'webhook_scrobble' AND state = 'queued'")[0]["n"]
        self.assertEqual(queued, 50)
        # pts-cgi logs to stderr (the stack's log file), not the log table.
        self.assertIn("plays are already waiting", self.stack.read_log())
        # A manual sync still goes first once the lane is free.
        self.stack.exec(("UPDATE jobs SET cancel = 1 WHERE id = ?", first["job_id"]))
        sync = self.sync(dry_run=True)
        self.assertEqual(self.wait_run(sync)["status"], "ok")
        left = self.stack.query("SELECT COUNT(*) AS n FROM jobs WHERE kind ="
                                " 'webhook_scrobble' AND state = 'queued'")[0]["n"]
        self.assertGreater(left, 40, "the sync ran before the queued webhook plays")


class TestRetention(WebhookCase):
    def test_old_runs_go_ledger_stays(self):
        st, body, _ = self.stack.api("PUT", "/api/settings", {"history_keep_runs": 4})
        self.assertEqual(st, 400, body)
        self.assertIn("history_keep_runs", body["error"]["fields"])
        self.set_setting("history_keep_runs", 5)
        conn = self.stack.db()
        try:
            old = int(time.time()) - 8 * 86400
            conn.execute("INSERT INTO jobs(kind, state, created_at, finished_at) VALUES"
                         " ('libraries_refresh', 'done', ?, ?)", (old, old))
            conn.execute("INSERT INTO jobs(kind, state, created_at, finished_at) VALUES"
                         " ('libraries_refresh', 'done', ?, ?)", (int(time.time()),
                                                                  int(time.time())))
            conn.commit()
        finally:
            conn.close()
        before = plays()
        when = int(time.time()) - 40
        first = self.scrobbled(movie(102, when, imdb="tt0468569"))
        self.assertEqual(first["added_to_trakt"], 1, first)
        self.set_setting("dry_run", True)
        ids = [first["id"]]
        for i in range(6):
            run = self.scrobbled(movie(7001 + i, when, imdb="tt%07d" % (500 + i)))
            self.assertEqual(run["dry_run"], 1)
            ids.append(run["id"])
        gone, kept = ids[:2], ids[2:]
        left = [r["id"] for r in self.stack.query("SELECT id FROM runs ORDER BY id")]
        self.assertEqual(left, kept)
        st, body, _ = self.stack.api("GET", "/api/runs")
        self.assertEqual([r["id"] for r in body["runs"]], kept[::-1])
        for rid in gone:
            st, body, _ = self.stack.api("GET", "/api/runs/%d/changes" % rid)
            self.assertEqual((st, body["error"]["code"]), (404, "not_found"), rid)
            for table in ("log", "jobs", "progress", "rate_samples"):
                n = self.stack.query("SELECT COUNT(*) AS n FROM %s WHERE run_id = ?" % table,
                                     rid)[0]["n"]
                self.assertEqual(n, 0, (table, rid))
        st, body, _ = self.stack.api("GET", "/api/runs/%d/changes" % kept[0])
        self.assertEqual(st, 200)
        self.assertEqual([c["result"] for c in body["changes"]], ["planned"])
        # The dry run's planned change went; the play really sent stays in the ledger.
        self.assertEqual(self.stack.query("SELECT COUNT(*) AS n FROM changes WHERE run_id = ?",
                                          gone[1])[0]["n"], 0)
        ledger = self.stack.query("SELECT result FROM changes WHERE run_id = ?", gone[0])
        self.assertEqual([c["result"] for c in ledger], ["done"])
        # Old run-less jobs went, recent ones stay.
        free = self.stack.query("SELECT created_at FROM jobs WHERE run_id IS NULL AND kind <>"
                                " 'scrobble'")   # the live scrobbler's job keeps going
        self.assertEqual(len(free), 1, free)
        self.assertTrue(self.log_has("retention: deleted"))
        # The same play again (its run is gone): the kept ledger row still blocks it.
        self.set_setting("dry_run", False)
        again = self.scrobbled(movie(102, when, imdb="tt0468569"))
        self.assertEqual((again["status"], again["added_to_trakt"]), ("ok", 0), again)
        self.assertIn("already", again["message"])
        self.assertEqual(sum((plays() - before).values()), 1)

class TestDryRunListCap(unittest.TestCase):
    """A dry run lists at most 10000 planned changes (engine.c ENGINE_PLANNED_MAX)."""
    PLANNED_MAX = 10000

    def test_large_dry_run_counts_all_lists_the_cap(self):
        spec = "movies=11500,shows=1,episodes=1,watched=1,on_trakt=0,unknown=0,seed=7"
        with Fakes(generate=spec) as f:
            env = SyncEnv(f)
            try:
                r = env.once("--dry-run", timeout=300)
                run = env.run_row()
                self.assertEqual(run["status"], "ok", r.stderr[-2000:])
                self.assertGreater(run["added_to_trakt"], self.PLANNED_MAX, run)
                listed = env.rows("SELECT COUNT(*) AS n FROM changes WHERE run_id = ?",
                                  run["id"])[0]["n"]
                self.assertEqual(listed, self.PLANNED_MAX)
                self.assertTrue(env.rows("SELECT 1 FROM log WHERE message LIKE"
                                         " '%planned changes are listed%'"))
            finally:
                env.close()

if __name__ == "__main__":
    unittest.main()
