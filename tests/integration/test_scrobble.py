"""Live scrobbling through the real stack: its settings and GET /api/now-playing.

The settings scrobble_live (boolean, default true) and scrobble_users ("owner" | "all",
default "owner") are validated from the settings table; /api/now-playing answers from the
now_playing table the worker's scrobbler fills on each poll of Plex's /status/sessions, in
the shape of docs/API.md, with "updated_at" the time of that poll (null before the first).
"""
import json
import time
import urllib.request
import unittest

from stack import Stack


class NowPlayingCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack().start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()

    def test_settings_defaults_and_rules(self):
        st, body, _ = self.stack.api("GET", "/api/settings")
        self.assertEqual(st, 200)
        self.assertIs(body["scrobble_live"], True)
        self.assertEqual(body["scrobble_users"], "owner")
        st, body, _ = self.stack.api("PUT", "/api/settings", {"scrobble_users": "everyone"})
        self.assertEqual(st, 400)
        self.assertIn("scrobble_users", body["error"]["fields"])
        st, body, _ = self.stack.api("PUT", "/api/settings", {"scrobble_live": "yes"})
        self.assertEqual(st, 400)
        self.assertIn("scrobble_live", body["error"]["fields"])
        st, body, _ = self.stack.api("PUT", "/api/settings",
                                     {"scrobble_live": False, "scrobble_users": "all"})
        self.assertEqual(st, 200)
        st, body, _ = self.stack.api("GET", "/api/settings")
        self.assertIs(body["scrobble_live"], False)
        self.assertEqual(body["scrobble_users"], "all")
        self.stack.api("PUT", "/api/settings", {"scrobble_live": True, "scrobble_users": "owner"})

    def test_now_playing_empty_then_rows(self):
        conn = self.stack.db()
        try:
            conn.execute("DELETE FROM now_playing")
            conn.execute("DELETE FROM meta WHERE key = 'now_playing_at'")
            conn.commit()
        finally:
            conn.close()
        st, body, _ = self.stack.api("GET", "/api/now-playing")
        self.assertEqual(st, 200)
        self.assertEqual(body, {"sessions": [], "updated_at": None})
        now = int(time.time())
        conn = self.stack.db()
        try:
            conn.execute(
                "INSERT INTO now_playing(session_key, rating_key, type, title, show, season,"
                " episode, year, user, player, state, progress, trakt, seen_at) VALUES"
                " ('7', '323', 'episode', 'Cancer Man', 'Breaking Bad', 1, 4, NULL, 'plexuser',"
                " 'Plex Web', 'paused', 42.26, 'paused', ?),"
                " ('8', '102', 'movie', 'The Dark Knight', NULL, NULL, NULL, 2008, 'guest',"
                " 'TV', 'playing', 10, 'ignored', ?)", (now, now + 1))
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('now_playing_at', ?)",
                         (str(now),))
            conn.commit()
        finally:
            conn.close()
        st, body, _ = self.stack.api("GET", "/api/now-playing")
        self.assertEqual(st, 200)
        self.assertEqual(body["updated_at"],
                         time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)))
        self.assertEqual(body["sessions"], [
            {"type": "episode", "title": "Cancer Man", "show": "Breaking Bad", "season": 1,
             "episode": 4, "year": None, "user": "plexuser", "player": "Plex Web",
             "state": "paused", "progress": 42.3, "trakt": "paused",
             "profile": None},
            {"type": "movie", "title": "The Dark Knight", "show": None, "season": None,
             "episode": None, "year": 2008, "user": "guest", "player": "TV",
             "state": "playing", "progress": 10, "trakt": "ignored",
             "profile": None}])


if __name__ == "__main__":
    unittest.main()


# ==== the scrobbler against the fakes ====

from fakes import Fakes  # noqa: E402
from stack import wait_for  # noqa: E402

POLL_MS = 150          # PTS_SCROBBLE_POLL_MS: the worker polls Plex's sessions this often
WAIT_S = 30
MOVIE = "102"          # The Dark Knight (imdb tt0468569), corpus duration in ms below
EPISODE = "91"         # The 100 S01E02 (legacy agent: the show's tvdb id in its guid)
UNMATCHED = None       # an item without any id, found in the corpus at setUp


class LiveCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fakes = Fakes().start()
        env = dict(cls.fakes.env())
        env["PTS_SCROBBLE_POLL_MS"] = str(POLL_MS)
        cls.stack = Stack(env=env).start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()
        cls.fakes.stop()

    def setUp(self):
        f = self.fakes
        self.set_sessions([])
        if f.get("plex", "/_control/sessions")["polls"] > 0:
            self.wait_polls()     # the last test's streams ended before the fakes restart
        f.reset()
        tok = f.post("trakt", "/_control/token", {})
        conn = self.stack.db()
        try:
            for k, v in f.settings().items():
                conn.execute("INSERT OR REPLACE INTO settings(key, value) VALUES(?, ?)", (k, v))
            conn.execute("UPDATE auth SET state = 'authorized', access_token = ?,"
                         " refresh_token = ?, token_expires_at = ?, user = 'traktuser'"
                         " WHERE service = 'trakt'", (tok["access_token"], tok["refresh_token"],
                                                      tok["created_at"] + tok["expires_in"]))
            conn.execute("UPDATE auth SET state = 'authorized', access_token = 'plex-token-1',"
                         " user = 'plexuser' WHERE service = 'plex'")
            # Each test starts from an empty ledger, as the fakes start from their corpus.
            for t in ("changes", "batches", "progress", "rate_samples", "now_playing"):
                conn.execute("DELETE FROM " + t)
            conn.execute("DELETE FROM runs WHERE trigger = 'scrobble'")
            conn.execute("DELETE FROM settings WHERE key IN ('scrobble_live', 'scrobble_users',"
                         " 'dry_run', 'sync_direction', 'sync_watched')")
            conn.commit()
        finally:
            conn.close()
        self.wait_polls()
        self.duration = {}
        for rk in (MOVIE, EPISODE):
            self.duration[rk] = self.plex_item(rk)["duration"]

    # ---- helpers ----
    def plex_item(self, rk):
        req = urllib.request.Request(self.fakes.urls["plex"] + "/library/metadata/" + rk,
                                     headers={"Accept": "application/json",
                                              "X-Plex-Token": "plex-token-1"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["MediaContainer"]["Metadata"][0]

    def set_sessions(self, sessions):
        self.fakes.post("plex", "/_control/sessions", {"sessions": sessions})

    def wait_polls(self, n=3):
        """The worker has polled the sessions n more times (so it has seen the last change)."""
        start = self.fakes.get("plex", "/_control/sessions")["polls"]
        wait_for(lambda: self.fakes.get("plex", "/_control/sessions")["polls"] >= start + n,
                 timeout=WAIT_S, step=0.05, what="%d session polls" % n)

    def play(self, rk, percent, state="playing", key="1", user_id="1", user="plexuser"):
        return {"sessionKey": key, "ratingKey": rk, "state": state, "user_id": user_id,
                "user": user, "viewOffset": int(self.duration.get(rk, 6_000_000) * percent / 100)}

    def calls(self):
        return self.fakes.get("trakt", "/_control/scrobble_calls")["calls"]

    def plays_of(self, movie_imdb=None):
        return [p for p in self.fakes.history()
                if p["type"] == "movie" and p["movie"]["ids"].get("imdb") == movie_imdb]

    def now_playing(self):
        st, body, _ = self.stack.api("GET", "/api/now-playing")
        self.assertEqual(st, 200)
        return body

    def step(self, sessions):
        self.set_sessions(sessions)
        self.wait_polls()

    # ---- tests ----
    def test_movie_viewing_start_pause_start_stop_one_play(self):
        before = len(self.plays_of("tt0468569"))
        guest = self.play(EPISODE, 30, key="9", user_id="4242", user="guest")
        self.step([self.play(MOVIE, 10), guest])
        np = self.now_playing()
        self.assertIsNotNone(np["updated_at"])
        by_user = {s["user"]: s for s in np["sessions"]}
        self.assertEqual(by_user["plexuser"]["trakt"], "watching")
        self.assertEqual(by_user["plexuser"]["title"], "The Dark Knight")
        self.assertEqual(by_user["plexuser"]["state"], "playing")
        self.assertAlmostEqual(by_user["plexuser"]["progress"], 10, delta=0.2)
        self.assertEqual(by_user["guest"]["trakt"], "ignored")
        self.step([self.play(MOVIE, 40, "paused"), guest])
        self.assertEqual({s["user"]: s["trakt"] for s in self.now_playing()["sessions"]},
                         {"plexuser": "paused", "guest": "ignored"})
        self.step([self.play(MOVIE, 41), guest])
        self.step([self.play(MOVIE, 95), guest])
        self.step([])
        self.assertEqual(self.now_playing()["sessions"], [])
        calls = self.calls()
        self.assertEqual([c["action"] for c in calls], ["start", "pause", "start", "stop"],
                         calls)
        self.assertTrue(all(c["item"][0] == "movie" for c in calls), calls)
        self.assertEqual([round(c["progress"]) for c in calls], [10, 40, 41, 95])
        self.assertEqual(len(self.plays_of("tt0468569")), before + 1)
        runs = self.stack.query("SELECT * FROM runs WHERE trigger = 'scrobble'")
        self.assertEqual(len(runs), 1)
        self.assertEqual((runs[0]["status"], runs[0]["added_to_trakt"]), ("ok", 1))
        st, body, _ = self.stack.api("GET", "/api/runs/%d/changes" % runs[0]["id"])
        self.assertEqual(st, 200, body)
        ch = body["changes"]
        self.assertEqual([(c["action"], c["result"]) for c in ch], [("add_play_trakt", "done")])
        st, body, _ = self.stack.api("GET", "/api/runs")
        self.assertIn("scrobble", [r["trigger"] for r in body["runs"]])

    def webhook(self, meta):
        """Plex's media.scrobble webhook for meta; the run it made, once it ended."""
        st, body, _ = self.stack.api("GET", "/api/webhooks/plex")
        self.assertEqual(st, 200, body)
        payload = {"event": "media.scrobble", "user": True, "owner": True,
                   "Account": {"id": 1, "title": "plexuser"},
                   "Server": {"title": "NAS", "uuid": "elsewhere"},
                   "Player": {"local": True, "title": "Plex Web", "uuid": "p1"},
                   "Metadata": meta}
        b = "----PlexWebhookScrobbleTest"
        raw = (b"--" + b.encode() + b"\r\nContent-Disposition: form-data; name=\"payload\"\r\n"
               b"Content-Type: application/json\r\n\r\n" + json.dumps(payload).encode() +
               b"\r\n--" + b.encode() + b"--\r\n")
        st, _, data = self.stack.request("POST", body["url_path"], raw=raw, headers={
            "Content-Type": "multipart/form-data; boundary=" + b})
        self.assertEqual(st, 202, data)
        run_id = json.loads(data)["run_id"]

        def done():
            r = self.stack.query("SELECT * FROM runs WHERE id = ?", run_id)
            return r and r[0]["status"] not in ("queued", "running") and r[0]
        return wait_for(done, timeout=WAIT_S, step=0.1, what="webhook run")

    def viewing(self, rk, percent=95):
        self.step([self.play(rk, 10)])
        self.step([self.play(rk, percent)])
        self.step([])

    def test_sync_and_webhook_after_live_play_add_nothing_rewatch_adds(self):
        before = len(self.plays_of("tt0468569"))
        self.viewing(MOVIE)
        self.assertEqual(len(self.plays_of("tt0468569")), before + 1)
        # Plex marks it watched on its own, a few minutes after the last poll saw it: the
        # live play is moved 150 s back, Plex's view (and its webhook) is now.
        conn = self.stack.db()
        try:
            conn.execute("UPDATE changes SET watched_at = watched_at - 150 WHERE"
                         " item_key = 'movie:imdb:tt0468569'")
            conn.commit()
        finally:
            conn.close()
        viewed = int(time.time())
        self.fakes.post("plex", "/_control/viewed", {"ratingKey": MOVIE, "at": viewed})
        meta = dict(self.plex_item(MOVIE))
        meta.update({"lastViewedAt": viewed, "viewedAt": viewed, "librarySectionType": "movie"})
        run = self.webhook(meta)
        self.assertEqual((run["status"], run["added_to_trakt"]), ("ok", 0), run)
        self.assertEqual(run["message"], "already on Trakt for this viewing")
        st, body, _ = self.stack.api("POST", "/api/sync", {"full": True})
        self.assertEqual(st, 202, body)
        wait_for(lambda: self.stack.query("SELECT status FROM runs WHERE id = ?",
                                          body["run_id"])[0]["status"] in ("ok", "failed"),
                 timeout=120, step=0.2, what="the full sync")
        self.assertEqual(self.stack.query("SELECT status FROM runs WHERE id = ?",
                                          body["run_id"])[0]["status"], "ok")
        self.assertEqual(len(self.plays_of("tt0468569")), before + 1)
        # Hours later (the ledger's play moved back four hours): a rewatch is a second play.
        conn = self.stack.db()
        try:
            conn.execute("UPDATE changes SET watched_at = watched_at - 4 * 3600 WHERE"
                         " item_key = 'movie:imdb:tt0468569'")
            conn.commit()
        finally:
            conn.close()
        self.viewing(MOVIE, 88)
        self.assertEqual(len(self.plays_of("tt0468569")), before + 2)
        self.assertEqual(len(self.stack.query(
            "SELECT id FROM runs WHERE trigger = 'scrobble' AND added_to_trakt = 1")), 2)

    def test_episode_two_clients_and_unmatched(self):
        unmatched = next(rk for rk, it in self.fakes_items().items()
                         if it["type"] == "movie" and not it.get("Guid")
                         and (it.get("guid") or "").startswith(("local://", "com.plexapp.agents.none")))
        self.step([self.play(EPISODE, 20, key="1"), self.play(MOVIE, 50, key="2"),
                   self.play(unmatched, 10, key="3")])
        np = {s["title"]: s for s in self.now_playing()["sessions"]}
        self.assertEqual(len(np), 3, np)
        ep = np["Earth Skills"]
        self.assertEqual((ep["type"], ep["show"], ep["season"], ep["episode"], ep["trakt"]),
                         ("episode", "The 100", 1, 2, "watching"))
        self.assertEqual(np["The Dark Knight"]["trakt"], "watching")
        self.assertEqual([s["trakt"] for t, s in np.items()
                          if t not in ("Earth Skills", "The Dark Knight")], ["unmatched"])
        self.step([self.play(EPISODE, 96, key="1"), self.play(MOVIE, 60, key="2")])
        self.step([self.play(MOVIE, 61, key="2")])
        calls = self.calls()
        eps = [c for c in calls if c["item"][0] == "episode"]
        self.assertEqual([c["action"] for c in eps], ["start", "stop"])
        self.assertAlmostEqual(eps[1]["progress"], 96, delta=0.1)
        movies = [c for c in calls if c["item"][0] == "movie"]
        self.assertEqual([c["action"] for c in movies], ["start"])
        self.step([])
        movies = [c["action"] for c in self.calls() if c["item"][0] == "movie"]
        self.assertEqual(movies, ["start", "stop"])
        runs = self.stack.query("SELECT * FROM runs WHERE trigger = 'scrobble'")
        self.assertEqual([r["added_to_trakt"] for r in runs], [1])   # the movie stopped at 61 %

    def test_lost_stop_answer_leaves_one_play(self):
        before = len(self.plays_of("tt0468569"))
        self.fakes.post("trakt", "/_control/faults", {"only": ["POST /scrobble/stop"],
                                                      "fail_next": ["lost"]})
        self.step([self.play(MOVIE, 10)])
        self.step([self.play(MOVIE, 92)])
        self.step([])
        self.fakes.post("trakt", "/_control/faults", {"only": [], "fail_next": []})
        self.assertEqual(len(self.plays_of("tt0468569")), before + 1)
        self.assertEqual([c["action"] for c in self.calls()], ["start", "stop"])
        runs = self.stack.query("SELECT * FROM runs WHERE trigger = 'scrobble'")
        self.assertEqual(len(runs), 1)
        res = self.stack.query("SELECT result FROM changes WHERE run_id = ?", runs[0]["id"])
        self.assertEqual([r["result"] for r in res], ["done"])

    def test_off_and_other_accounts(self):
        conn = self.stack.db()
        try:
            conn.execute("INSERT OR REPLACE INTO settings(key, value) VALUES('scrobble_users',"
                         " 'all')")
            conn.commit()
        finally:
            conn.close()
        self.step([self.play(MOVIE, 10, user_id="4242", user="guest")])
        self.assertEqual([s["trakt"] for s in self.now_playing()["sessions"]], ["watching"])
        st, _, _ = self.stack.api("PUT", "/api/settings", {"scrobble_live": False})
        self.assertEqual(st, 200)
        wait_for(lambda: self.now_playing()["sessions"] == [], timeout=WAIT_S, step=0.1,
                 what="the sessions forgotten")
        st, _, _ = self.stack.api("PUT", "/api/settings", {"scrobble_live": True})
        self.wait_polls()

    def fakes_items(self):
        req = urllib.request.Request(self.fakes.urls["plex"] + "/library/sections",
                                     headers={"Accept": "application/json",
                                              "X-Plex-Token": "plex-token-1"})
        out = {}
        with urllib.request.urlopen(req, timeout=10) as r:
            secs = json.loads(r.read())["MediaContainer"]["Directory"]
        for s in secs:
            if s["type"] != "movie":
                continue
            req = urllib.request.Request(
                self.fakes.urls["plex"] + "/library/sections/%s/all?type=1&includeGuids=1"
                % s["key"], headers={"Accept": "application/json",
                                     "X-Plex-Token": "plex-token-1"})
            with urllib.request.urlopen(req, timeout=10) as r:
                for it in json.loads(r.read())["MediaContainer"].get("Metadata", []):
                    out[it["ratingKey"]] = it
        return out
