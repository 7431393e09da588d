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
from syncenv import OwnStackCase, clear_sql, settings_sql, sign_in_sql
from webhooks import plex_event, post_webhook


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
        self.stack.exec("DELETE FROM now_playing", "DELETE FROM meta WHERE key = 'now_playing_at'")
        st, body, _ = self.stack.api("GET", "/api/now-playing")
        self.assertEqual(st, 200)
        self.assertEqual(body, {"sessions": [], "updated_at": None})
        now = int(time.time())
        self.stack.exec(
            ("INSERT INTO now_playing(session_key, rating_key, type, title, show, season,"
             " episode, year, user, player, state, progress, trakt, seen_at) VALUES"
             " ('7', '323', 'episode', 'Cancer Man', 'Breaking Bad', 1, 4, NULL, 'plexuser',"
             " 'Plex Web', 'paused', 42.26, 'paused', ?),"
             " ('8', '102', 'movie', 'The Dark Knight', NULL, NULL, NULL, 2008, 'guest',"
             " 'TV', 'playing', 10, 'ignored', ?)", now, now + 1),
            # A stream that ended scrobbled is listed until its shown_until, then not.
            ("INSERT INTO now_playing(session_key, rating_key, type, title, year, state,"
             " progress, trakt, seen_at, shown_until) VALUES ('done:5:103', '103', 'movie',"
             " 'Gone', 2001, 'playing', 96, 'scrobbled', ?, ?)", now - 100, now - 1),
            ("INSERT OR REPLACE INTO meta(key, value) VALUES('now_playing_at', ?)", str(now)))
        st, body, _ = self.stack.api("GET", "/api/now-playing")
        self.assertEqual(st, 200)
        self.assertEqual(body["updated_at"],
                         time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)))
        self.assertEqual(body["sessions"], [
            {"type": "episode", "title": "Cancer Man", "show": "Breaking Bad", "season": 1,
             "episode": 4, "year": None, "user": "plexuser", "player": "Plex Web",
             "state": "paused", "progress": 42.3, "trakt": "paused", "poster": None,
             "profile": None},
            {"type": "movie", "title": "The Dark Knight", "show": None, "season": None,
             "episode": None, "year": 2008, "user": "guest", "player": "TV",
             "state": "playing", "progress": 10, "trakt": "ignored", "poster": None,
             "profile": None}])


if __name__ == "__main__":
    unittest.main()


# ==== the scrobbler against the fakes ====

from stack import wait_for  # noqa: E402

POLL_MS = 150          # PTS_SCROBBLE_POLL_MS: the worker polls Plex's sessions this often
WAIT_S = 30
MOVIE = "102"          # The Dark Knight (imdb tt0468569), corpus duration in ms below
EPISODE = "91"         # The 100 S01E02 (legacy agent: the show's tvdb id in its guid)
UNMATCHED = None       # an item without any id, found in the corpus at setUp


class LiveCase(OwnStackCase):
    stack_env = {"PTS_SCROBBLE_POLL_MS": str(POLL_MS)}

    def setUp(self):
        f = self.fakes
        self.set_sessions([])
        if f.get("plex", "/_control/sessions")["polls"] > 0:
            self.wait_polls()     # the last test's streams ended before the fakes restart
        f.reset()
        tok = f.post("trakt", "/_control/token", {})
        self.trakt_token = tok["access_token"]
        # Each test starts from an empty ledger, as the fakes start from their corpus.
        self.stack.exec(*settings_sql(f.settings()), *sign_in_sql(tok),
                        *clear_sql("changes", "batches", "progress", "rate_samples",
                                   "now_playing"),
                        "DELETE FROM runs WHERE trigger = 'scrobble'",
                        "DELETE FROM settings WHERE key IN ('scrobble_live', 'scrobble_users',"
                        " 'dry_run', 'sync_direction', 'sync_watched')")
        self.wait_polls()
        self.duration = {}
        for rk in (MOVIE, EPISODE):
            self.duration[rk] = self.plex_item(rk)["duration"]

    # ---- helpers ----
    def plex_get(self, path):
        """The fake Plex server's MediaContainer at path, as the owner reads it."""
        req = urllib.request.Request(self.fakes.urls["plex"] + path,
                                     headers={"Accept": "application/json",
                                              "X-Plex-Token": "plex-token-1"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["MediaContainer"]

    def plex_item(self, rk):
        return self.plex_get("/library/metadata/" + rk)["Metadata"][0]

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
        # The stream that ended with its play on Trakt stays a moment, "scrobbled"; the
        # other account's went at once.
        np = self.now_playing()["sessions"]
        self.assertEqual([(x["title"], x["user"], x["trakt"]) for x in np],
                         [("The Dark Knight", "plexuser", "scrobbled")])
        self.assertAlmostEqual(np[0]["progress"], 95, delta=0.2)
        until = self.stack.query("SELECT shown_until - seen_at AS d FROM now_playing")
        self.assertEqual(len(until), 1)
        self.assertTrue(55 <= until[0]["d"] <= 65, until)     # PTS_SCROBBLE_SHOWN_S
        self.stack.exec("UPDATE now_playing SET shown_until = strftime('%s', 'now') - 1")
        self.assertEqual(self.now_playing()["sessions"], [])
        self.wait_polls()
        self.assertEqual(self.stack.query("SELECT session_key FROM now_playing"), [])
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
        st, ran, _ = post_webhook(self.stack, body["url_path"], plex_event(meta, "elsewhere"),
                                  boundary="----PlexWebhookScrobbleTest")
        self.assertEqual(st, 202, ran)
        return self.stack.wait_run(ran["run_id"], timeout=WAIT_S, what="webhook run")

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
        self.stack.exec("UPDATE changes SET watched_at = watched_at - 150 WHERE"
                        " item_key = 'movie:imdb:tt0468569'")
        viewed = int(time.time())
        self.fakes.post("plex", "/_control/viewed", {"ratingKey": MOVIE, "at": viewed})
        meta = dict(self.plex_item(MOVIE))
        meta.update({"lastViewedAt": viewed, "viewedAt": viewed, "librarySectionType": "movie"})
        run = self.webhook(meta)
        self.assertEqual((run["status"], run["added_to_trakt"]), ("ok", 0), run)
        self.assertEqual(run["message"], "already on Trakt for this viewing")
        self.sync()
        self.assertEqual(len(self.plays_of("tt0468569")), before + 1)
        # Hours later (the ledger's play moved back four hours): a rewatch is a second play.
        self.stack.exec("UPDATE changes SET watched_at = watched_at - 4 * 3600 WHERE"
                        " item_key = 'movie:imdb:tt0468569'")
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
        self.stack.exec("INSERT OR REPLACE INTO settings(key, value) VALUES('scrobble_users',"
                        " 'all')")
        self.step([self.play(MOVIE, 10, user_id="4242", user="guest")])
        self.assertEqual([s["trakt"] for s in self.now_playing()["sessions"]], ["watching"])
        st, _, _ = self.stack.api("PUT", "/api/settings", {"scrobble_live": False})
        self.assertEqual(st, 200)
        wait_for(lambda: self.now_playing()["sessions"] == [], timeout=WAIT_S, step=0.1,
                 what="the sessions forgotten")
        st, _, _ = self.stack.api("PUT", "/api/settings", {"scrobble_live": True})
        self.wait_polls()

    # ---- the same viewing from Trakt's side, the race, the id index, posters ----
    def trakt_add_play(self, imdb, at):
        """Another app adds a play of a movie on Trakt (POST /sync/history with our token)."""
        body = {"movies": [{"ids": {"imdb": imdb},
                            "watched_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                                                        time.gmtime(at))}]}
        got = self.fakes.trakt_as(self.trakt_token, "/sync/history", body)
        self.assertEqual(got["added"]["movies"], 1)

    def sync(self):
        """A full sync through the API; its run once it ended (ok)."""
        st, body, _ = self.stack.api("POST", "/api/sync", {"full": True})
        self.assertEqual(st, 202, body)
        run = self.stack.wait_run(body["run_id"], timeout=120, step=0.2, what="the full sync")
        self.assertEqual(run["status"], "ok", run)
        return run

    def movies_with_imdb(self):
        """Plex movies with an imdb Guid: {ratingKey: (imdb, item)}."""
        out = {}
        for rk, it in self.fakes_items().items():
            for g in it.get("Guid") or []:
                if g["id"].startswith("imdb://"):
                    out[rk] = (g["id"][len("imdb://"):], it)
        return out

    def test_another_apps_play_is_the_same_viewing_a_later_view_is_not(self):
        movies = self.movies_with_imdb()
        other = next(rk for rk in sorted(movies) if rk != MOVIE)
        a_imdb, b_imdb = movies[MOVIE][0], movies[other][0]
        self.sync()                        # a good sync before: its checkpoint dates new views
        before_a, before_b = len(self.plays_of(a_imdb)), len(self.plays_of(b_imdb))
        now = int(time.time())
        # Another app scrobbled A at T; Plex stamps its own view of it at T + 2 min. B was
        # played elsewhere six hours ago and watched again in Plex now.
        self.trakt_add_play(a_imdb, now - 90)
        self.trakt_add_play(b_imdb, now - 6 * 3600)
        self.fakes.post("plex", "/_control/viewed", {"ratingKey": MOVIE, "at": now + 30})
        self.fakes.post("plex", "/_control/viewed", {"ratingKey": other, "at": now})
        meta = dict(self.plex_item(MOVIE))
        meta.update({"lastViewedAt": now + 30, "viewedAt": now + 30,
                     "librarySectionType": "movie"})
        run = self.webhook(meta)
        self.assertEqual((run["status"], run["added_to_trakt"]), ("ok", 0), run)
        self.assertEqual(run["message"], "already on Trakt for this viewing")
        self.sync()
        self.assertEqual(len(self.plays_of(a_imdb)), before_a + 1)   # the other app's only
        self.assertEqual(len(self.plays_of(b_imdb)), before_b + 2)   # the rewatch added
        added = [p for p in self.plays_of(b_imdb)
                 if p["watched_at"].startswith(time.strftime("%Y-%m-%dT%H:%M",
                                                             time.gmtime(now)))]
        self.assertEqual(len(added), 1, self.plays_of(b_imdb))

    def test_stop_and_sync_at_the_same_moment_one_play(self):
        trakt = {p["movie"]["ids"].get("imdb") for p in self.fakes.history()
                 if p["type"] == "movie"}
        rk, (imdb, it) = next((rk, v) for rk, v in sorted(self.movies_with_imdb().items())
                              if v[0] not in trakt and not v[1].get("viewCount"))
        self.duration[rk] = it["duration"]
        self.step([self.play(rk, 10)])
        self.step([self.play(rk, 95)])
        # Trakt's answer to the stop slowed: it is in flight while the sync reads Trakt's
        # watched state (without it), plans the play and opens its batch.
        self.fakes.post("trakt", "/_control/faults", {
            "only": ["POST /scrobble/stop"], "latency_ms": 6000})
        try:
            # Plex stamps its view (the sync would add it) as the stream ends.
            self.fakes.post("plex", "/_control/viewed", {"ratingKey": rk,
                                                         "at": int(time.time()) + 90})
            self.set_sessions([])
            st, body, _ = self.stack.api("POST", "/api/sync", {"full": True})
            self.assertEqual(st, 202, body)
            wait_for(lambda: self.stack.query(
                "SELECT COUNT(*) AS n FROM runs WHERE (id = ? OR trigger = 'scrobble') AND"
                " status IN ('queued', 'running')", body["run_id"])[0]["n"] == 0 and
                self.stack.query("SELECT COUNT(*) AS n FROM runs WHERE trigger = 'scrobble'"
                                 )[0]["n"] == 1, timeout=120, step=0.2, what="both runs")
        finally:
            self.fakes.post("trakt", "/_control/faults", {"only": [], "latency_ms": 0})
        self.assertEqual(self.stack.query("SELECT status FROM runs WHERE id = ?",
                                          body["run_id"])[0]["status"], "ok")
        self.assertEqual(len(self.plays_of(imdb)), 1, self.plays_of(imdb))
        # It was a race, and one side found the other's play pending under the write lock:
        # the sync planned the play (Trakt did not have it when it read) and skipped it, or
        # the live stop found the sync's batch and sent nothing.
        lines = [r["message"] for r in self.stack.query(
            "SELECT message FROM log WHERE run_id = ? ORDER BY id", body["run_id"])]
        sync_skipped = any("already on Trakt for the same viewing" in m for m in lines)
        live = self.stack.query("SELECT message FROM runs WHERE trigger = 'scrobble'")[0]
        live_skipped = live["message"] == "already on Trakt for this viewing"
        self.assertTrue(sync_skipped != live_skipped, (lines, live))
        self.assertEqual([c["action"] for c in self.calls()],
                         ["start"] if live_skipped else ["start", "stop"])

    def test_new_agent_episode_matched_from_the_sync_id_index(self):
        ep = "323"        # Breaking Bad S01E04: the show (300) is named only by plex://show/
        self.stack.exec("DELETE FROM id_map")
        show_calls = lambda: self.fakes.calls("plex")["calls"].get(  # noqa: E731
            "GET /library/metadata/300", 0)
        # No sync has seen the show: one request for its ids, kept for the next session.
        self.fakes.post("plex", "/_control/calls/reset")
        self.step([self.play(ep, 10, key="4")])
        self.assertEqual(show_calls(), 1)
        self.step([])
        self.step([self.play(ep, 12, key="5")])
        self.assertEqual(show_calls(), 1)
        self.step([])
        # After a sync has listed the show: none at all.
        self.stack.exec("DELETE FROM id_map")
        self.sync()
        self.assertEqual(len(self.stack.query(
            "SELECT plex_guid FROM id_map WHERE type = 'show' AND tvdb = 81189")), 1)
        self.fakes.post("plex", "/_control/calls/reset")
        self.step([self.play(ep, 20, key="6")])
        self.assertEqual(show_calls(), 0)
        np = self.now_playing()["sessions"]
        self.assertEqual([(x["show"], x["episode"], x["trakt"]) for x in np],
                         [("Breaking Bad", 4, "watching")])
        starts = [c for c in self.calls() if c["action"] == "start"]
        self.assertEqual(len(starts), 3, starts)
        self.assertTrue(all(c["item"][0] == "episode" for c in starts), starts)

    def test_poster_of_a_new_stream_placeholder_without_one(self):
        self.step([self.play(MOVIE, 10, key="1"), self.play("109", 10, key="2")])

        def posters():
            np = {x["title"]: x for x in self.now_playing()["sessions"]}
            return np if np["The Dark Knight"]["poster"] else None
        np = wait_for(posters, timeout=WAIT_S, step=0.1, what="the poster looked up")
        self.assertRegex(np["The Dark Knight"]["poster"],
                         r"^/posters/[A-Za-z0-9_-]+\.(jpg|png|webp)$")
        self.assertIsNone(np["Home Video 2019"]["poster"])          # no ids: a placeholder
        st, _, data = self.stack.request("GET", np["The Dark Knight"]["poster"])
        self.assertEqual(st, 200)
        self.assertGreater(len(data), 100)
        # Looked up once per item, off the poll loop: a job of its own, and the cache after.
        jobs = self.stack.query("SELECT state FROM jobs WHERE kind = 'now_playing_posters'")
        self.assertGreaterEqual(len(jobs), 1)
        tmdb = self.fakes.calls("tmdb")["total"]
        self.step([])
        self.step([self.play(MOVIE, 30, key="7")])
        wait_for(posters, timeout=WAIT_S, step=0.1, what="the poster again")
        self.assertEqual(self.fakes.calls("tmdb")["total"], tmdb)

    def fakes_items(self):
        out = {}
        for s in self.plex_get("/library/sections")["Directory"]:
            if s["type"] != "movie":
                continue
            mc = self.plex_get("/library/sections/%s/all?type=1&includeGuids=1" % s["key"])
            for it in mc.get("Metadata", []):
                out[it["ratingKey"]] = it
        return out
