"""Undo of a run and the duplicate cleaner, through the real stack against the fakes.

Undo (POST /api/runs/{id}/undo): a Plex->Trakt sync of the default corpus adds 17 plays
(tests/fakes/README.md); the undo must leave Trakt's history exactly as it was before the
sync, play by play (same history ids), while plays another tool posts after the sync - the
same item at another time, and the same item in the same minute - stay. A second undo is
refused, the ledger lets a later sync add the plays again, and the API's errors (404, 409 with
a reason) are checked.

Duplicate cleaner (/api/trakt/duplicates): duplicates are seeded into the fake's history
through its control API (corpus references); the scan finds exactly the groups, the removal
takes only the extras (the oldest id of each group stays, even when the oldest was removed by
someone else after the scan), a rescan finds none, and everything is idempotent.
"""
import json
import time
import unittest
import urllib.error
import urllib.request

from fakes import Fakes
from stack import ApiChecks, Stack, wait_for
from syncenv import sign_in_sql

FAKES = None
ADDED = 17
SYNC_TIMEOUT = 60
JOB_TIMEOUT = 30
# Elephants Dream: not on Trakt, watched in Plex -> the sync adds it (corpus table).
ELEPHANTS_IMDB = "tt0807840"


def setUpModule():
    global FAKES
    FAKES = Fakes().start()


def tearDownModule():
    FAKES.stop()


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def parse_iso(s):
    return int(time.mktime(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone)


def history():
    return FAKES.history()


def ids_of(plays):
    return sorted(p["id"] for p in plays)


def ref(p):
    """A rendered play as a corpus reference (for /_control/state {"history": [...]})."""
    r = {"watched_at": p["watched_at"], "action": p.get("action", "watch"), "type": p["type"]}
    if p["type"] == "movie":
        r["movie"] = {"ids": {"trakt": p["movie"]["ids"]["trakt"]}}
    else:
        r["show"] = {"ids": {"trakt": p["show"]["ids"]["trakt"]}}
        r["episode"] = {"season": p["episode"]["season"], "number": p["episode"]["number"]}
    return r


class TraktUser:
    """Another tool writing to the same Trakt account (its own token)."""

    def __init__(self):
        self.token = FAKES.post("trakt", "/_control/token", {})["access_token"]

    def post(self, path, body):
        req = urllib.request.Request(FAKES.urls["trakt"] + path, data=json.dumps(body).encode(),
                                     method="POST", headers={
                                         "Content-Type": "application/json",
                                         "trakt-api-key": FAKES.urls["trakt_client_id"],
                                         "trakt-api-version": "2",
                                         "Authorization": "Bearer " + self.token})
        for _ in range(10):
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code != 429:
                    raise
                time.sleep(1.1)
        raise AssertionError("rate limited")


class StackCase(ApiChecks, unittest.TestCase):
    """A stack wired to the fakes, both services signed in, the schedule off."""

    @classmethod
    def setUpClass(cls):
        FAKES.reset()
        FAKES.post("trakt", "/_control/state", {"enforce_post_rate": False})
        cls.stack = Stack(env=dict(FAKES.env(), PTS_TRAKT_POST_INTERVAL_MS="0")).start()
        body = dict(FAKES.settings())
        body["sync_interval_hours"] = 0
        st, got, _ = cls.stack.api("PUT", "/api/settings", body)
        assert st == 200, got
        cls.stack.exec(*sign_in_sql(FAKES.post("trakt", "/_control/token", {}),
                                    plex_token=FAKES.urls["plex_token"] or "plex-token"))

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()

    def api(self, method, path, body=None):
        return self.stack.api(method, path, body)

    def run_row(self, run_id):
        return next(r for r in self.get("/api/runs?limit=500")["runs"] if r["id"] == run_id)

    def wait_run(self, run_id, timeout=SYNC_TIMEOUT):
        wait_for(lambda: self.run_row(run_id)["status"] != "running", timeout=timeout,
                 step=0.1, what="run %d" % run_id)
        self.wait_idle()
        return self.run_row(run_id)

    def wait_idle(self):
        """No job of any kind left (the history refresh an undo queues included) but the live
        scrobbler's, which keeps going."""
        wait_for(lambda: not self.stack.query("SELECT id FROM jobs WHERE state IN"
                                              " ('queued','running') AND kind <> 'scrobble'"),
                 timeout=JOB_TIMEOUT, step=0.1, what="the queue to empty")

    def sync(self, **body):
        run = self.wait_run(self.post("/api/sync", body or None)["run_id"])
        self.assertEqual(run["status"], "ok", run)
        return run

    def undo(self, run_id, **body):
        got = self.post("/api/runs/%d/undo" % run_id, body or None)
        return self.wait_run(got["run_id"])

    def changes(self, run_id):
        return self.get("/api/runs/%d/changes" % run_id)["changes"]

    def conflict(self, path, reason, body=None):
        st, got, _ = self.api("POST", path, body)
        self.assertEqual(st, 409, got)
        self.assertEqual(got["error"]["code"], "conflict")
        self.assertEqual(got["error"]["reason"], reason, got)
        self.assertTrue(got["error"]["message"])
        return got

    def fake_running_job(self, kind):
        """A job row that looks running (no process behind it) to hold the queue busy."""
        conn = self.stack.db()
        try:
            cur = conn.execute("INSERT INTO jobs(kind, state, created_at, started_at)"
                               " VALUES(?, 'running', ?, ?)", (kind, int(time.time()),
                                                                int(time.time())))
            conn.commit()
            return cur.lastrowid
        finally:
            conn.close()

    def drop_job(self, job_id):
        conn = self.stack.db()
        try:
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            conn.commit()
        finally:
            conn.close()


class LogCheck:
    """The check every class ends with (a mixin: StackCase itself has no tests)."""

    def test_zz_no_sanitizer_reports(self):
        with open(self.stack.log_path, errors="replace") as f:
            log = f.read()
        self.assertIn("worker started", log)
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error"):
            at = log.find(bad)
            self.assertEqual(at, -1, "sanitizer report in the stack's output:\n" +
                             log[max(0, at - 200):at + 1500])


class TestUndo(LogCheck, StackCase):
    def test_1_undo_restores_the_history(self):
        before = history()
        run = self.sync()
        self.assertEqual(run["added_to_trakt"], ADDED, run)
        after_sync = history()
        added = set(ids_of(after_sync)) - set(ids_of(before))
        self.assertEqual(len(added), ADDED)

        # Another tool, after the sync: Elephants Dream once more in the same minute (a
        # duplicate), and at another time; a movie the sync did not touch.
        ours = next(p for p in after_sync if p["id"] in added and p["type"] == "movie"
                    and p["movie"]["ids"].get("imdb") == ELEPHANTS_IMDB)
        other = TraktUser()
        same_minute = parse_iso(ours["watched_at"]) // 60 * 60 + 30
        other.post("/sync/history", {"movies": [
            {"ids": {"imdb": ELEPHANTS_IMDB}, "watched_at": iso(same_minute)},
            {"ids": {"imdb": ELEPHANTS_IMDB}, "watched_at": iso(same_minute - 86400 * 3)},
            {"ids": {"imdb": "tt1254207"}, "watched_at": iso(same_minute)}]})
        theirs = set(ids_of(history())) - set(ids_of(after_sync))
        self.assertEqual(len(theirs), 3)

        undo = self.undo(run["id"])
        self.assertEqual((undo["trigger"], undo["status"], undo["undo_of"], undo["dry_run"]),
                         ("undo", "ok", run["id"], False), undo)
        self.assertEqual((undo["removed_from_trakt"], undo["not_found"], undo["errors"]),
                         (ADDED, 0, 0), undo)
        self.assertEqual(self.run_row(run["id"])["undone_by"], undo["id"])
        # Exactly the plays the run added are gone; everything else is still there.
        now = history()
        self.assertEqual(set(ids_of(now)), set(ids_of(before)) | theirs)
        self.assertEqual([p for p in now if p["id"] not in theirs], before)
        ch = self.changes(undo["id"])
        self.assertEqual(len(ch), ADDED)
        self.assertEqual({(c["action"], c["result"]) for c in ch}, {("remove_play_trakt", "done")})
        self.assertEqual({c["undone_by"] for c in self.changes(run["id"])
                          if c["action"] == "add_play_trakt" and c["result"] == "done"},
                         {undo["id"]})
        self.assertEqual(self.get("/api/log?level=warn&run_id=%d" % undo["id"])["entries"], [])
        TestUndo.first = run["id"]
        TestUndo.undo_run = undo["id"]
        # The other tool takes its plays back: the account is as it was at the start.
        other.post("/sync/history/remove", {"ids": sorted(theirs)})
        self.assertEqual(history(), before)

    def test_2_second_undo_and_errors(self):
        got = self.conflict("/api/runs/%d/undo" % self.first, "already_undone")
        self.assertEqual((got["undone_by"], got["error"]["undone_by"]),
                         (self.undo_run, self.undo_run))
        self.conflict("/api/runs/%d/undo" % self.undo_run, "is_undo")
        for path in ("/api/runs/999999/undo", "/api/runs/0/undo", "/api/runs/x/undo"):
            st, got, _ = self.api("POST", path)
            self.assertEqual((st, got["error"]["code"]), (404, "not_found"), path)
        st, _, hdrs = self.api("GET", "/api/runs/%d/undo" % self.first)
        self.assertEqual((st, hdrs.get("allow")), (405, "POST"))
        st, got, _ = self.api("POST", "/api/runs/%d/undo" % self.first, {"dry_run": 1})
        self.assertEqual((st, got["error"]["fields"]), (400, {"dry_run": "must be true or false"}))
        st, got, _ = self.api("POST", "/api/runs/%d/undo" % self.first, {"force": True})
        self.assertEqual((st, got["error"]["fields"]), (400, {"force": "unknown key"}))
        # No CSRF header: refused at the edge like every POST.
        st, _, _ = self.stack.request("POST", "/api/runs/%d/undo" % self.first,
                                      headers={"X-Requested-With": None})
        self.assertEqual(st, 403)

    def test_3_next_sync_adds_again_and_undo_again(self):
        # The user's Plex still says watched: the ledger no longer blocks those plays.
        before = history()
        run = self.sync(full=True)
        self.assertEqual(run["added_to_trakt"], ADDED, run)
        # A dry-run undo lists what it would remove and removes nothing.
        dry = self.undo(run["id"], dry_run=True)
        self.assertEqual((dry["status"], dry["dry_run"], dry["removed_from_trakt"]),
                         ("ok", True, ADDED), dry)
        self.assertEqual({c["result"] for c in self.changes(dry["id"])}, {"planned"})
        self.assertEqual(len(history()), len(before) + ADDED)
        self.assertIsNone(self.run_row(run["id"])["undone_by"])
        undo = self.undo(run["id"], dry_run=False)
        self.assertEqual((undo["status"], undo["removed_from_trakt"]), ("ok", ADDED), undo)
        self.assertEqual(history(), before)

    def test_4_dry_run_and_empty_runs_are_refused(self):
        dry = self.sync(dry_run=True, full=True)
        self.conflict("/api/runs/%d/undo" % dry["id"], "dry_run")
        # A sync that added nothing has nothing to undo: make Trakt already have it all.
        run = self.sync(full=True)
        self.assertEqual(run["added_to_trakt"], ADDED)
        nothing = self.sync(full=True)
        self.assertEqual(nothing["added_to_trakt"], 0, nothing)
        self.conflict("/api/runs/%d/undo" % nothing["id"], "nothing_to_undo")
        self.undo(run["id"])

    def test_5_busy(self):
        job = self.fake_running_job("sync")
        try:
            self.conflict("/api/runs/%d/undo" % self.first, "busy")
            st, got, _ = self.api("POST", "/api/sync")
            self.assertEqual(st, 409, got)
        finally:
            self.drop_job(job)

    def test_6_plays_gone_before_the_undo(self):
        # Someone removed two of the run's plays on Trakt before the undo: not_found, ok.
        before = history()
        run = self.sync(full=True)
        added = [p for p in history() if p["id"] not in set(ids_of(before))]
        TraktUser().post("/sync/history/remove", {"ids": [added[0]["id"], added[1]["id"]]})
        undo = self.undo(run["id"])
        self.assertEqual((undo["status"], undo["removed_from_trakt"], undo["not_found"]),
                         ("ok", ADDED - 2, 2), undo)
        self.assertEqual(history(), before)
        results = [c["result"] for c in self.changes(undo["id"])]
        self.assertEqual((results.count("done"), results.count("not_found")), (ADDED - 2, 2))

    def test_7_failed_undo_can_be_retried(self):
        before = history()
        run = self.sync(full=True)
        # Trakt fails every attempt of the removal: nothing is removed, the run can be undone
        # again, and the retry takes everything back.
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /sync/history/remove"],
                                                 "fail_next": [503] * 4})
        try:
            undo = self.undo(run["id"])
        finally:
            FAKES.post("trakt", "/_control/faults/reset")
        self.assertEqual((undo["status"], undo["errors"], undo["removed_from_trakt"]),
                         ("failed", ADDED, 0), undo)
        self.assertIn("undo again", undo["message"])
        self.assertIsNone(self.run_row(run["id"])["undone_by"])
        self.assertEqual({c["result"] for c in self.changes(undo["id"])}, {"failed"})
        self.assertEqual(len(history()), len(before) + ADDED)
        again = self.undo(run["id"])
        self.assertEqual((again["status"], again["removed_from_trakt"]), ("ok", ADDED), again)
        self.assertEqual(history(), before)
        self.assertEqual(self.run_row(run["id"])["undone_by"], again["id"])

    def test_8_ratings_and_watchlist(self):
        """A rating over an earlier one is put back, a new one removed; watchlist entries the
        run added come off Trakt and stay in the Plex collection."""
        cat = FAKES.get("trakt", "/_control/state?keys=catalog")["catalog"]["movies"]
        leon = next(m for m in cat if m["title"].startswith("Léon"))
        st = FAKES.get("trakt", "/_control/state?keys=ratings")
        FAKES.post("trakt", "/_control/state", {"ratings": st["ratings"] + [
            {"type": "movie", "rating": 5, "rated_at": "2020-01-01T00:00:00.000Z",
             "movie": {"ids": {"trakt": leon["ids"]["trakt"]}}}]})
        FAKES.post("plex", "/_control/state", {"collections": [
            {"title": "Watchlist", "librarySectionID": 1, "items": ["56", "104"]}]})
        self.assertEqual(self.api("PUT", "/api/settings", {
            "sync_ratings": True, "sync_watchlist": True, "ratings_conflict": "plex",
            "watchlist_plex_side": "collection"})[0], 200)
        try:
            self._ratings_and_watchlist(leon)
        finally:
            self.api("PUT", "/api/settings", {"sync_ratings": False, "sync_watchlist": False,
                                              "ratings_conflict": "newest",
                                              "watchlist_plex_side": "account"})
            FAKES.post("plex", "/_control/state", {"collections": []})

    def _ratings_and_watchlist(self, leon):
        def lists():
            st = FAKES.get("trakt", "/_control/state?keys=ratings,watchlist")
            r = sorted((x["type"], x[x["type"]]["ids"]["trakt"], x["rating"])
                       for x in st["ratings"])
            w = sorted((x["type"], x[x["type"]]["ids"]["trakt"]) for x in st["watchlist"])
            return r, w

        before, hist = lists(), history()
        self.assertIn(("movie", leon["ids"]["trakt"], 5), before[0])
        run = self.sync(full=True)
        self.assertEqual((run["ratings_changed"], run["watchlist_changed"]), (1, 2), run)
        self.assertIn(("movie", leon["ids"]["trakt"], 9), lists()[0])
        undo = self.undo(run["id"])
        self.assertEqual((undo["status"], undo["removed_from_trakt"], undo["ratings_changed"],
                          undo["watchlist_changed"]), ("ok", ADDED, 1, 2), undo)
        self.assertEqual(lists(), before)
        self.assertEqual(history(), hist)
        got = {(c["action"], c["result"]) for c in self.changes(undo["id"])}
        self.assertEqual(got, {("remove_play_trakt", "done"), ("restore_rating_trakt", "done"),
                               ("remove_watchlist_trakt", "done")})
        rating = next(c for c in self.changes(undo["id"]) if c["action"] == "restore_rating_trakt")
        self.assertEqual(rating["detail"], {"rating": 5, "was": 9})
        # The next sync adds them again (Plex still has them) and leaves the Plex collection
        # alone: the undo made the items new on Plex, not removed on Trakt.
        again = self.sync(full=True)
        self.assertEqual(again["watchlist_changed"], 2, again)
        acts = {c["action"] for c in self.changes(again["id"])}
        self.assertNotIn("watchlist_remove_plex", acts)
        coll = FAKES.get("plex", "/_control/state")["collections"]
        self.assertEqual(sorted(next(c for c in coll if c["title"] == "Watchlist")["items"]),
                         ["104", "56"])
        self.undo(again["id"])
        self.assertEqual(lists(), before)


class TestDupes(LogCheck, StackCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        st = FAKES.get("trakt", "/_control/state?keys=catalog,history")
        movies = st["catalog"]["movies"]
        show, season = next((s, n) for s in st["catalog"]["shows"] for n in s["seasons"]
                            if len(n["episodes"]) >= 2)
        base = [ref(p) for p in st["history"]]
        t = 1600000000 // 60 * 60    # a minute boundary
        m1, m2, m3 = (m["ids"]["trakt"] for m in movies[:3])
        mv = lambda mid, at: {"watched_at": iso(at), "type": "movie",
                              "movie": {"ids": {"trakt": mid}}}
        ep = lambda num, at: {"watched_at": iso(at), "type": "episode",
                              "show": {"ids": {"trakt": show["ids"]["trakt"]}},
                              "episode": {"season": season["number"], "number": num}}
        e1 = season["episodes"][0]["number"]
        e2 = season["episodes"][1]["number"]
        seeds = [mv(m1, t), mv(m1, t + 10), mv(m1, t + 50),     # 3 in one minute: 2 extra
                 mv(m1, t + 3600),                              # same movie, other time
                 mv(m2, t + 7200), mv(m2, t + 7200 + 59),       # 1 extra
                 mv(m3, t + 9000 + 59), mv(m3, t + 9000 + 61),  # next minute: not a dupe
                 ep(e1, t + 20000), ep(e1, t + 20000 + 5),      # 1 extra
                 ep(e2, t + 20000)]                             # other episode
        FAKES.post("trakt", "/_control/state", {"history": base + seeds})
        cls.t = t

    def groups(self):
        return self.get("/api/trakt/duplicates")

    def scan(self):
        got = self.post("/api/trakt/duplicates/scan")
        self.assertIsInstance(got["job_id"], int)
        self.wait_idle()
        body = self.groups()
        self.assertEqual(body["state"], "idle")
        self.assertIsNotNone(body["scanned_at"])
        self.assertIsNone(body["error"], body)
        return body

    def expected_groups(self, hist):
        """The groups computed from the history itself: item + minute, more than one play."""
        by = {}
        for p in hist:
            if p["type"] == "movie":
                key = ("movie", p["movie"]["ids"]["trakt"])
            else:
                key = ("episode", p["show"]["ids"]["trakt"], p["episode"]["season"],
                       p["episode"]["number"])
            by.setdefault(key + (parse_iso(p["watched_at"]) // 60,), []).append(p["id"])
        return sorted(sorted(v) for v in by.values() if len(v) > 1)

    def test_1_before_any_scan(self):
        body = self.groups()
        self.assertEqual((body["groups"], body["extra"], body["scanned_at"], body["state"],
                          body["removed"]), ([], 0, None, "idle", None))
        self.conflict("/api/trakt/duplicates/remove", "no_scan")

    def test_2_scan_remove_rescan(self):
        hist = history()
        want = self.expected_groups(hist)
        self.assertEqual(len(want), 3)
        body = self.scan()
        self.assertEqual(body["plays_scanned"], len(hist))
        got = sorted(g["history_ids"] for g in body["groups"])
        self.assertEqual(got, want)
        self.assertEqual(body["extra"], 4)
        for g in body["groups"]:
            self.assertEqual(g["keep"], min(g["history_ids"]))
            self.assertIn(g["type"], ("movie", "episode"))
            self.assertTrue(g["title"])
            self.assertTrue(g["watched_at"].endswith("Z"))
        ep = next(g for g in body["groups"] if g["type"] == "episode")
        self.assertTrue(ep["show"] and ep["season"] is not None and ep["episode"] is not None)
        # Scanning changed nothing; a dry-run removal neither.
        self.assertEqual(history(), hist)
        got = self.post("/api/trakt/duplicates/remove", {"dry_run": True}, status=200)
        self.assertEqual(got, {"dry_run": True, "groups": 3, "extra": 4})
        self.assertEqual(history(), hist)

        got = self.post("/api/trakt/duplicates/remove")
        self.assertEqual(got["extra"], 4)
        self.wait_idle()
        body = self.groups()
        self.assertEqual((body["groups"], body["extra"], body["removed"]), ([], 0, 4))
        extras = {i for g in want for i in g[1:]}
        self.assertEqual(ids_of(history()), sorted(set(ids_of(hist)) - extras))
        self.conflict("/api/trakt/duplicates/remove", "nothing_to_remove")
        # A rescan finds none, and again.
        for _ in range(2):
            body = self.scan()
            self.assertEqual((body["groups"], body["extra"]), ([], 0))
        self.assertEqual(ids_of(history()), sorted(set(ids_of(hist)) - extras))

    def test_3_the_oldest_left_is_kept(self):
        # Two duplicates again; after the scan another tool removes the oldest play of one
        # group: the removal keeps the oldest play still there, never the last one.
        at = self.t + 40000
        mid = FAKES.get("trakt", "/_control/state?keys=catalog")["catalog"]["movies"][4]["ids"]
        user = TraktUser()
        user.post("/sync/history", {"movies": [{"ids": mid, "watched_at": iso(at + s)}
                                               for s in (1, 2, 3)]})
        body = self.scan()
        self.assertEqual(body["extra"], 2)
        ids = body["groups"][0]["history_ids"]
        user.post("/sync/history/remove", {"ids": [ids[0]]})
        self.post("/api/trakt/duplicates/remove")
        self.wait_idle()
        left = [p["id"] for p in history() if p["id"] in ids]
        self.assertEqual(left, [ids[1]])
        body = self.groups()
        self.assertEqual((body["groups"], body["removed"]), ([], 1))

    def test_4_busy(self):
        job = self.fake_running_job("trakt_dupes_remove")
        try:
            self.conflict("/api/trakt/duplicates/scan", "busy")
            self.conflict("/api/trakt/duplicates/remove", "busy")
            self.assertEqual(self.groups()["state"], "removing")
        finally:
            self.drop_job(job)
        job = self.fake_running_job("trakt_dupes_scan")
        try:
            self.conflict("/api/trakt/duplicates/remove", "busy")
            self.assertEqual(self.groups()["state"], "scanning")
        finally:
            self.drop_job(job)
        st, got, _ = self.api("POST", "/api/trakt/duplicates/remove", {"dry_run": "yes"})
        self.assertEqual(st, 400, got)
        st, _, hdrs = self.api("DELETE", "/api/trakt/duplicates")
        self.assertEqual((st, hdrs.get("allow")), (405, "GET"))


if __name__ == "__main__":
    unittest.main()
