"""The sync engine through the real pts-worker against the fakes (default corpus).

Expected numbers come from the corpus table in tests/fakes/README.md: a Plex→Trakt sync of all
libraries adds 17 plays (7 movies, 10 episodes), 3 items are not found on Trakt, 5 are
unmatched; Trakt→Plex marks the Trakt-only items 57, 105, 114, 202, 327 and the 4K copy 302.
"""
import os
import random
import sys
import time
import unittest

from fakes import Fakes
from stack import wait_for
from syncenv import SyncEnv

FAKES = None
PLEX_ITEMS = 49          # movie + episode items in the video libraries of the corpus
ADDED = 17
NOT_FOUND = 3
UNMATCHED = 5
TRAKT_ONLY = {"57", "105", "114", "202", "327", "302"}
# Fast pacing for tests that make many writes (the fake's 1 POST/s check is relaxed too).
FAST = {"PTS_TRAKT_POST_INTERVAL_MS": "0", "PTS_TRAKT_BATCH_SIZE": "3"}


def setUpModule():
    global FAKES
    FAKES = Fakes().start()


def tearDownModule():
    FAKES.stop()


def plays():
    return FAKES.plays()


class SyncCase(unittest.TestCase):
    def setUp(self):
        FAKES.reset()
        self.envs = []

    def tearDown(self):
        for s in self.envs:
            s.close()

    def env(self, **kw):
        s = SyncEnv(FAKES, **kw)
        self.envs.append(s)
        return s

    def calls(self):
        return {svc: FAKES.calls(svc)["total"] for svc in ("plex", "trakt")}

    def reset_calls(self):
        for svc in ("plex", "trakt", "plextv", "tmdb"):
            FAKES.post(svc, "/_control/calls/reset")

    def sync_ok(self, s, *args, env=None):
        r = s.once(*args, env=env)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        return s.run_row()


class TestPlexToTrakt(SyncCase):
    def test_first_sync_then_resync(self):
        s = self.env()
        before = plays()
        run = self.sync_ok(s)
        after = plays()
        added = after - before
        self.assertEqual(sum(added.values()), ADDED)
        self.assertEqual(run["added_to_trakt"], ADDED)
        self.assertEqual(run["not_found"], NOT_FOUND)
        self.assertEqual(run["unmatched"], UNMATCHED)
        self.assertEqual(run["status"], "ok")
        # Pre-count: the total known before the first item equals the items scanned.
        self.assertEqual(run["items_total"], PLEX_ITEMS)
        self.assertEqual(run["items_scanned"], PLEX_ITEMS)
        # No duplicate play anywhere among the added ones.
        self.assertTrue(all(n == 1 for n in added.values()), added)
        for k in added:
            self.assertEqual(before[k], 0, "a play that was already there was added again")
        # Specials and the episode of a legacy-agent show were matched.
        self.assertIn(("episode", 0, 0, 0, ""), [(k[0], 0, 0, 0, "") for k in added])
        specials = [k for k in added if k[0] == "episode" and k[2] == 0]
        self.assertEqual(len(specials), 2, "S00 specials of The 100 and Breaking Bad")
        changes = s.rows("SELECT * FROM changes WHERE run_id = ?", run["id"])
        self.assertEqual(len([c for c in changes if c["result"] == "done"]), ADDED)
        self.assertEqual(len([c for c in changes if c["result"] == "not_found"]), NOT_FOUND)

        # Resync: nothing added, and at most 5 upstream calls.
        self.reset_calls()
        run2 = self.sync_ok(s)
        self.assertEqual(plays(), after)
        self.assertEqual(run2["added_to_trakt"], 0)
        total = sum(self.calls().values())
        self.assertLessEqual(total, 5, self.calls())
        # Nothing chosen in Settings: the last run's libraries are counted, no sections call.
        self.assertNotIn("GET /library/sections", FAKES.calls("plex")["calls"])

        # --full forces the heavy reads and still adds nothing.
        run3 = self.sync_ok(s, "--full")
        self.assertEqual(plays(), after)
        self.assertEqual(run3["items_scanned"], PLEX_ITEMS)
        self.assertEqual(run3["added_to_trakt"], 0)

    def test_new_plex_view_after_a_sync_is_picked_up(self):
        s = self.env()
        self.sync_ok(s)
        before = plays()
        now = int(time.time())
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "55", "viewCount": 1, "lastViewedAt": now}]})
        run = self.sync_ok(s)
        added = plays() - before
        self.assertEqual(sum(added.values()), 1, added)
        self.assertEqual(run["added_to_trakt"], 1)
        self.assertEqual(run["items_scanned"], PLEX_ITEMS, "a change means a full read")
        after = plays()
        self.sync_ok(s)
        self.assertEqual(plays(), after, "and the next resync adds nothing")

    def test_watched_at_is_plex_last_viewed_in_utc(self):
        s = self.env()
        self.sync_ok(s)
        item = FAKES.get("plex", "/_control/state?ratingKeys=56")["items"][0]
        want = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(item["lastViewedAt"]))
        got = [p["watched_at"] for p in FAKES.history() if p["type"] == "movie" and
               p["movie"]["ids"].get("imdb") == "tt0807840"]
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0].startswith(want), (got, want))

    def test_same_movie_in_two_libraries_is_one_play(self):
        s = self.env()
        self.sync_ok(s)
        dk = [p for p in FAKES.history() if p["type"] == "movie" and
              p["movie"]["ids"].get("imdb") == "tt0468569"]
        self.assertEqual(len(dk), 1)
        # The most recent of the two views is the one sent.
        items = FAKES.get("plex", "/_control/state?ratingKeys=102,301")["items"]
        latest = max(i["lastViewedAt"] for i in items)
        self.assertTrue(dk[0]["watched_at"].startswith(
            time.strftime("%Y-%m-%dT%H:%M", time.gmtime(latest))))

    def test_timezones_send_the_same_instants(self):
        seen = {}
        for tz in ("UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"):
            FAKES.reset()
            s = self.env()
            before = plays()
            self.sync_ok(s, env={"TZ": tz})
            seen[tz] = sorted(plays() - before)
        ref = seen["UTC"]
        self.assertEqual(len(ref), ADDED)
        for tz, got in seen.items():
            self.assertEqual(got, ref, tz)

    def test_dry_run_writes_nothing(self):
        s = self.env(settings={"sync_direction": "both"})
        before = plays()
        run = self.sync_ok(s, "--dry-run")
        self.assertEqual(plays(), before)
        self.assertEqual(FAKES.get("plex", "/_control/scrobbles")["scrobbles"], [])
        self.assertEqual(FAKES.calls("trakt")["calls"].get("POST /sync/history", 0), 0)
        self.assertEqual(run["dry_run"], 1)
        planned = s.rows("SELECT * FROM changes WHERE run_id = ?", run["id"])
        self.assertTrue(planned)
        self.assertTrue(all(c["result"] == "planned" for c in planned))
        self.assertEqual(len([c for c in planned if c["action"] == "add_play_trakt"]),
                         ADDED + NOT_FOUND)
        # A real run afterwards still does everything (the dry run left no checkpoint).
        run = self.sync_ok(s)
        self.assertEqual(run["added_to_trakt"], ADDED)

    def test_nothing_selected_means_all_video_libraries(self):
        s = self.env()
        s.exec("INSERT INTO libraries(key, title, type, count, selected) VALUES"
               " ('3', '4K Movies', 'movie', 2, 1)")
        run = self.sync_ok(s)
        self.assertEqual(run["items_total"], 2)
        self.assertEqual(run["items_scanned"], 2)


class TestOtherDirections(SyncCase):
    def test_trakt_to_plex_marks_trakt_only_items(self):
        s = self.env(settings={"sync_direction": "trakt_to_plex"})
        before = plays()
        run = self.sync_ok(s)
        self.assertEqual(plays(), before, "trakt_to_plex never writes to Trakt")
        marked = set(FAKES.get("plex", "/_control/scrobbles")["scrobbles"])
        self.assertEqual(marked, TRAKT_ONLY)
        self.assertEqual(run["added_to_plex"], len(TRAKT_ONLY))
        # Resync: nothing more to mark.
        FAKES.post("plex", "/_control/scrobbles/reset")
        self.sync_ok(s)
        self.assertEqual(FAKES.get("plex", "/_control/scrobbles")["scrobbles"], [])

    def test_both_directions_then_stable(self):
        s = self.env(settings={"sync_direction": "both"})
        before = plays()
        run = self.sync_ok(s)
        self.assertEqual(sum((plays() - before).values()), ADDED)
        self.assertEqual(set(FAKES.get("plex", "/_control/scrobbles")["scrobbles"]), TRAKT_ONLY)
        self.assertEqual(run["added_to_trakt"], ADDED)
        self.assertEqual(run["added_to_plex"], len(TRAKT_ONLY))
        after = plays()
        FAKES.post("plex", "/_control/scrobbles/reset")
        for _ in range(2):
            run = self.sync_ok(s)
            self.assertEqual(plays(), after)
            self.assertEqual(FAKES.get("plex", "/_control/scrobbles")["scrobbles"], [])


class TestFaults(SyncCase):
    def baseline(self):
        s = self.env()
        before = plays()
        self.sync_ok(s, env=FAST)
        base = plays() - before
        FAKES.reset()
        return base

    def test_lost_answer_is_checked_not_resent(self):
        base = self.baseline()
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /sync/history"],
                                                 "fail_next": ["lost", 503, "lost"]})
        s = self.env()
        before = plays()
        run = self.sync_ok(s, env=FAST)
        self.assertEqual(plays() - before, base)
        self.assertEqual(run["added_to_trakt"], ADDED)
        msgs = [r["message"] for r in s.rows("SELECT message FROM log")]
        self.assertTrue(any("checked against Trakt's history" in m for m in msgs), msgs)

    def test_random_faults_complete_without_duplicates(self):
        base = self.baseline()
        FAKES.post("trakt", "/_control/faults", {"rate_5xx": 0.1, "rate_429": 0.1,
                                                 "lost_answer_rate": 0.2, "seed": 7})
        FAKES.post("plex", "/_control/faults", {"rate_5xx": 0.1, "rate_429": 0.1, "seed": 8})
        s = self.env()
        before = plays()
        run = self.sync_ok(s, env=FAST)
        self.assertEqual(run["status"], "ok")
        got = plays() - before
        self.assertTrue(all(n == 1 for n in got.values()), got)
        self.assertEqual(got, base, "missing %s, extra %s; run %s" % (
            base - got, got - base, run))

    def test_sigkill_at_random_points(self):
        base = self.baseline()
        rnd = random.Random(int(os.environ.get("PTS_TEST_SEED", "1234")))
        FAKES.post("trakt", "/_control/state", {"enforce_post_rate": False})
        slow = dict(FAST, PTS_TRAKT_BATCH_SIZE="2")
        for i in range(10):
            FAKES.reset()
            FAKES.post("trakt", "/_control/state", {"enforce_post_rate": False})
            FAKES.post("trakt", "/_control/faults", {"latency_ms": 40})
            FAKES.post("plex", "/_control/faults", {"latency_ms": 20})
            s = self.env()
            before = plays()
            run_id = s.queue_sync()
            s.start_daemon(env=slow)
            time.sleep(rnd.uniform(0.2, 2.5))
            s.stop_daemon(kill=True)
            s.start_daemon(env=slow)
            wait_for(lambda: s.run_row(run_id)["status"] in ("ok", "failed", "cancelled"),
                     timeout=120, step=0.2, what="run %d finishes after a crash" % i)
            s.stop_daemon()
            self.assertEqual(s.run_row(run_id)["status"], "ok")
            got = plays() - before
            self.assertEqual(got, base, "kill %d: no duplicate and no missing play" % i)
            s.close()
            self.envs.remove(s)


class TestStop(SyncCase):
    def test_stop_takes_effect_within_a_second(self):
        FAKES.post("plex", "/_control/faults", {"latency_ms": 400})
        s = self.env()
        run_id = s.queue_sync()
        s.start_daemon()
        wait_for(lambda: (s.rows("SELECT phase FROM progress WHERE run_id = ?", run_id) or
                          [{"phase": ""}])[0]["phase"] in ("counting", "scanning"),
                 timeout=30, what="sync under way")
        t0 = time.monotonic()
        s.exec("UPDATE jobs SET cancel = 1 WHERE run_id = ?", run_id)
        wait_for(lambda: s.run_row(run_id)["status"] == "cancelled", timeout=10, step=0.02,
                 what="cancelled")
        took = time.monotonic() - t0
        print("# stop took %.2fs" % took)
        self.assertLess(took, 1.5)
        s.stop_daemon()

    def test_sigterm_mid_sync_resumes_on_restart(self):
        FAKES.post("plex", "/_control/faults", {"latency_ms": 300})
        s = self.env()
        before = plays()
        run_id = s.queue_sync()
        s.start_daemon()
        wait_for(lambda: s.run_row(run_id)["status"] == "running", timeout=30, what="running")
        time.sleep(0.5)
        s.stop_daemon()
        self.assertEqual(s.run_row(run_id)["status"], "queued")
        FAKES.post("plex", "/_control/faults/reset")
        s.start_daemon()
        wait_for(lambda: s.run_row(run_id)["status"] == "ok", timeout=60, what="resumed run")
        s.stop_daemon()
        self.assertEqual(sum((plays() - before).values()), ADDED)


class TestAuthProblems(SyncCase):
    def test_not_authorized_fails_clearly(self):
        s = self.env(authorize=False)
        r = s.once()
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(s.run_row()["status"], "failed")
        msgs = " ".join(r["message"] for r in s.rows("SELECT message FROM log"))
        self.assertIn("Settings", msgs)
        # The run says why it failed, for the Sync History tab.
        self.assertIn("Settings", s.run_row()["message"])


if __name__ == "__main__":
    unittest.main()
